/**
 * A loop of scans that never waits must not starve background work (issue 10.7). Each scan here
 * reads a range held in the memtable only, on MemoryFileSystem: it returns without suspending
 * once, so the loop gives the thread away only where the engine yields. Table syncs and WAL syncs
 * take a few real milliseconds (timers: they complete only when the event loop turns), so the
 * flusher, the compactor and a synced put in another fiber finish only if scans yield to the
 * event loop, as point operations do (`DbState.yieldDue`: every 2 ms of a run of foreground work).
 * Before, a scan never yielded: the event loop turned only when
 * Effect's scheduler happened to fall back to a timer, and flushes and puts waited seconds (here:
 * none finished in 20,000 scans).
 *
 * Mirrors "a loop of reads that never waits still lets pending compactions finish"
 * (compaction.test.ts) for scans. The two tests at the end are engine bugs this file found after
 * that fix, reduced (they failed before `yieldDue` yielded whatever was pending).
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, FiberId, Layer, Stream } from "effect"
import type { DbService } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions } from "../../src/Options.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { text, withDb } from "../support.js"

/**
 * Holds table syncs while closed, so that background work stays pending: until the concurrent
 * put is done, the loop must not end because the background went idle (see the last test below).
 */
class SyncGate {
  private gate: Deferred.Deferred<void> | undefined = undefined
  private passes = 0
  /** Closes the gate after `passes` more table syncs. */
  hold(passes = 0): void {
    this.gate = Deferred.unsafeMake<void>(FiberId.none)
    this.passes = passes
  }
  release(): void {
    if (this.gate !== undefined) Deferred.unsafeDone(this.gate, Exit.void)
    this.gate = undefined
  }
  readonly pass = <A, E>(sync: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      if (this.gate === undefined) return sync
      if (this.passes > 0) {
        this.passes--
        return sync
      }
      return Effect.zipRight(Deferred.await(this.gate), sync)
    })
}

/** Table and WAL syncs sleep 3 ms (real time) first; table syncs wait at the gate before. */
const slowSyncs = (gate: SyncGate) =>
  Layer.effect(
    FileSystem,
    Effect.map(FileSystem, (fs): FileSystem => ({
      ...fs,
      open: (path, options) =>
        Effect.map(fs.open(path, options), (file) =>
          path.endsWith(".sst") || path.endsWith(".log")
            ? new Proxy(file, {
                get: (target, property) => {
                  if (property === "sync") {
                    const sync = Effect.zipRight(Effect.sleep("3 millis"), target.sync)
                    return path.endsWith(".sst") ? gate.pass(sync) : sync
                  }
                  const value: unknown = Reflect.get(target, property, target)
                  return typeof value === "function" ? value.bind(target) : value
                }
              })
            : file
        )
    }))
  ).pipe(Layer.provideMerge(MemoryFileSystem.layer))

const small: Omit<DbOptions, "directory"> = {
  writeBufferSize: 8 * 1024,
  blockSize: 1024,
  targetFileSize: 64 * 1024,
  maxBytesForLevelBase: 256 * 1024,
  level0SlowdownTrigger: 1000,
  level0StopTrigger: 1000
}

/**
 * Scans a loop may take before the put and background work are done: far above what scans that
 * yield need (a few: a yield every 2 ms lets the timers fire); scans that never yield went past
 * 20,000 without letting either finish.
 */
const CAP = 500

const M = 64
const memKey = (i: number) => `m${String(i).padStart(4, "0")}`

/**
 * Scans the memtable-only range until a synced put forked at the start has completed, then opens
 * the gate, and scans on until `done` holds; fails past `CAP` scans. Returns the scans it took.
 */
const scanLoop = (db: DbService, gate: SyncGate, done: () => Effect.Effect<boolean, unknown>) =>
  Effect.gen(function* () {
    const put = yield* Effect.fork(db.put("m-concurrent", "put while scans run", { sync: true }))
    let scans = 0
    let finished = false
    let putDone = false
    while (!(finished && putDone)) {
      assert.isBelow(scans, CAP, `after ${CAP} scans: background work done ${finished}, concurrent put done ${putDone}`)
      const entries = Chunk.toArray(yield* Stream.runCollect(db.scan({ prefix: "m0" })))
      assert.strictEqual(entries.length, M)
      assert.strictEqual(text(entries[0]!.key), memKey(0))
      scans++
      putDone = putDone || put.unsafePoll() !== null
      if (putDone) gate.release()
      finished = finished || (yield* done())
    }
    yield* Fiber.join(put)
    return scans
  })

/**
 * Writes L0 tables over the trigger of 2 without background compaction, and the scanned keys
 * after them (in the WAL: the memtable when the database opens again).
 */
const l0Tables = (directory: string) =>
  withDb({ directory, ...small, backgroundCompaction: false }, (db) =>
    Effect.gen(function* () {
      const n = 3000
      for (let i = 0; i < n; i++) yield* db.put(`k${String((i * 7919) % n).padStart(5, "0")}`, `v${i}`)
      yield* db.flush
      for (let i = 0; i < M; i++) yield* db.put(memKey(i), `m${i}`)
      assert.isAtLeast((yield* db.stats).levels[0]!.tables, 2)
    })
  )


describe("scan starvation", () => {
  it.live("a loop of scans that never waits lets a frozen memtable flush and a synced put complete", () => {
    const gate = new SyncGate()
    return Effect.gen(function* () {
      yield* withDb({ directory: "/busyscans-flush", ...small, backgroundCompaction: false }, (db) =>
        Effect.gen(function* () {
          gate.hold()
          for (let i = 0; i < M; i++) yield* db.put(memKey(i), `m${i}`)
          // Fill the memtable until it freezes: a flush is pending when the loop starts.
          let i = 0
          while ((yield* db.stats).immutableMemtables === 0) yield* db.put(`k${String(i++).padStart(6, "0")}`, "v".repeat(100))
          const before = yield* db.stats
          assert.strictEqual(before.flushes, 0)
          const scans = yield* scanLoop(db, gate, () => Effect.map(db.stats, (s) => s.flushes > before.flushes))
          yield* Effect.logDebug(`flush done after ${scans} scans`)
        })
      )
    }).pipe(Effect.provide(slowSyncs(gate)))
  })

  it.live("a loop of scans that never waits lets pending compactions finish and a synced put complete", () => {
    const gate = new SyncGate()
    return Effect.gen(function* () {
      // Each half of the keys fits one memtable: the second flush makes the second L0 table. (With
      // 64 KiB the second half sometimes filled one: a flush and a compaction ran before the gate
      // closed, the compaction took the gate's one pass, and the flush below waited forever.)
      const options = { directory: "/busyscans-compaction", ...small, writeBufferSize: 1024 * 1024, level0CompactionTrigger: 2 }
      const n = 3000
      const name = (i: number) => `k${String((i * 7919) % n).padStart(5, "0")}`
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n / 2; i++) yield* db.put(name(i), `v${i}`)
          yield* db.flush
          for (let i = n / 2; i < n; i++) yield* db.put(name(i), `v${i}`)
          const one = yield* db.stats
          assert.deepStrictEqual([one.levels[0]!.tables, one.immutableMemtables, one.compactions], [1, 0, 0], "the second half stayed in the memtable")
          // This flush's table sync passes; the compaction's waits (until the put is done).
          gate.hold(1)
          yield* db.flush
          // The scanned keys, in the memtable, in one write (at most one yield to the compaction).
          const batch = WriteBatch.make()
          for (let i = 0; i < M; i++) batch.put(memKey(i), `m${i}`)
          yield* db.write(batch)
          const before = yield* db.stats
          assert.isAtLeast(before.levels[0]!.tables, options.level0CompactionTrigger, "no compaction pending")
          const scans = yield* scanLoop(db, gate, () => Effect.map(db.stats, (s) => s.levels[0]!.tables < options.level0CompactionTrigger))
          yield* Effect.logDebug(`compactions done after ${scans} scans`)
        })
      )
    }).pipe(Effect.provide(slowSyncs(gate)))
  })

  /**
   * The work the background fiber finds when the database opens (here an L0 compaction, picked
   * before anything woke it) gets its turns too. (Found by this file: `yieldDue` once yielded only
   * while a flag said the background had work, and the flag started false.)
   */
  it.live("a loop of scans started at open lets the compaction picked at open finish", () => {
    const gate = new SyncGate()
    return Effect.gen(function* () {
      const directory = "/busyscans-open"
      yield* l0Tables(directory)
      const options = { directory, ...small, level0CompactionTrigger: 2 }
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          const before = yield* db.stats
          assert.isAtLeast(before.levels[0]!.tables, options.level0CompactionTrigger, "no compaction pending")
          yield* scanLoop(db, gate, () => Effect.map(db.stats, (s) => s.levels[0]!.tables < options.level0CompactionTrigger))
        })
      )
    }).pipe(Effect.provide(slowSyncs(gate)))
  })

  /**
   * With no background work pending, a loop that never waits (scans here; gets alike) still lets
   * another fiber's operation waiting on I/O finish: a synced put (or any put on a file system
   * without synchronous appends, such as platform-node's). (Found by this file: `yieldDue` once
   * yielded only to background work.)
   */
  it.live("with no background work pending, a loop of scans lets a synced put complete", () => {
    const gate = new SyncGate()
    return Effect.gen(function* () {
      // Room for the M keys in one memtable (nothing to flush).
      yield* withDb({ directory: "/busyscans-idle", ...small, writeBufferSize: 64 * 1024 }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < M; i++) yield* db.put(memKey(i), `m${i}`)
          assert.strictEqual((yield* db.stats).immutableMemtables, 0)
          yield* scanLoop(db, gate, () => Effect.succeed(true))
        })
      )
    }).pipe(Effect.provide(slowSyncs(gate)))
  })
})
