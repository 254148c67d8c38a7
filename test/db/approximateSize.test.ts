/**
 * `approximateSize(start, end)`: the table bytes of a key range, LevelDB's ApproximateOffsetOf.
 * The whole key space is every table's bytes; ranges add up exactly (adjacent ranges sum to the
 * union); a range holding a fraction of the keys gets about that fraction of the bytes (by the
 * tables' indexes, within a block or two per straddled table); memtables count only when asked.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import type { DbService } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { small, withDb } from "../support.js"

const key = (i: number) => `key-${String(i).padStart(6, "0")}`
const N = 4000
const VALUE = "v".repeat(100)
/** 100 bytes that do not compress (a seeded pseudo-random string per key): tables hold ~N * 100 bytes. */
const noise = (i: number): string => {
  let state = (i * 2654435761) >>> 0
  let out = ""
  for (let c = 0; c < 100; c++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out += String.fromCharCode(33 + (state >>> 25))
  }
  return out
}

const tableBytes = (db: DbService) => Effect.map(db.stats, (s) => s.levels.reduce((sum, l) => sum + l.bytes, 0))

describe("approximateSize", () => {
  it.effect("covers every table for the whole key space, adds up over adjacent ranges, and is proportional inside", () =>
    withDb(small("/size", { backgroundCompaction: false }), (db) =>
      Effect.gen(function* () {
        assert.strictEqual(yield* db.approximateSize(), 0, "an empty database")
        for (let i = 0; i < N; i++) yield* db.put(key(i), noise(i))
        yield* db.flush
        const total = yield* tableBytes(db)
        assert.isAbove(total, N * 100)
        // Several L0 tables overlapping nothing (sequential keys), then one compacted level.
        for (const phase of ["flushed", "compacted"]) {
          if (phase === "compacted") yield* db.compactRange()
          const all = yield* tableBytes(db)
          assert.strictEqual(yield* db.approximateSize(), all, `${phase}: the whole key space`)
          assert.strictEqual(yield* db.approximateSize("", "\xff"), all, `${phase}: explicit bounds around every key`)
          const a = yield* db.approximateSize(undefined, key(1000))
          const b = yield* db.approximateSize(key(1000), key(3000))
          const c = yield* db.approximateSize(key(3000))
          assert.strictEqual(a + b + c, all, `${phase}: adjacent ranges add up to the whole`)
          // Half the keys: about half the bytes (block granularity: 1 KiB blocks of ~9 entries).
          assert.approximately(b / all, 0.5, 0.05, `${phase}: half the keys`)
          assert.approximately(a / all, 0.25, 0.05, `${phase}: a quarter of the keys`)
          const one = yield* db.approximateSize(key(2000), key(2001))
          assert.isAtMost(one, 2 * 1024 + 64, `${phase}: one key is at most a block or two`)
          assert.strictEqual(yield* db.approximateSize("zzz"), 0, `${phase}: past every key`)
          assert.strictEqual(yield* db.approximateSize(undefined, "a"), 0, `${phase}: before every key`)
          assert.strictEqual(yield* db.approximateSize(key(3000), key(1000)), 0, `${phase}: start after end`)
          assert.strictEqual(yield* db.approximateSize(new TextEncoder().encode(key(1000)), key(3000)), b, `${phase}: bytes as bounds`)
        }
      })
    ).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("memtables count only with includeMemtables, by their entries' key and value bytes in the range", () =>
    withDb({ directory: "/mem" }, (db) =>
      Effect.gen(function* () {
        for (let i = 0; i < 100; i++) yield* db.put(key(i), VALUE)
        yield* db.put(key(5), "x") // a second version counts too
        assert.strictEqual(yield* db.approximateSize(), 0, "nothing in tables yet")
        const entry = key(0).length + VALUE.length
        assert.strictEqual(yield* db.approximateSize(undefined, undefined, { includeMemtables: true }), 100 * entry + key(5).length + 1)
        assert.strictEqual(yield* db.approximateSize(key(10), key(20), { includeMemtables: true }), 10 * entry)
        assert.strictEqual(yield* db.approximateSize(key(10), key(20), { includeMemtables: false }), 0)
        yield* db.flush
        const tables = yield* tableBytes(db)
        assert.strictEqual(yield* db.approximateSize(undefined, undefined, { includeMemtables: true }), tables, "flushed: the table only")
      })
    ).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("bad bounds and options are InvalidArgument", () =>
    withDb({ directory: "/bad" }, (db) =>
      Effect.gen(function* () {
        const bad = [
          db.approximateSize(42 as unknown as string),
          db.approximateSize(undefined, {} as unknown as string),
          db.approximateSize(undefined, undefined, { includeMemtables: "yes" as unknown as boolean }),
          db.approximateSize(undefined, undefined, 7 as unknown as object)
        ]
        for (const effect of bad) {
          const r = yield* Effect.either(effect)
          assert.isTrue(Either.isLeft(r) && r.left._tag === "stratadb/InvalidArgument", String(Either.isLeft(r) ? r.left : "succeeded"))
        }
      })
    ).pipe(Effect.provide(MemoryFileSystem.layer)))
})
