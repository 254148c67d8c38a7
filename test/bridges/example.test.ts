/**
 * The README's example is examples/basic.ts, character for character. It runs as written on
 * `Db.layerNode` (what the example's script uses), on stratadb's NodeSyncFileSystem, on @effect/platform-node's own
 * NodeContext layer and on MemoryFileSystem, and a reopen finds its writes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
// Option-aware: chai's deepStrictEqual takes Option.some(x) and Option.none() for equal.
import { deepStrictEqual } from "@effect/vitest/utils"
import { Effect, Option } from "effect"
import { program, reopened } from "../../examples/basic.js"
import { program as keyValueProgram } from "../../examples/keyValueStore.js"
// @ts-expect-error: a plain JavaScript example, without declarations
import { main as levelMain } from "../../examples/level.mjs"
import * as StrataKeyValueStore from "../../src/KeyValueStore.js"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"

/** Runs the example, then reopens its directory. */
const runAndReopen = (directory: string) =>
  Effect.gen(function* () {
    yield* program.pipe(Effect.provide(Db.layer({ directory })))
    const v = yield* reopened.pipe(Effect.provide(Db.layer({ directory })))
    deepStrictEqual(v, Option.some('{"token":"abc"}'))
  })

describe("the README example", () => {
  it("is examples/basic.ts", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const section = readme.slice(readme.indexOf("\n## Example\n"), readme.indexOf("\n## Operations\n"))
    const block = /\n```ts\n([\s\S]*?)```\n/.exec(section)
    assert.isNotNull(block, "README's Example section has a ts code block")
    assert.strictEqual(block![1], readFileSync(new URL("../../examples/basic.ts", import.meta.url), "utf8"))
  })

  it.scoped("runs on Db.layerNode (what the example's script uses) and survives a reopen", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-example-" })
      yield* program.pipe(Effect.provide(Db.layerNode({ directory })))
      const v = yield* reopened.pipe(Effect.provide(Db.layerNode({ directory })))
      deepStrictEqual(v, Option.some('{"token":"abc"}'))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("runs on NodeSyncFileSystem.layer and survives a reopen", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-example-" })
      yield* runAndReopen(directory).pipe(Effect.provide(NodeSyncFileSystem.layer))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("runs on NodeContext.layer and survives a reopen", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-example-" })
      yield* runAndReopen(directory)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("runs on MemoryFileSystem.layer", () =>
    runAndReopen("/data").pipe(Effect.provide(MemoryFileSystem.layer))
  )
})

describe("the README's KeyValueStore example", () => {
  it("is examples/keyValueStore.ts", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const section = readme.slice(readme.indexOf("\n## Effect's KeyValueStore\n"), readme.indexOf("\n## Operations\n"))
    const block = /\n```ts\n([\s\S]*?)```\n/.exec(section)
    assert.isNotNull(block, "README's KeyValueStore section has a ts code block")
    assert.strictEqual(block![1], readFileSync(new URL("../../examples/keyValueStore.ts", import.meta.url), "utf8"))
  })

  const expected = { greeting: Option.some("hello"), entries: 2 }

  it.scoped("runs on layerNode (what its script uses)", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-kv-example-" })
      const result = yield* keyValueProgram.pipe(Effect.provide(StrataKeyValueStore.layerNode({ directory })))
      assert.deepStrictEqual(result, expected)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("runs on MemoryFileSystem", () =>
    Effect.gen(function* () {
      const result = yield* keyValueProgram.pipe(Effect.provide(StrataKeyValueStore.layer({ directory: "/kv" })))
      assert.deepStrictEqual(result, expected)
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})

describe("the README's level example", () => {
  it("is examples/level.mjs", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const section = readme.slice(readme.indexOf("\n## From plain Node: `stratadb/level`\n"), readme.indexOf("\n## Effect's KeyValueStore\n"))
    const block = /\n```js\n([\s\S]*?)```\n/.exec(section)
    assert.isNotNull(block, "README's level section has a js code block")
    assert.strictEqual(block![1], readFileSync(new URL("../../examples/level.mjs", import.meta.url), "utf8"))
  })

  it("runs from plain promises and survives a reopen", async () => {
    const directory = mkdtempSync(join(tmpdir(), "stratadb-level-example-"))
    try {
      const result = await levelMain(directory)
      assert.deepStrictEqual(result, {
        then: { born: 1912 },
        users: [["user:ada", { born: 1815 }], ["user:grace", { born: 1906 }]],
        fromB: "user:grace",
        book: "Notes on the Analytical Engine"
      })
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
