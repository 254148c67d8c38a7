/**
 * Bad input: typed errors, and nothing written.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, Stream } from "effect"
import { Db, type DbService } from "../src/Db.js"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import type { DbOptions } from "../src/Options.js"
import { WriteBatch } from "../src/WriteBatch.js"
import { withDb } from "./support.js"

const failsWith = <A, E extends { _tag: string }, R>(effect: Effect.Effect<A, E, R>, tag: string) =>
  Effect.map(Effect.either(effect), (r) => {
    assert.isTrue(Either.isLeft(r), `expected ${tag}, got success`)
    if (Either.isLeft(r)) assert.strictEqual(r.left._tag, tag, String(r.left))
  })

const lastSequence = (db: DbService) => Effect.map(db.stats, (s) => s.lastSequence)

describe("bad input", () => {
  it.effect("bad keys, values, batches and options are InvalidArgument and write nothing", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/bad", maxKeySize: 16, maxValueSize: 32 }, (db) =>
        Effect.gen(function* () {
          yield* db.put("ok", "fine")
          const before = yield* lastSequence(db)
          const anyDb = db as unknown as { put: (...a: Array<unknown>) => Effect.Effect<void, { _tag: string }> ; delete: (...a: Array<unknown>) => Effect.Effect<void, { _tag: string }>; get: (...a: Array<unknown>) => Effect.Effect<unknown, { _tag: string }> }
          yield* failsWith(db.put("", "v"), "InvalidArgument")
          yield* failsWith(db.put(new Uint8Array(0), "v"), "InvalidArgument")
          yield* failsWith(db.put("k".repeat(17), "v"), "InvalidArgument")
          yield* failsWith(db.put("é".repeat(9), "v"), "InvalidArgument") // 18 UTF-8 bytes
          yield* failsWith(db.put("k", "v".repeat(33)), "InvalidArgument")
          yield* failsWith(db.put("k", new Uint8Array(33)), "InvalidArgument")
          yield* failsWith(anyDb.put(42, "v"), "InvalidArgument")
          yield* failsWith(anyDb.put(null, "v"), "InvalidArgument")
          yield* failsWith(anyDb.put("k", { not: "bytes" }), "InvalidArgument")
          yield* failsWith(anyDb.put("k", undefined), "InvalidArgument")
          yield* failsWith(anyDb.put("k", "v", { sync: "yes" }), "InvalidArgument")
          yield* failsWith(anyDb.delete(7), "InvalidArgument")
          yield* failsWith(anyDb.delete(""), "InvalidArgument")
          yield* failsWith(anyDb.get(""), "InvalidArgument")
          yield* failsWith(anyDb.get({}), "InvalidArgument")
          yield* failsWith(db.write(WriteBatch.make().put("a", "1").put("b", "v".repeat(33))), "InvalidArgument")
          yield* failsWith(db.write(WriteBatch.make().put("a", "1").delete("")), "InvalidArgument")
          yield* failsWith(db.write({} as WriteBatch), "InvalidArgument")
          assert.strictEqual(yield* lastSequence(db), before, "a refused write took a sequence number")
          assert.isTrue(Option.isNone(yield* db.get("a")))
          // Exactly at the limits is fine.
          yield* db.put("k".repeat(16), "v".repeat(32))
          assert.strictEqual(yield* lastSequence(db), before + 1)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("bad options fail the open with InvalidArgument", () =>
    Effect.gen(function* () {
      const bad: Array<unknown> = [
        { directory: "" },
        { directory: "/x", writeBufferSize: -1 },
        { directory: "/x", writeBufferSize: 1.5 },
        { directory: "/x", blockSize: "4k" },
        { directory: "/x", bloomBitsPerKey: 100 },
        { directory: "/x", compaction: "random" },
        { directory: "/x", level0SlowdownTrigger: 2, level0CompactionTrigger: 4 },
        { directory: "/x", noSuchOption: true },
        null
      ]
      for (const options of bad) {
        yield* failsWith(withDb(options as DbOptions, () => Effect.void), "InvalidArgument")
      }
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("use after close fails with DbClosed", () =>
    Effect.gen(function* () {
      const db = yield* Effect.scoped(Db.make({ directory: "/closed" }))
      yield* failsWith(db.put("k", "v"), "DbClosed")
      yield* failsWith(db.get("k"), "DbClosed")
      yield* failsWith(db.delete("k"), "DbClosed")
      yield* failsWith(db.write(WriteBatch.make().put("a", "b")), "DbClosed")
      yield* failsWith(db.flush, "DbClosed")
      yield* failsWith(db.stats, "DbClosed")
      yield* failsWith(db.getMany(["k"]), "DbClosed")
      yield* failsWith(Stream.runCollect(db.scan()), "DbClosed")
      yield* failsWith(Effect.scoped(db.snapshot), "DbClosed")
      yield* failsWith(db.compactRange(), "DbClosed")
      // Nothing was written by the refused put.
      yield* withDb({ directory: "/closed" }, (db2) => Effect.map(db2.get("k"), (v) => assert.isTrue(Option.isNone(v))))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
