/**
 * abstract-level's own test suite (tape) against `StrataLevel` on the Node file system, each
 * database in a fresh directory under one temporary directory, removed at the end. The suite runs
 * itself a second time on a sublevel of each database. Run by `abstractLevel.test.ts`:
 * `node --import tsx test/level/abstractLevel.tape.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "tape"
import { StrataLevel, type StrataLevelOptions } from "../../src/Level.js"

const require = createRequire(import.meta.url)
const suite = require("abstract-level/test") as (options: {
  readonly test: typeof test
  readonly factory: (options?: StrataLevelOptions<unknown, unknown>) => StrataLevel<unknown, unknown>
}) => void

const root = mkdtempSync(join(tmpdir(), "stratadb-level-"))
let databases = 0

suite({
  test,
  factory: (options) => new StrataLevel(join(root, `db${databases++}`), options)
})

// At exit, also when a test throws and ends the process early. Before tape's own exit listener,
// which removes every listener and calls process.exit when an assertion failed.
process.prependListener("exit", () => rmSync(root, { recursive: true, force: true }))
