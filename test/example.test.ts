/**
 * The README's example runs as written on @effect/platform-node's own NodeContext layer and on
 * MemoryFileSystem, and a reopen finds its writes.
 */
import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { program, reopened } from "../examples/basic.js"
import { Db } from "../src/Db.js"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"

describe("the README example", () => {
  it.scoped("runs on NodeContext.layer and survives a reopen", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-example-" })
      yield* program.pipe(Effect.provide(Db.layer({ directory })))
      const v = yield* reopened.pipe(Effect.provide(Db.layer({ directory })))
      assert.deepStrictEqual(v, Option.some('{"token":"abc"}'))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("runs on MemoryFileSystem.layer", () =>
    Effect.gen(function* () {
      yield* program.pipe(Effect.provide(Db.layer({ directory: "/data" })))
      const v = yield* reopened.pipe(Effect.provide(Db.layer({ directory: "/data" })))
      assert.deepStrictEqual(v, Option.some('{"token":"abc"}'))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
