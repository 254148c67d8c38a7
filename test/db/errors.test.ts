/**
 * The public errors: namespaced tags, the `isDbError` guard, and a defect in background work
 * reported as `BackgroundDefect` (what was thrown, catchable), not as `Corruption` of no file.
 */
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import {
  BackgroundDefect,
  Corruption,
  DbClosed,
  DbErrorTypeId,
  DbLocked,
  InvalidArgument,
  isDbError,
  NotSupported
} from "../../src/errors.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { textOf, withDb } from "../support.js"

describe("errors", () => {
  it("every stratadb error has a namespaced tag and the DbError mark; isDbError knows them and nothing else", () => {
    const thrown = new Error("a bug")
    const errors = [
      [new InvalidArgument({ method: "put", description: "key must be a string or Uint8Array" }), "stratadb/InvalidArgument"],
      [new Corruption({ file: "000001.sst", offset: 0, description: "bad checksum" }), "stratadb/Corruption"],
      [new DbClosed({ method: "get" }), "stratadb/DbClosed"],
      [new DbLocked({ directory: "/d", description: "held" }), "stratadb/DbLocked"],
      [new NotSupported({ method: "getSync", description: "no sync reads" }), "stratadb/NotSupported"],
      [new BackgroundDefect({ description: "Error: a bug", cause: thrown }), "stratadb/BackgroundDefect"]
    ] as const
    for (const [error, tag] of errors) {
      assert.strictEqual(error._tag, tag)
      assert.isTrue(isDbError(error), tag)
      assert.strictEqual(error[DbErrorTypeId], DbErrorTypeId)
      assert.instanceOf(error, Error)
    }
    // The mark is shared across copies of the package (Symbol.for), not the class.
    assert.strictEqual(DbErrorTypeId, Symbol.for("stratadb/DbError"))
    // PlatformError stays @effect/platform's; look-alikes are not stratadb errors.
    const platform = new SystemError({ reason: "Unknown", module: "FileSystem", method: "open" })
    for (const other of [platform, new Error("x"), { _tag: "stratadb/Corruption" }, { _tag: "Corruption" }, null, undefined, "stratadb/DbClosed"]) {
      assert.isFalse(isDbError(other), String(other))
    }
    // A defect's error chains what was thrown as its `cause`.
    assert.strictEqual(errors[5][0].cause, thrown)
    assert.strictEqual(errors[5][0].message, "background work died: Error: a bug")
  })

  it.effect("a failure is caught by its namespaced tag", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/tags" }, (db) =>
        Effect.gen(function* () {
          const bad = (db.put as (...a: Array<unknown>) => Effect.Effect<void, InvalidArgument>)(42, "v")
          const caught = yield* bad.pipe(
            Effect.as("written"),
            Effect.catchTag("stratadb/InvalidArgument", (e) => Effect.succeed(`caught ${e.method}`))
          )
          assert.strictEqual(caught, "caught put")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a defect thrown in background work is BackgroundDefect carrying it, not Corruption; later writes fail with it", () =>
    Effect.gen(function* () {
      const { fileSystem } = yield* MemoryFileSystem.make()
      let armed = false
      const bug = new TypeError("a file system that throws instead of failing")
      // Opening a table for writing (a flush) throws: a defect, not a PlatformError.
      const throwing: FileSystem.FileSystem = {
        ...fileSystem,
        open: (path, options) => {
          if (armed && path.endsWith(".sst") && options?.flag === "w") throw bug
          return fileSystem.open(path, options)
        }
      }
      const layer = Layer.merge(Layer.succeed(FileSystem.FileSystem, throwing), Path.layer)
      yield* withDb({ directory: "/defect" }, (db) =>
        Effect.gen(function* () {
          yield* db.put("before", "1")
          armed = true
          const flushed = yield* Effect.either(db.flush)
          assert.isTrue(Either.isLeft(flushed), "the flush succeeded")
          const error = Either.isLeft(flushed) ? flushed.left : undefined
          assert.instanceOf(error, BackgroundDefect, String(error))
          assert.notInstanceOf(error, Corruption)
          const defect = error as BackgroundDefect
          assert.strictEqual(defect._tag, "stratadb/BackgroundDefect")
          assert.strictEqual(defect.cause, bug)
          assert.include(defect.description, "a file system that throws")
          assert.isTrue(isDbError(defect))
          // Kept as the background error: later writes fail with the same error, reads still work.
          const put = yield* Effect.either(db.put("after", "2"))
          assert.isTrue(Either.isLeft(put) && put.left === defect, String(put))
          assert.strictEqual(textOf(yield* db.get("before")), "1")
          assert.isTrue(Option.isNone(yield* db.get("after")))
        })
      ).pipe(Effect.provide(layer))
      // Nothing acknowledged is lost: the WAL holds it, and a reopen on a sound file system recovers it.
      armed = false
      yield* withDb({ directory: "/defect" }, (db) =>
        Effect.map(db.get("before"), (v) => assert.strictEqual(textOf(v), "1"))
      ).pipe(Effect.provide(layer))
    })
  )
})
