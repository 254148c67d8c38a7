/**
 * One memory budget (`memoryBudget`): the parts the user did not set are derived from it
 * (memtables a quarter, block cache a half, table metadata the rest), the parts set are kept, and
 * parts that do not fit fail the open before it touches the directory. The engine keeps each part
 * within its share, and `stats.memory` reports them.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema, Stream } from "effect"
import { Db } from "../../src/Db.js"
import type { DbStats } from "../../src/Stats.js"
import { ENTRY_OVERHEAD } from "../../src/internal/memtable/memtable.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { type DbOptions, DbOptionsSchema, resolve, tableMetadataBudget } from "../../src/Options.js"
import { textOf, withDb } from "../support.js"

const KiB = 1024
const MiB = 1024 * KiB

const key = (i: number) => `k${String(i).padStart(8, "0")}`
const value = (i: number) => `value-${i}`.padEnd(40, ".")
/** What the memtable charges for one of these entries: the most a memtable passes `writeBufferSize` by. */
const ENTRY_CHARGE = key(0).length + value(0).length + ENTRY_OVERHEAD

/** The description `resolve` fails with, or undefined when it succeeds. */
const refusal = (options: DbOptions) =>
  Effect.map(Effect.either(resolve(options)), (r) => {
    if (Either.isRight(r)) return undefined
    assert.strictEqual(r.left._tag, "stratadb/InvalidArgument")
    return r.left.description
  })

/** The parts add up to the total, and the budget is the option. */
const assertMemoryAddsUp = (stats: DbStats, budget: number) => {
  const m = stats.memory
  assert.strictEqual(m.total, m.memtables + m.blockCache + m.tableMetadata)
  assert.strictEqual(m.budget, budget)
  assert.strictEqual(m.memtables, stats.memtableBytes)
  assert.strictEqual(m.blockCache, stats.blockCache.usage)
}

describe("memory budget", () => {
  it.effect("the budget splits into a quarter for the memtables, a half for the block cache, the rest for table metadata", () =>
    Effect.gen(function* () {
      const budget = 64 * MiB
      const o = yield* resolve({ directory: "/d", memoryBudget: budget })
      assert.strictEqual(o.memoryBudget, budget)
      assert.strictEqual(o.writeBufferSize, Math.floor(budget / 4 / (1 + 2)))
      assert.strictEqual(o.blockCacheSize, budget / 2)
      const memtables = o.writeBufferSize * (1 + o.maxImmutableMemtables)
      assert.strictEqual(tableMetadataBudget(o), budget - memtables - o.blockCacheSize)
      assert.isAtLeast(tableMetadataBudget(o), budget / 4)
      // The exported schema derives the same.
      assert.deepStrictEqual(Schema.decodeUnknownSync(DbOptionsSchema)({ directory: "/d", memoryBudget: budget }), o)
      // The memtables' quarter is shared by all of them.
      const four = yield* resolve({ directory: "/d", memoryBudget: budget, maxImmutableMemtables: 3 })
      assert.strictEqual(four.writeBufferSize, Math.floor(budget / 4 / (1 + 3)))
      // Without a budget: today's defaults, and no bound on table metadata.
      const none = yield* resolve({ directory: "/d" })
      assert.strictEqual(none.memoryBudget, 0)
      assert.strictEqual(none.writeBufferSize, 4 * MiB)
      assert.strictEqual(none.blockCacheSize, 8 * MiB)
      assert.strictEqual(tableMetadataBudget(none), Number.POSITIVE_INFINITY)
      // Sizes are clamped into their options' ranges (a budget past them leaves the rest to table metadata).
      const huge = yield* resolve({ directory: "/d", memoryBudget: 2 ** 40 })
      assert.strictEqual(huge.writeBufferSize, 1024 * MiB)
      assert.strictEqual(huge.blockCacheSize, 64 * 1024 * MiB)
    })
  )

  it.effect("parts set explicitly are kept; the parts not set share what they leave, none beyond its share", () =>
    Effect.gen(function* () {
      const budget = 64 * MiB
      // A small explicit part leaves the others their full shares.
      const smallCache = yield* resolve({ directory: "/d", memoryBudget: budget, blockCacheSize: 4 * MiB })
      assert.strictEqual(smallCache.blockCacheSize, 4 * MiB)
      assert.strictEqual(smallCache.writeBufferSize, Math.floor(budget / 4 / 3))
      const smallMemtables = yield* resolve({ directory: "/d", memoryBudget: budget, writeBufferSize: 1 * MiB })
      assert.strictEqual(smallMemtables.writeBufferSize, 1 * MiB)
      assert.strictEqual(smallMemtables.blockCacheSize, budget / 2)
      // A large one: the memtables and the table metadata split the 4 MiB left, 1 : 1.
      const bigCache = yield* resolve({ directory: "/d", memoryBudget: budget, blockCacheSize: 60 * MiB })
      assert.strictEqual(bigCache.blockCacheSize, 60 * MiB)
      assert.strictEqual(bigCache.writeBufferSize, Math.floor((2 * MiB) / 3))
      assert.isAtLeast(tableMetadataBudget(bigCache), 2 * MiB)
      // Both set: both kept, table metadata gets the rest.
      const both = yield* resolve({ directory: "/d", memoryBudget: budget, writeBufferSize: 4 * MiB, blockCacheSize: 8 * MiB })
      assert.strictEqual(both.writeBufferSize, 4 * MiB)
      assert.strictEqual(both.blockCacheSize, 8 * MiB)
      assert.strictEqual(tableMetadataBudget(both), budget - 12 * MiB - 8 * MiB)
      // Undefined is not set, as for any option.
      const undefinedParts = yield* resolve({ directory: "/d", memoryBudget: budget, writeBufferSize: undefined, blockCacheSize: undefined })
      assert.strictEqual(undefinedParts.writeBufferSize, Math.floor(budget / 4 / 3))
      assert.strictEqual(undefinedParts.blockCacheSize, budget / 2)
    })
  )

  it.effect("parts that do not fit the budget are InvalidArgument, and the open touches nothing", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* refusal({ directory: "/d", memoryBudget: 16 * MiB, writeBufferSize: 4 * MiB, blockCacheSize: 8 * MiB }),
        "memoryBudget: 16777216 bytes cannot hold the memtables (writeBufferSize 4194304 × (1 + maxImmutableMemtables 2) = " +
          "12582912) and the block cache (blockCacheSize 8388608): 20971520 bytes"
      )
      // One explicit part alone past the budget.
      assert.isDefined(yield* refusal({ directory: "/d", memoryBudget: 10 * MiB, writeBufferSize: 4 * MiB }))
      assert.isDefined(yield* refusal({ directory: "/d", memoryBudget: 10 * MiB, blockCacheSize: 11 * MiB }))
      // A budget too small for the least memtables (4 KiB × 3 in its quarter).
      assert.isDefined(yield* refusal({ directory: "/d", memoryBudget: 20_000 }))
      assert.isUndefined(yield* refusal({ directory: "/d", memoryBudget: 4 * 3 * 4 * KiB }))
      // Exactly the budget fits.
      assert.isUndefined(yield* refusal({ directory: "/d", memoryBudget: 20 * MiB, writeBufferSize: 4 * MiB, blockCacheSize: 8 * MiB }))
      // A bad budget is reported as any bad option, and derives nothing.
      assert.strictEqual(
        yield* refusal({ directory: "/d", memoryBudget: -1 }),
        "memoryBudget: expected an integer in [0, 1125899906842624], got -1"
      )
      assert.strictEqual(
        yield* refusal({ directory: "/d", memoryBudget: 1.5 }),
        "memoryBudget: expected an integer in [0, 1125899906842624], got 1.5"
      )

      // At open: nothing is created, and an existing database is left as it was.
      const fs = yield* FileSystem
      const overBudget = { memoryBudget: 16 * MiB, writeBufferSize: 4 * MiB, blockCacheSize: 8 * MiB }
      const fresh = yield* Effect.either(Effect.scoped(Db.make({ directory: "/fresh", ...overBudget })))
      assert.isTrue(Either.isLeft(fresh) && fresh.left._tag === "stratadb/InvalidArgument")
      assert.isFalse(yield* fs.exists("/fresh"), "a refused open creates no directory")
      yield* withDb({ directory: "/kept" }, (db) => db.put("a", "1"))
      const files = (yield* fs.readDirectory("/kept")).sort()
      const sizes = yield* Effect.forEach(files, (f) => Effect.map(fs.stat(`/kept/${f}`), (s) => Number(s.size)))
      const existing = yield* Effect.either(Effect.scoped(Db.make({ directory: "/kept", ...overBudget })))
      assert.isTrue(Either.isLeft(existing) && existing.left._tag === "stratadb/InvalidArgument")
      assert.deepStrictEqual((yield* fs.readDirectory("/kept")).sort(), files)
      assert.deepStrictEqual(yield* Effect.forEach(files, (f) => Effect.map(fs.stat(`/kept/${f}`), (s) => Number(s.size))), sizes)
      assert.strictEqual(yield* withDb({ directory: "/kept" }, (db) => Effect.map(db.get("a"), textOf)), "1")
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("with a small budget and many tables, each part stays within its share and stats report them", () =>
    Effect.gen(function* () {
      const budget = 256 * KiB
      const options: DbOptions = { directory: "/budget", memoryBudget: budget, blockSize: 1024, backgroundCompaction: false }
      const resolved = yield* resolve(options)
      const memtableShare = Math.floor(budget / 4)
      const blockCacheShare = budget / 2
      const metadataShare = tableMetadataBudget(resolved)
      assert.isAtMost(metadataShare, budget / 4 + 3, "a quarter, but for rounding")
      // A memtable takes the write that fills it: each may pass writeBufferSize by one entry.
      const memtableLimit = memtableShare + (1 + resolved.maxImmutableMemtables) * ENTRY_CHARGE
      const n = 12_000

      const tables = yield* withDb(options, (db) =>
        Effect.gen(function* () {
          let peakMemtables = 0
          for (let i = 0; i < n; i++) {
            yield* db.put(key(i), value(i))
            if (i % 50 === 0) {
              const s = yield* db.stats
              assertMemoryAddsUp(s, budget)
              assert.isAtMost(s.memory.memtables, memtableLimit)
              peakMemtables = Math.max(peakMemtables, s.memory.memtables)
            }
          }
          assert.isAbove(peakMemtables, resolved.writeBufferSize, "the memtables used more than one buffer of their share")
          yield* db.flush
          const written = yield* db.stats
          const tableCount = written.levels[0]!.tables
          assert.isAtLeast(tableCount, 40)

          // Point reads across every table, again and again.
          for (let round = 0; round < 3; round++) {
            for (let i = round; i < n; i += 37) {
              assert.strictEqual(textOf(yield* db.get(key(i))), value(i))
              if (i % 5 === 0) {
                const s = yield* db.stats
                assertMemoryAddsUp(s, budget)
                assert.isAtMost(s.memory.tableMetadata, metadataShare)
                assert.isAtMost(s.memory.blockCache, blockCacheShare)
                assert.isAtMost(s.memory.memtables, memtableLimit)
                assert.isAtMost(s.memory.total, budget + memtableLimit - memtableShare)
              }
            }
          }
          const afterReads = yield* db.stats
          assert.isBelow(afterReads.openTables, tableCount, "tables were closed to keep the metadata within its share")
          assert.isAbove(afterReads.memory.tableMetadata, 0)
          assert.strictEqual(afterReads.blockCache.capacity, blockCacheShare)

          // A scan pins every table while it runs; once done, the cache shrinks back.
          assert.strictEqual(yield* Stream.runCount(db.scan()), n)
          const afterScan = yield* db.stats
          assertMemoryAddsUp(afterScan, budget)
          assert.isAtMost(afterScan.memory.tableMetadata, metadataShare)
          assert.isAtMost(afterScan.memory.blockCache, blockCacheShare)
          return tableCount
        })
      )

      // The same reads without a budget keep every table's metadata: more than the share above,
      // so the bound is what kept it within.
      yield* withDb({ directory: "/budget", blockSize: 1024, backgroundCompaction: false }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i += 37) assert.strictEqual(textOf(yield* db.get(key(i))), value(i))
          const s = yield* db.stats
          assertMemoryAddsUp(s, 0)
          assert.strictEqual(s.openTables, tables)
          assert.isAbove(s.memory.tableMetadata, metadataShare)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("without a budget, stats still report each part and their total", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/nobudget", writeBufferSize: 16 * KiB, blockSize: 1024 }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 2000; i++) yield* db.put(key(i), value(i))
          yield* db.flush
          for (let i = 0; i < 2000; i += 7) yield* db.get(key(i))
          yield* db.put("late", "write")
          const s = yield* db.stats
          assertMemoryAddsUp(s, 0)
          assert.isAbove(s.memory.memtables, 0)
          assert.isAbove(s.memory.blockCache, 0)
          assert.isAbove(s.memory.tableMetadata, 0)
          assert.strictEqual(s.memory.total, s.memory.memtables + s.memory.blockCache + s.memory.tableMetadata)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
