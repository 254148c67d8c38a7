/**
 * Compaction end to end on MemoryFileSystem: space is reclaimed, levels below L0 never overlap
 * (read from the manifest itself), tombstones are kept while older data lies below them, and a
 * failed compaction becomes the background error without losing anything.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import type { DbService } from "../../src/Db.js"
import { readLog } from "../../src/internal/record/logReader.js"
import { applyEdit, empty, type Version } from "../../src/internal/version/version.js"
import { decodeVersionEdit } from "../../src/internal/version/versionEdit.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions } from "../../src/Options.js"
import { textOf, withDb } from "../support.js"

/** The version CURRENT's manifest describes, replayed from the bytes on disk. */
const versionOnDisk = (dir: string, numLevels = 7) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const current = (yield* fs.readFileString(`${dir}/CURRENT`)).trim()
    const log = readLog(yield* fs.readFile(`${dir}/${current}`))
    assert.notStrictEqual(log.end, "corrupt")
    let version: Version = empty(numLevels)
    for (const record of log.records) version = applyEdit(version, decodeVersionEdit(record))
    return version
  })

const assertNoOverlapBelowL0 = (version: Version) => {
  version.levels.forEach((files, level) => {
    if (level === 0) return
    for (let i = 1; i < files.length; i++) {
      assert.isTrue(
        files[i - 1]!.largestKey < files[i]!.smallestKey,
        `L${level}: table ${files[i - 1]!.number} [${files[i - 1]!.smallestKey}, ${files[i - 1]!.largestKey}] overlaps table ${files[i]!.number} [${files[i]!.smallestKey}, ${files[i]!.largestKey}]`
      )
    }
  })
}

const directoryBytes = (dir: string) =>
  Effect.gen(function* () {
    const mem = yield* MemoryFileSystem.MemoryFileSystem
    let total = 0
    for (const f of yield* mem.listFiles) if (f.path.startsWith(`${dir}/`)) total += f.size
    return total
  })

const key = (i: number) => `user:${String(i).padStart(6, "0")}`
const value = (i: number, round: number) => `${round}:`.padEnd(100, String.fromCharCode(97 + ((i + round) % 26)))

const small: Omit<DbOptions, "directory"> = {
  writeBufferSize: 64 * 1024,
  blockSize: 1024,
  targetFileSize: 64 * 1024,
  maxBytesForLevelBase: 256 * 1024
}

/** Overwrites 10,000 keys 30 times, deletes half, compacts everything; checks the result. */
const overwriteAndCompact = (dir: string, options: Omit<DbOptions, "directory">) =>
  Effect.gen(function* () {
    const n = 10_000
    const rounds = 30
    yield* withDb({ directory: dir, ...options }, (db) =>
      Effect.gen(function* () {
        for (let round = 0; round < rounds; round++) {
          for (let i = 0; i < n; i++) yield* db.put(key(i), value(i, round))
          // The level invariant holds while compaction runs in the background.
          assertNoOverlapBelowL0(yield* versionOnDisk(dir))
        }
        for (let i = 0; i < n; i += 2) yield* db.delete(key(i))
        yield* db.compactRange()
        yield* checkContents(db, n, rounds)
        const stats = yield* db.stats
        assert.isAbove(stats.compactions, 0)
        assert.isAbove(stats.writeAmplification, 1)
      })
    )
    const version = yield* versionOnDisk(dir)
    assertNoOverlapBelowL0(version)
    const liveBytes = (n / 2) * (key(0).length + 100)
    const onDisk = yield* directoryBytes(dir)
    assert.isBelow(onDisk, 2 * liveBytes, `${onDisk} bytes on disk for ${liveBytes} bytes of live data`)
    // And everything reads back after a reopen.
    yield* withDb({ directory: dir, ...options }, (db) => checkContents(db, n, rounds))
    return version
  })

const checkContents = (db: DbService, n: number, rounds: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) {
      const got = textOf(yield* db.get(key(i)))
      const want = i % 2 === 0 ? undefined : value(i, rounds - 1)
      if (got !== want) assert.fail(`${key(i)}: got ${got?.slice(0, 10)}, want ${want?.slice(0, 10)}`)
    }
  })

/** MemoryFileSystem whose table syncs take a few milliseconds: the writer runs meanwhile. */
const slowTableSyncs = Layer.effect(
  FileSystem,
  Effect.map(FileSystem, (fs): FileSystem => ({
    ...fs,
    open: (path, options) =>
      Effect.map(fs.open(path, options), (file) =>
        path.endsWith(".sst")
          ? new Proxy(file, {
              get: (target, property) => {
                if (property === "sync") return Effect.zipRight(Effect.sleep("3 millis"), target.sync)
                const value: unknown = Reflect.get(target, property, target)
                return typeof value === "function" ? value.bind(target) : value
              }
            })
          : file
      )
  }))
).pipe(Layer.provideMerge(MemoryFileSystem.layer))

describe("compaction", () => {
  it.effect("leveled: overwrite 10,000 keys 30 times, delete half, compactRange: right contents, < 2x space, disjoint levels", () =>
    Effect.gen(function* () {
      const version = yield* overwriteAndCompact("/leveled", small)
      assert.strictEqual(version.levels[0]!.length, 0, "compactRange leaves nothing in L0")
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("size-tiered: the same workload", () =>
    Effect.gen(function* () {
      const version = yield* overwriteAndCompact("/tiered", { ...small, compaction: "tiered" })
      assert.strictEqual(version.levels[0]!.length, 1, "a full tiered compaction leaves one run")
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.live("a tombstone merged above older data is kept until nothing older lies below", () =>
    Effect.gen(function* () {
      // Tiered with merge width 2: a big old run holds k; two small newer runs (the second holding
      // k's tombstone) merge with each other but not with the old run: the tombstone must survive.
      yield* withDb({ directory: "/tomb", ...small, compaction: "tiered", tieredMinMergeWidth: 2 }, (db) =>
        Effect.gen(function* () {
          yield* db.put("k", "old value")
          for (let i = 0; i < 2000; i++) yield* db.put(key(i), value(i, 0))
          yield* db.flush
          yield* db.delete("k")
          yield* db.put("filler-a", "a")
          yield* db.flush
          yield* db.put("filler-b", "b")
          yield* db.flush
          // Let background compaction run until it has nothing left to do.
          let before = -1
          while (true) {
            yield* Effect.sleep("20 millis")
            const s = yield* db.stats
            if (s.compactions === before) break
            before = s.compactions
          }
          assert.isAbove(before, 0, "a compaction ran")
          assert.isTrue(Option.isNone(yield* db.get("k")), "the deleted key came back")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a failed manual compaction (ENOSPC) becomes the background error; a reopen recovers all", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const n = 3000
      yield* withDb({ directory: "/fail", ...small }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* db.put(key(i), value(i, 1))
          yield* db.flush
          yield* mem.injectFault({ op: "write", path: /\.sst$/, error: "ENOSPC" })
          const result = yield* Effect.either(db.compactRange())
          assert.isTrue(Either.isLeft(result), "compactRange should fail")
          // Later writes fail with the background error instead of being lost silently.
          const write = yield* Effect.either(db.put("after", "failure"))
          assert.isTrue(Either.isLeft(write) && write.left._tag === "SystemError", String(write))
          // Reads still work.
          assert.strictEqual(textOf(yield* db.get(key(7))), value(7, 1))
        })
      )
      yield* mem.clearFaults
      yield* withDb({ directory: "/fail", ...small }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) assert.strictEqual(textOf(yield* db.get(key(i))), value(i, 1))
          assert.isTrue(Option.isNone(yield* db.get("after")))
          yield* db.compactRange()
          for (let i = 0; i < n; i++) assert.strictEqual(textOf(yield* db.get(key(i))), value(i, 1))
        })
      )
      assertNoOverlapBelowL0(yield* versionOnDisk("/fail"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.live("a failed background compaction (EIO reading its inputs) stops writes with the error; a reopen recovers all", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const options = { directory: "/bgfail", ...small, level0CompactionTrigger: 2 }
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          // Two overlapping L0 tables: a real merge, not a trivial move.
          yield* db.put("a", "1")
          yield* db.put("z", "1")
          yield* db.flush
          // Flushes only write tables; compaction reads them: fail every table read from now on.
          yield* mem.injectFault({ op: "read", path: /\.sst$/, error: "EIO" })
          yield* db.put("b", "2")
          yield* db.put("y", "2")
          // The flush itself succeeds, but the compaction it starts may fail before flush returns.
          yield* Effect.either(db.flush)
          let failure: unknown = undefined
          for (let i = 0; i < 200 && failure === undefined; i++) {
            yield* Effect.sleep("5 millis")
            const r = yield* Effect.either(db.put("c", "3"))
            if (Either.isLeft(r)) failure = r.left
          }
          assert.isDefined(failure, "writes should fail once the background compaction failed")
        })
      )
      yield* mem.clearFaults
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          assert.strictEqual(textOf(yield* db.get("a")), "1")
          assert.strictEqual(textOf(yield* db.get("b")), "2")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.live("writers slow down, then wait, while L0 piles up; nothing is lost and L0 stays bounded", () =>
    Effect.gen(function* () {
      const options = {
        directory: "/stall",
        ...small,
        writeBufferSize: 8 * 1024,
        level0CompactionTrigger: 2,
        level0SlowdownTrigger: 3,
        level0StopTrigger: 4,
        maxImmutableMemtables: 1
      }
      const n = 4000
      const order = Array.from({ length: n }, (_, i) => (i * 7919) % n)
      const value = (i: number) => `${i}:${"s".repeat(100)}`
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          let maxL0 = 0
          for (let j = 0; j < n; j++) {
            yield* db.put(`k${String(order[j]).padStart(5, "0")}`, value(order[j]!))
            if (j % 25 === 0) maxL0 = Math.max(maxL0, (yield* db.stats).levels[0]!.tables)
          }
          const stats = yield* db.stats
          assert.isAbove(stats.slowdowns, 0, "no write was slowed down")
          assert.isAbove(stats.stallMicros, 0, "no write waited")
          // The stop trigger holds back rotation; at most the immutable memtables flush past it.
          assert.isAtMost(maxL0, options.level0StopTrigger + options.maxImmutableMemtables)
          for (let i = 0; i < n; i++) assert.strictEqual(textOf(yield* db.get(`k${String(i).padStart(5, "0")}`)), value(i))
        })
      )
      // Slow table syncs keep flushes and compactions behind the writer.
    }).pipe(Effect.provide(slowTableSyncs))
  )

  it.live("a loop of reads that never waits still lets pending compactions finish", () =>
    Effect.gen(function* () {
      const options = {
        directory: "/busyreads",
        ...small,
        writeBufferSize: 8 * 1024,
        level0CompactionTrigger: 2,
        level0SlowdownTrigger: 1000,
        level0StopTrigger: 1000
      }
      const n = 3000
      const name = (i: number) => `k${String((i * 7919) % n).padStart(5, "0")}`
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* db.put(name(i), `v${i}`)
          const before = yield* db.stats
          assert.isAtLeast(before.levels[0]!.tables, options.level0CompactionTrigger, "no compaction pending")
          // Synchronous reads only: nothing here waits, so the background fiber runs only if reads yield.
          const start = performance.now()
          let l0 = before.levels[0]!.tables
          while (l0 >= options.level0CompactionTrigger && performance.now() - start < 20_000) {
            for (let i = 0; i < 1000; i++) assert.strictEqual(textOf(yield* db.get(name(i))), `v${i}`)
            l0 = (yield* db.stats).levels[0]!.tables
          }
          assert.isBelow(l0, options.level0CompactionTrigger, "L0 still over the trigger after 20 s of reads")
        })
      )
    }).pipe(Effect.provide(slowTableSyncs))
  )
})

describe("flush", () => {

  it.live("a memtable frozen while the flusher writes a table keeps its log: reopen finds every write", () =>
    Effect.gen(function* () {
      const options = { directory: "/rotating", writeBufferSize: 16 * 1024, blockSize: 1024, backgroundCompaction: false }
      const n = 6000
      const value = (i: number) => `${i}-${"r".repeat(40)}`
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) {
            yield* db.put(`k${String(i).padStart(5, "0")}`, value(i))
            // Let the flusher start (and sleep in its table sync) every so often.
            if (i % 50 === 0) yield* Effect.yieldNow()
          }
          assert.isAbove((yield* db.stats).flushes, 3)
        })
      )
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) assert.strictEqual(textOf(yield* db.get(`k${String(i).padStart(5, "0")}`)), value(i), `key ${i}`)
        })
      )
    }).pipe(Effect.provide(slowTableSyncs))
  )
})

describe("seek compaction", () => {
  /** Keys 0..999 in one lower level, then an L0 table over the same range holding two keys. */
  const layout = (dir: string) => (db: DbService) =>
    Effect.gen(function* () {
      for (let i = 0; i < 1000; i++) yield* db.put(key(i), value(i, 0))
      yield* db.compactRange()
      yield* db.put(key(0), value(0, 1))
      yield* db.put(key(999), value(999, 1))
      yield* db.flush
      const before = yield* db.stats
      assert.strictEqual(before.levels[0]!.tables, 1, `${dir}: one L0 table, below the trigger`)
      assert.strictEqual(before.seekCompactions, 0)
      // Reads of keys the L0 table's range holds but the table does not: each one looks through
      // it (its filter says no) and finds the key below, so each charges it a seek.
      for (let i = 1; i <= 300; i++) assert.strictEqual(textOf(yield* db.get(key(i))), value(i, 0))
      // Background work, if any was asked for, runs until it has nothing left to do.
      let compactions = -1
      while (true) {
        yield* Effect.sleep("20 millis")
        const s = yield* db.stats
        if (s.compactions === compactions) return s
        compactions = s.compactions
      }
    })

  it.live("a table reads keep looking through is compacted into the level below after max(100, size / 16 KiB) of them", () =>
    Effect.gen(function* () {
      const options = { ...small }
      const after = yield* withDb({ directory: "/seek", ...options }, layout("/seek"))
      assert.isAtLeast(after.seekCompactions, 1, "a compaction asked for by seeks ran")
      assert.strictEqual(after.levels[0]!.tables, 0, "the L0 table went down")
      yield* withDb({ directory: "/seek", ...options }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 1000; i++) {
            assert.strictEqual(textOf(yield* db.get(key(i))), value(i, i === 0 || i === 999 ? 1 : 0), `key ${i}`)
          }
        })
      )
      assertNoOverlapBelowL0(yield* versionOnDisk("/seek"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.live("seekCompaction: false leaves the table where it is", () =>
    Effect.gen(function* () {
      const options = { ...small, seekCompaction: false }
      const after = yield* withDb({ directory: "/noseek", ...options }, layout("/noseek"))
      assert.strictEqual(after.seekCompactions, 0)
      assert.strictEqual(after.levels[0]!.tables, 1)
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
