/**
 * The read side at scale: streaming scans in bounded memory, scans that outlive the tables they
 * started on, snapshots that compaction respects, the block and table caches' bounds, and the
 * read counters.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Option, Scope, Stream } from "effect"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { WriteBatch } from "../src/WriteBatch.js"
import { text, textOf, withDb } from "./support.js"

const key = (i: number) => `k${String(i).padStart(8, "0")}`
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

describe("reads", () => {
  it.effect("a scan of 1,000,000 keys streams in memory that does not grow with the key count", () =>
    Effect.gen(function* () {
      const n = 1_000_000
      yield* withDb({ directory: "/big", writeBufferSize: 8 * 1024 * 1024 }, (db) =>
        Effect.gen(function* () {
          for (let start = 0; start < n; start += 1000) {
            const batch = WriteBatch.make()
            for (let i = start; i < start + 1000; i++) batch.put(key(i), `v${i}`)
            yield* db.write(batch)
          }
          yield* db.flush
          assert.isFunction((globalThis as { gc?: unknown }).gc, "tests run with --expose-gc")
          gc()
          const base = process.memoryUsage().heapUsed
          let peak = 0
          let count = 0
          let previous = ""
          yield* db.scan().pipe(
            Stream.runForEach((e) =>
              Effect.sync(() => {
                const k = text(e.key)
                if (k <= previous) assert.fail(`out of order: ${k} after ${previous}`)
                if (text(e.value) !== `v${Number(k.slice(1))}`) assert.fail(`wrong value for ${k}`)
                previous = k
                if (++count % 100_000 === 0) {
                  gc()
                  peak = Math.max(peak, process.memoryUsage().heapUsed - base)
                }
              })
            )
          )
          assert.strictEqual(count, n)
          // The entries alone would take well over 100 MB if the scan held them.
          assert.isBelow(peak, 32 * 1024 * 1024, `heap grew by ${(peak / 1048576).toFixed(1)} MiB during the scan`)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a scan running while compaction deletes its input tables returns its point in time", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const n = 20_000
      yield* withDb({ directory: "/scanc", writeBufferSize: 64 * 1024, blockSize: 1024, targetFileSize: 64 * 1024 }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* db.put(key(i), `old${i}`)
          yield* db.flush
          const tablesBefore = (yield* mem.listFiles).filter((f) => f.path.endsWith(".sst")).map((f) => f.path)
          const scope = yield* Scope.make()
          const pull = yield* Stream.toPull(db.scan()).pipe(Scope.extend(scope))
          const seen: Array<string> = []
          const first = yield* pull
          for (const e of first) seen.push(`${text(e.key)}=${text(e.value)}`)
          // Overwrite and delete everything, then compact: every table the scan started on is replaced.
          for (let i = 0; i < n; i++) yield* i % 2 === 0 ? db.delete(key(i)) : db.put(key(i), `new${i}`)
          yield* db.compactRange()
          const tablesAfter = (yield* mem.listFiles).filter((f) => f.path.endsWith(".sst")).map((f) => f.path)
          // While the scan holds them, its tables stay on disk.
          for (const t of tablesBefore) assert.include(tablesAfter, t)
          while (true) {
            const chunk = yield* Effect.either(pull)
            if (chunk._tag === "Left") break
            for (const e of chunk.right) seen.push(`${text(e.key)}=${text(e.value)}`)
          }
          yield* Scope.close(scope, Exit.void)
          assert.strictEqual(seen.length, n)
          for (let i = 0; i < n; i++) assert.strictEqual(seen[i], `${key(i)}=old${i}`)
          // Once the scan ended, its old tables go.
          yield* db.compactRange()
          const tablesEnd = (yield* mem.listFiles).filter((f) => f.path.endsWith(".sst")).map((f) => f.path)
          for (const t of tablesBefore) assert.notInclude(tablesEnd, t)
          assert.isTrue(Option.isNone(yield* db.get(key(0))))
          assert.strictEqual(textOf(yield* db.get(key(1))), "new1")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("snapshots: compaction keeps the versions a live snapshot sees; releasing lets them go", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/snap", writeBufferSize: 4096 }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 200; i++) yield* db.put(key(i), `v1-${i}`)
          const scope = yield* Scope.make()
          const snap = yield* db.snapshot.pipe(Scope.extend(scope))
          for (let i = 0; i < 200; i++) yield* i % 3 === 0 ? db.delete(key(i)) : db.put(key(i), `v2-${i}`)
          yield* db.compactRange()
          for (let i = 0; i < 200; i++) {
            assert.strictEqual(textOf(yield* db.get(key(i), { snapshot: snap })), `v1-${i}`)
            assert.strictEqual(textOf(yield* db.get(key(i))), i % 3 === 0 ? undefined : `v2-${i}`)
          }
          const many = yield* db.getMany([key(5), key(3), "absent", key(4)], { snapshot: snap })
          assert.deepStrictEqual(many.map(textOf), ["v1-5", "v1-3", undefined, "v1-4"])
          const scanned = yield* Stream.runCollect(db.scan({ snapshot: snap, gte: key(10), limit: 3 }))
          assert.deepStrictEqual(Chunk.toArray(scanned).map((e) => text(e.value)), ["v1-10", "v1-11", "v1-12"])
          const withOld = (yield* db.stats).levels.reduce((a, l) => a + l.bytes, 0)
          yield* Scope.close(scope, Exit.void)
          // The snapshot is gone: reading with it is refused, and compaction drops the old versions.
          const stale = yield* Effect.either(db.get(key(1), { snapshot: snap }))
          assert.isTrue(stale._tag === "Left" && stale.left._tag === "InvalidArgument")
          yield* db.compactRange()
          const without = (yield* db.stats).levels.reduce((a, l) => a + l.bytes, 0)
          assert.isBelow(without, withOld * 0.8, `${without} bytes after release vs ${withOld} with the snapshot`)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("the block cache never exceeds its capacity; evicted table readers close their files", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const n = 20_000
      const capacity = 16 * 1024
      yield* withDb(
        { directory: "/cache", writeBufferSize: 16 * 1024, blockSize: 1024, blockCacheSize: capacity, maxOpenTables: 3, backgroundCompaction: false },
        (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* db.put(key(i), `value-${i}`.padEnd(40, "."))
            yield* db.flush
            const stats0 = yield* db.stats
            assert.isAbove(stats0.levels[0]!.tables, 10)
            for (let r = 0; r < 3000; r++) {
              const i = (r * 7919) % n
              assert.strictEqual(textOf(yield* db.get(key(i))), `value-${i}`.padEnd(40, "."))
              if (r % 100 === 0) {
                const s = yield* db.stats
                assert.isAtMost(s.blockCache.usage, capacity)
                assert.isAtMost(s.openTables, 3)
                // Three table readers, the WAL and the manifest.
                assert.isAtMost(yield* mem.openHandles, 3 + 2)
              }
            }
            const s = yield* db.stats
            assert.isAbove(s.blockCache.hits + s.blockCache.misses, 0)
            assert.isAbove(s.blockCache.misses, 0)
          })
      )
      assert.strictEqual(yield* mem.openHandles, 0, "closing the database closes every file")
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("point reads skip tables by key range and bloom filter, and stats count it", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/bloom", writeBufferSize: 16 * 1024, backgroundCompaction: false }, (db) =>
        Effect.gen(function* () {
          // Interleaved keys: every table spans the whole key range, so only bloom filters skip them.
          for (let t = 0; t < 5; t++) {
            for (let i = t; i < 5000; i += 5) yield* db.put(key(i), "v")
            yield* db.flush
          }
          const before = yield* db.stats
          assert.isAtLeast(before.levels[0]!.tables, 5)
          // Absent keys inside every table's key range: only the bloom filters can skip the tables.
          for (let i = 0; i < 1000; i++) assert.isTrue(Option.isNone(yield* db.get(`${key(i * 4)}x`)))
          const after = yield* db.stats
          const checks = after.bloomChecks - before.bloomChecks
          const negatives = after.bloomNegatives - before.bloomNegatives
          assert.isAbove(checks, 0)
          assert.isAbove(negatives / checks, 0.95, `${negatives} of ${checks} bloom checks saved a read`)
          assert.strictEqual(after.gets - before.gets, 1000)
          // Present keys are found, each in one table read or fewer per table that may hold it.
          for (let i = 0; i < 100; i++) assert.strictEqual(textOf(yield* db.get(key(i * 7))), "v")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
