/**
 * The conformance suite: what every backend (MemoryFileSystem, the Node file system) must do
 * the same. Each test gets a fresh directory from `directory()`.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
// Option-aware: chai's deepStrictEqual takes Option.some(x) and Option.none() for equal.
import { deepStrictEqual } from "@effect/vitest/utils"
import { Effect, type Layer, Option } from "effect"
import { WriteBatch } from "../../src/WriteBatch.js"
import { small, textOf, withDb } from "../support.js"

const key = (i: number) => `key${String(i).padStart(8, "0")}`
const valueOf = (i: number, round = 0) => `value-${i}-${round}-${"x".repeat(i % 50)}`

export const conformanceSuite = (
  name: string,
  layer: Layer.Layer<FileSystem | Path>,
  directory: Effect.Effect<string, unknown, FileSystem | Path | import("effect").Scope.Scope>,
  /** Where the layer runs flushes and compactions (checked, so the suite runs where it says). */
  backgroundWork: "inline" | "worker" = "inline",
  /** Keys of the bulk test (fewer on a slow file system, to keep the suite's time). */
  bulkKeys = 200_000
) =>
  describe(`conformance: ${name}`, () => {
    it.scoped("put, get, overwrite, delete", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            assert.isTrue(Option.isNone(yield* db.get("missing")))
            yield* db.put("session:user123", '{"token":"abc"}')
            assert.strictEqual(textOf(yield* db.get("session:user123")), '{"token":"abc"}')
            yield* db.put("session:user123", '{"token":"def"}')
            assert.strictEqual(textOf(yield* db.get("session:user123")), '{"token":"def"}')
            yield* db.delete("session:user123")
            assert.isTrue(Option.isNone(yield* db.get("session:user123")))
            yield* db.put(new Uint8Array([0, 255, 1]), new Uint8Array([9, 8, 7]))
            const bin = yield* db.get(new Uint8Array([0, 255, 1]))
            deepStrictEqual(Option.map(bin, (b) => [...b]), Option.some([9, 8, 7]))
            yield* db.put("ünïcödé", "välüe")
            assert.strictEqual(textOf(yield* db.get("ünïcödé")), "välüe")
            yield* db.put("empty", "")
            assert.strictEqual(textOf(yield* db.get("empty")), "")
            // The empty key is a key like any other (as in LevelDB), the same as a string or as bytes.
            yield* db.put("", "empty key")
            assert.strictEqual(textOf(yield* db.get(new Uint8Array(0))), "empty key")
            yield* db.flush
            assert.strictEqual(textOf(yield* db.get("")), "empty key")
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a batch applies atomically and in order", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            yield* db.put("b", "old")
            yield* db.write(WriteBatch.make().put("a", "1").delete("b").put("c", "3").put("a", "2"))
            assert.strictEqual(textOf(yield* db.get("a")), "2")
            assert.isTrue(Option.isNone(yield* db.get("b")))
            assert.strictEqual(textOf(yield* db.get("c")), "3")
            // A batch with one bad entry writes nothing.
            const bad = yield* Effect.either(db.write(WriteBatch.make().put("d", "4").put(42 as unknown as string, "not bytes")))
            assert.isTrue(bad._tag === "Left" && bad.left._tag === "stratadb/InvalidArgument")
            assert.isTrue(Option.isNone(yield* db.get("d")))
          })
        )
        // ... and the batch survives a reopen whole.
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            assert.strictEqual(textOf(yield* db.get("a")), "2")
            assert.isTrue(Option.isNone(yield* db.get("b")))
            assert.isTrue(Option.isNone(yield* db.get("d")))
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped(`${bulkKeys.toLocaleString("en-US")} keys across many flushes read back, and after a reopen`, () =>
      Effect.gen(function* () {
        const dir = yield* directory
        const n = bulkKeys
        // Insert in a scrambled order so tables overlap.
        const order = Array.from({ length: n }, (_, i) => (i * 7919) % n)
        yield* withDb(small(dir, { writeBufferSize: 512 * 1024 }), (db) =>
          Effect.gen(function* () {
            for (const i of order) yield* db.put(key(i), valueOf(i))
            for (let i = 0; i < n; i += 3) yield* db.delete(key(i))
            for (let i = 1; i < n; i += 3) yield* db.put(key(i), valueOf(i, 1))
            const stats = yield* db.stats
            assert.isAbove(stats.flushes, 5)
            assert.strictEqual(stats.backgroundWork, backgroundWork)
            for (let i = 0; i < n; i++) {
              const got = textOf(yield* db.get(key(i)))
              const want = i % 3 === 0 ? undefined : i % 3 === 1 ? valueOf(i, 1) : valueOf(i)
              if (got !== want) assert.fail(`key ${i}: got ${got}, want ${want}`)
            }
          })
        )
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) {
              const got = textOf(yield* db.get(key(i)))
              const want = i % 3 === 0 ? undefined : i % 3 === 1 ? valueOf(i, 1) : valueOf(i)
              if (got !== want) assert.fail(`after reopen, key ${i}: got ${got}, want ${want}`)
            }
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("reopen keeps memtable writes (WAL replay) and flushed tables", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 100; i++) yield* db.put(key(i), valueOf(i))
            yield* db.flush
            for (let i = 100; i < 200; i++) yield* db.put(key(i), valueOf(i))
            yield* db.delete(key(5))
          })
        )
        for (let round = 0; round < 3; round++) {
          yield* withDb(small(dir), (db) =>
            Effect.gen(function* () {
              for (let i = 0; i < 200; i++) {
                assert.strictEqual(textOf(yield* db.get(key(i))), i === 5 ? undefined : valueOf(i), `round ${round} key ${i}`)
              }
              const stats = yield* db.stats
              assert.isAtLeast(stats.lastSequence, 201)
            })
          )
        }
      }).pipe(Effect.provide(layer))
    )

    it.scoped("concurrent writers (some syncing) are committed together and all land", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        const fibers = 8
        const each = 300
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            yield* Effect.forEach(
              Array.from({ length: fibers }, (_, f) => f),
              (f) =>
                Effect.forEach(
                  Array.from({ length: each }, (_, i) => i),
                  (i) =>
                    i % 3 === 0
                      ? db.write(WriteBatch.make().put(`f${f}-${i}`, `v${i}`).put(`f${f}-${i}b`, `w${i}`), { sync: i % 10 === 0 })
                      : db.put(`f${f}-${i}`, `v${i}`, { sync: i % 10 === 0 }),
                  { discard: true }
                ),
              { concurrency: "unbounded", discard: true }
            )
            const stats = yield* db.stats
            assert.strictEqual(stats.lastSequence, fibers * (each + Math.ceil(each / 3)))
          })
        )
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            for (let f = 0; f < fibers; f++) {
              for (let i = 0; i < each; i++) {
                assert.strictEqual(textOf(yield* db.get(`f${f}-${i}`)), `v${i}`)
                if (i % 3 === 0) assert.strictEqual(textOf(yield* db.get(`f${f}-${i}b`)), `w${i}`)
              }
            }
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("a second open of the same directory fails with DbLocked", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb({ directory: dir }, () =>
          Effect.gen(function* () {
            const second = yield* Effect.either(withDb({ directory: dir }, () => Effect.void))
            assert.isTrue(second._tag === "Left" && second.left._tag === "stratadb/DbLocked")
          })
        )
        // Released on close.
        yield* withDb({ directory: dir }, (db) => db.put("k", "v"))
      }).pipe(Effect.provide(layer))
    )
  })
