/**
 * The read side at scale: streaming scans in bounded memory, scans that outlive the tables they
 * started on, snapshots that compaction respects, the block and table caches' bounds, and the
 * read counters.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Option, Scope, Stream } from "effect"
import { InvalidArgument } from "../../src/errors.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { text, textOf, withDb } from "../support.js"

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
          assert.isTrue(stale._tag === "Left" && stale.left instanceof InvalidArgument)
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

  it.effect("a scan over more tables than maxOpenTables returns every entry; the table cache shrinks back afterwards", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const tables = 10
      const perTable = 50
      yield* withDb({ directory: "/manytables", maxOpenTables: 2, backgroundCompaction: false }, (db) =>
        Effect.gen(function* () {
          for (let t = 0; t < tables; t++) {
            for (let i = t; i < tables * perTable; i += tables) yield* db.put(key(i), `v${i}`)
            yield* db.flush
          }
          assert.strictEqual((yield* db.stats).levels[0]!.tables, tables)
          // Every table spans the whole key range: the merge pins all ten at once, over the bound of two.
          const scanned = Chunk.toArray(yield* Stream.runCollect(db.scan()))
          assert.strictEqual(scanned.length, tables * perTable)
          scanned.forEach((e, i) => assert.strictEqual(`${text(e.key)}=${text(e.value)}`, `${key(i)}=v${i}`))
          // Pins released: back within two table readers, plus the WAL and the manifest.
          assert.isAtMost((yield* db.stats).openTables, 2)
          assert.isAtMost(yield* mem.openHandles, 2 + 2)
          // While a scan pins all ten tables: a reverse scan, point reads, and a compaction that
          // also opens two tables the scan does not hold, each of them over the bound.
          const scope = yield* Scope.make()
          const pull = yield* Stream.toPull(db.scan()).pipe(Scope.extend(scope))
          const held = Chunk.toArray(yield* pull)
          assert.isAbove(held.length, 0)
          const some = yield* Stream.runCollect(db.scan({ reverse: true, limit: 3 }))
          assert.deepStrictEqual(Chunk.toArray(some).map((e) => text(e.key)), [key(499), key(498), key(497)])
          for (let i = 0; i < tables * perTable; i += 7) assert.strictEqual(textOf(yield* db.get(key(i))), `v${i}`)
          for (let t = 0; t < 2; t++) {
            for (let i = t; i < tables * perTable; i += 2) yield* db.put(key(i), `w${i}`)
            yield* db.flush
          }
          yield* db.compactRange()
          while (true) {
            const chunk = yield* Effect.either(pull)
            if (chunk._tag === "Left") break
            held.push(...chunk.right)
          }
          yield* Scope.close(scope, Exit.void)
          assert.strictEqual(held.length, tables * perTable)
          held.forEach((e, i) => assert.strictEqual(text(e.value), `v${i}`))
          assert.isAtMost((yield* db.stats).openTables, 2)
          assert.isAtMost(yield* mem.openHandles, 2 + 2)
          const again = Chunk.toArray(yield* Stream.runCollect(db.scan()))
          assert.strictEqual(again.length, tables * perTable)
          again.forEach((e, i) => assert.strictEqual(text(e.value), `w${i}`))
          assert.isAtMost((yield* db.stats).openTables, 2)
          assert.isAtMost(yield* mem.openHandles, 2 + 2)
        })
      )
      assert.strictEqual(yield* mem.openHandles, 0)
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("tables read per get counts only the tables a get searched, not those the bloom filter skipped", () =>
    Effect.gen(function* () {
      const readsPerGet = (bloomBitsPerKey: number) =>
        withDb({ directory: `/perget${bloomBitsPerKey}`, backgroundCompaction: false, bloomBitsPerKey }, (db) =>
          Effect.gen(function* () {
            // Ten tables, each spanning the whole key range; every key lives in exactly one of them.
            for (let t = 0; t < 10; t++) {
              for (let i = t; i < 2000; i += 10) yield* db.put(key(i), `v${i}`)
              yield* db.flush
            }
            const before = yield* db.stats
            for (let i = 0; i < 2000; i += 3) assert.strictEqual(textOf(yield* db.get(key(i))), `v${i}`)
            const after = yield* db.stats
            const gets = after.gets - before.gets
            return {
              perGet: (after.tableReads - before.tableReads) / gets,
              checks: after.bloomChecks - before.bloomChecks,
              negatives: after.bloomNegatives - before.bloomNegatives,
              overall: after.tablesReadPerGet
            }
          })
        )
      const bloom = yield* readsPerGet(10)
      assert.isAbove(bloom.negatives, 0)
      assert.isAbove(bloom.checks, bloom.negatives)
      assert.isAtLeast(bloom.perGet, 1)
      assert.isBelow(bloom.perGet, 1.5, `${bloom.perGet} tables read per get with bloom filters`)
      assert.isBelow(bloom.overall, 1.5)
      const noBloom = yield* readsPerGet(0)
      assert.strictEqual(noBloom.checks, 0)
      assert.isAbove(noBloom.perGet, 3, `${noBloom.perGet} tables read per get without bloom filters`)
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("keys-only and values-only scans return one side and leave the other out", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/sides", writeBufferSize: 4096, backgroundCompaction: false }, (db) =>
        Effect.gen(function* () {
          // In the memtable and in tables, with a deleted key that neither kind of scan may show.
          for (let i = 0; i < 300; i++) yield* db.put(key(i), `value-${i}`)
          yield* db.flush
          yield* db.delete(key(7))
          for (let i = 300; i < 320; i++) yield* db.put(key(i), `value-${i}`)
          const expected = Array.from({ length: 320 }, (_, i) => i).filter((i) => i !== 7)
          const keysOnly = Chunk.toArray(yield* Stream.runCollect(db.scan({ values: false })))
          assert.deepStrictEqual(keysOnly.map((e) => text(e.key)), expected.map(key))
          for (const e of keysOnly) assert.isUndefined(e.value)
          const valuesOnly = Chunk.toArray(yield* Stream.runCollect(db.scan({ keys: false })))
          assert.deepStrictEqual(valuesOnly.map((e) => text(e.value)), expected.map((i) => `value-${i}`))
          for (const e of valuesOnly) assert.isUndefined(e.key)
          const reversed = Chunk.toArray(yield* Stream.runCollect(db.scan({ keys: false, reverse: true, gte: key(310) })))
          assert.deepStrictEqual(reversed.map((e) => text(e.value)), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((d) => `value-31${d}`))
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a scan stopped part way releases its tables: a later compaction deletes their files", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const sstFiles = Effect.map(mem.listFiles, (files) => files.filter((f) => f.path.endsWith(".sst")).map((f) => f.path))
      yield* withDb({ directory: "/stopped", writeBufferSize: 16 * 1024, blockSize: 1024, backgroundCompaction: false }, (db) =>
        Effect.gen(function* () {
          for (let t = 0; t < 4; t++) {
            for (let i = t; i < 4000; i += 4) yield* db.put(key(i), `v${i}`)
            yield* db.flush
          }
          const before = yield* sstFiles
          assert.isAtLeast(before.length, 4)
          // Stopped by the consumer: `take` ends the stream after a few entries of the first chunk.
          const taken = yield* Stream.runCollect(Stream.take(db.scan(), 5))
          assert.deepStrictEqual(Chunk.toArray(taken).map((e) => text(e.key)), [0, 1, 2, 3, 4].map(key))
          // Interrupted: a fiber blocked in the middle of consuming the scan.
          const started = yield* Deferred.make<void>()
          const fiber = yield* db.scan().pipe(
            Stream.tap(() => Deferred.succeed(started, undefined)),
            Stream.runForEach(() => Effect.never),
            Effect.fork
          )
          yield* Deferred.await(started)
          yield* Fiber.interrupt(fiber)
          yield* db.compactRange()
          const after = yield* sstFiles
          for (const f of before) assert.notInclude(after, f, "an input table outlived the scans that read it")
          // Their readers are closed too: none is left pinned past the deletion of its file.
          const stats = yield* db.stats
          assert.isAtMost(stats.openTables, stats.levels.reduce((n, l) => n + l.tables, 0))
          assert.isAtMost(yield* mem.openHandles, stats.openTables + 2)
          assert.strictEqual(Chunk.size(yield* Stream.runCollect(db.scan())), 4000)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
