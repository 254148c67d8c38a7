/**
 * The write path: one writer at a time appends to the WAL and inserts into the memtable (group
 * commit in the manner of LevelDB). A write that finds the log busy (the leader waits on a
 * fsync, a slow file system or a stall) queues; the leader then commits everything queued as
 * one group: one file write, and one fsync if any member asked for `sync`.
 *
 * Before a group is written the leader makes room as the write-stall rule says
 * (`compaction/writeStall.ts`): it slows writes down when L0 piles up, waits when immutable
 * memtables or L0 tables reach their limits, and rotates a full memtable onto a fresh WAL.
 *
 * Every write commits through one path, `commit`: stamp the sequences, append to the log, sync if
 * asked, apply to the memtable, publish. It stays synchronous as long as the log appends
 * synchronously and nobody asked for a sync (the common case: no fiber suspends, no writer role is
 * taken); otherwise it becomes an effect, run holding the writer role.
 *
 * A failed log write, sync or rotation leaves the log in an unknown state (part of a record may
 * be on disk, and the log writer's block position has moved on). As in LevelDB the failure is
 * kept as the background error: every later write fails with it, so nothing is ever appended
 * after a torn record, and reopening recovers the log up to its last whole record.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { Deferred, Effect, FiberId, type Scope } from "effect"
import type { DbError } from "../errors.js"
import { DbClosed } from "../errors.js"
import { VersionSet } from "./version/versionSet.js"
import { Memtables } from "./memtable/memtables.js"
import { Wal } from "./wal/wal.js"
import { DbStateTag } from "./dbState.js"
import { DbConfig } from "./dbConfig.js"
import { realSleep } from "./realSleep.js"
import { stallDecision, stallThresholds } from "./compaction/writeStall.js"
import { KIND_DELETE } from "./key/internalKey.js"
import { claimBatch, encodeBatch, type EncodedBatch, type ResolvedOp, setSequence } from "./wal/batchCodec.js"
import type { Latency } from "./metrics/dbMetrics.js"

const EMPTY = new Uint8Array(0)

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
const identity: Restore = (effect) => effect

interface Pending {
  readonly batch: EncodedBatch
  readonly sync: boolean
  readonly done: Deferred.Deferred<void, DbError>
}

export interface Writer {
  /**
   * Commits `batch` (validate.ts `encodeOps`, or a copy of it if it was committed already: see
   * `claimBatch`); `latency` (sampled) times the write, group commit and stalls included.
   */
  readonly write: (batch: EncodedBatch, sync: boolean, latency?: Latency) => Effect.Effect<void, DbError>
  /** Rotates the memtable if it holds anything (for `flush`). */
  readonly rotate: Effect.Effect<boolean, DbError>
  /** Deletes the keys no write touched since `written` began recording (for `deleteRange`). */
  readonly deleteUnwritten: (keys: ReadonlyArray<string>, written: ReadonlySet<string>, sync: boolean) => Effect.Effect<void, DbError>
  /**
   * Adds the keys of every write applied from now until the scope closes to `keys`: a
   * `deleteRange` in progress keeps what was written after it started (free when none runs).
   */
  readonly watchWrites: (keys: Set<string>) => Effect.Effect<void, never, Scope.Scope>
  /** Completes when no write is in progress (for close). */
  readonly idle: Effect.Effect<void>
  /**
   * At close, once no write is in progress and none can start: when `flushAtClose` says flushing
   * the memtables (the mutable one and those frozen) is cheaper than replaying their logs at the
   * next open, rotates a non-empty mutable memtable and answers true: the caller flushes them all.
   */
  readonly sealForClose: Effect.Effect<boolean, DbError>
}

/**
 * Below this many bytes in the memtable a close leaves it in its log: replaying 64 KiB at the next
 * open costs about 2 ms, less than writing a table and syncing it and the manifest. Above it the
 * close flushes, so a cleanly closed database opens without replaying a full memtable (110 ms for
 * 4 MiB of single puts).
 */
export const CLOSE_FLUSH_MIN_BYTES = 64 * 1024

/** Whether a close flushes memtables holding `bytes` (see `CLOSE_FLUSH_MIN_BYTES`). */
export const flushAtClose = (bytes: number): boolean => bytes >= CLOSE_FLUSH_MIN_BYTES

/** The writer over the database's parts, each taken from the context once. */
export const makeWriter: Effect.Effect<Writer, never, DbConfig | DbStateTag | Wal | Memtables | VersionSet> = Effect.gen(function* () {
  const { options } = yield* DbConfig
  const state = yield* DbStateTag
  const wal = yield* Wal
  const memtables = yield* Memtables
  const versions = yield* VersionSet
  const thresholds = stallThresholds(options)
  /** Sets every applied write adds its keys to while registered (`watchWrites`). */
  const watchers = new Set<Set<string>>()
  let writing = false
  let queue: Array<Pending> = []
  let idleWaiters: Array<Deferred.Deferred<void>> = []

  /** Keeps a log failure as the background error (see the module comment). */
  const keepLogFailure = <A>(io: Effect.Effect<A, DbError>): Effect.Effect<A, DbError> =>
    Effect.uninterruptible(Effect.tapError(io, (error) => Effect.sync(() => state.lifecycle.fail(error))))

  const rotateNow = Effect.suspend(() => {
    const number = versions.newFileNumber()
    return keepLogFailure(wal.open(number)).pipe(
      Effect.map(() => {
        memtables.rotate(number)
        state.work.raise()
        return true
      })
    )
  })

  /** The tree as a write finds it now. */
  const decide = (slowed: boolean) =>
    stallDecision(
      {
        level0Tables: versions.current().levels[0]!.length,
        memtableBytes: memtables.mutable().approximateBytes,
        immutableMemtables: memtables.immutables().length,
        slowed
      },
      thresholds,
      options
    )

  /** Waits until the memtable has room, as the write-stall rule says. */
  const makeRoom: Effect.Effect<void, DbError> = Effect.suspend(() => {
    let slowed = false
    let stopped = false
    const step: Effect.Effect<void, DbError> = Effect.suspend(() => {
      if (state.lifecycle.backgroundError !== undefined) return Effect.fail(state.lifecycle.backgroundError)
      // Read with the decision: background progress after it ends a "wait" (see Lifecycle).
      const seen = state.lifecycle.changes
      switch (decide(slowed)) {
        case "proceed":
          return Effect.void
        case "slowdown":
          slowed = true
          state.counters.slowdowns++
          return timedStall(realSleep(1)).pipe(Effect.zipRight(step))
        case "wait":
          if (!stopped) {
            stopped = true
            state.counters.writeStops++
          }
          state.work.raise()
          return timedStall(state.lifecycle.awaitChangeSince(seen)).pipe(Effect.zipRight(step))
        case "rotate":
          return rotateNow.pipe(Effect.asVoid)
      }
    })
    return step
  })

  const timedStall = <A, E>(wait: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const start = performance.now()
      return Effect.ensuring(wait, Effect.sync(() => (state.counters.stallMicros += Math.round((performance.now() - start) * 1000))))
    })

  /**
   * Commits batches: stamps their sequences, appends them to the log in one write, syncs if asked,
   * then applies them to the memtable and publishes them to readers. Done at once (undefined) when
   * the log appended synchronously and no sync was asked; failed at once (the error); otherwise the
   * effect that finishes the commit. The caller makes sure no other commit runs until that effect
   * ends (it holds the writer role), and runs it uninterruptibly: a record in the log whose
   * sequences were not taken would be replayed at recovery beside the next write stamped with the
   * same sequences. A log failure is kept as the background error.
   */
  const commit = (
    batches: ReadonlyArray<EncodedBatch>,
    sync: boolean
  ): undefined | DbError | Effect.Effect<void, DbError> => {
    const start = state.sequences.last
    let seq = start
    // The common lone batch allocates nothing here: the log frames the payloads before it returns.
    const payloads = batches.length === 1 ? onePayload : new Array<Uint8Array>(batches.length)
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!
      setSequence(b.payload, seq + 1)
      seq += b.keys.length
      payloads[i] = b.payload
    }
    const appended = wal.append(payloads)
    onePayload[0] = EMPTY
    if (appended === undefined && !sync) {
      publish(batches, start, seq)
      return undefined
    }
    if (isPlatformError(appended)) {
      state.lifecycle.fail(appended)
      return appended
    }
    const io: Effect.Effect<void, PlatformError> =
      appended === undefined ? wal.sync : sync ? Effect.zipRight(appended, wal.sync) : appended
    const owned = batches === oneBatch ? [batches[0]!] : batches
    return Effect.map(keepLogFailure(io), () => publish(owned, start, seq))
  }

  /** Applies committed batches (sequences start + 1 .. seq) to the memtable and makes them visible. */
  const publish = (batches: ReadonlyArray<EncodedBatch>, start: number, seq: number): void => {
    let first = start + 1
    state.sequences.last = seq
    for (const b of batches) {
      apply(b, first)
      first += b.keys.length
    }
    state.sequences.visible = seq
  }

  /** Reused arrays for a lone batch (a commit reads them before it returns). */
  const onePayload: Array<Uint8Array> = [EMPTY]
  const oneBatch: Array<EncodedBatch> = []

  /** `commit` as an effect (for callers that hold the writer role already). */
  const commitEffect = (batches: ReadonlyArray<EncodedBatch>, sync: boolean): Effect.Effect<void, DbError> =>
    Effect.suspend(() => {
      const r = commit(batches, sync)
      return r === undefined ? Effect.void : Effect.isEffect(r) ? r : Effect.fail(r)
    })

  const apply = (batch: EncodedBatch, first: number) => {
    const { keys, deletes } = batch
    memtables.addBatch(batch, first)
    state.counters.puts += keys.length - deletes
    state.counters.deletes += deletes
    if (watchers.size > 0) for (const w of watchers) for (const k of keys) w.add(k)
    state.counters.userBytesWritten += batch.userBytes
  }

  /** Makes room, then commits; the caller holds the writer role. */
  const commitGroup = (batches: ReadonlyArray<EncodedBatch>, sync: boolean, restore: Restore = identity) =>
    Effect.zipRight(restore(makeRoom), commitEffect(batches, sync))

  const failAll = (group: ReadonlyArray<Pending>, error: DbError) => {
    for (const p of group) Deferred.unsafeDone(p.done, Effect.fail(error))
  }

  /** Serves the queue until it is empty, then releases the writer role. */
  const drainQueue: Effect.Effect<void> = Effect.suspend(() => {
    if (queue.length === 0) {
      finishIdle()
      return Effect.void
    }
    const group = queue
    queue = []
    return commitGroup(group.map((p) => p.batch), group.some((p) => p.sync)).pipe(
      Effect.matchEffect({
        onFailure: (e) => Effect.sync(() => failAll(group, e)),
        onSuccess: () => Effect.sync(() => { for (const p of group) Deferred.unsafeDone(p.done, Effect.void) })
      }),
      Effect.zipRight(drainQueue)
    )
  })

  /**
   * Runs uninterruptibly but where `restore` allows: a writer interrupted between taking the
   * writer role and the `ensuring` that gives it back would keep every later writer waiting.
   * Waits (a stall, a queued write's turn) stay interruptible; an interrupted queued write may
   * still be committed by the leader, as any write in flight may.
   */
  const write = (encoded: EncodedBatch, sync: boolean, latency?: Latency): Effect.Effect<void, DbError> =>
    Effect.uninterruptibleMask((restore) => Effect.suspend(() => {
      if (state.lifecycle.closed) return Effect.fail(new DbClosed({ method: "write" }))
      if (state.lifecycle.backgroundError !== undefined) return Effect.fail(state.lifecycle.backgroundError)
      // -1 unless this write is one the sampled latency times.
      const start = latency === undefined ? -1 : latency.start()
      const batch = claimBatch(encoded)
      if (writing) {
        const done = Deferred.unsafeMake<void, DbError>(FiberId.none)
        queue.push({ batch, sync, done })
        return timed(restore(Deferred.await(done)), latency, start)
      }
      if (!sync && decide(false) === "proceed") {
        // Room in the memtable and no sync: commit now; only a log that must wait takes the role.
        oneBatch[0] = batch
        const r = commit(oneBatch, false)
        oneBatch.length = 0
        if (r === undefined) {
          if (start >= 0) latency!.record(start)
          return Effect.void
        }
        if (!Effect.isEffect(r)) return Effect.fail(r)
        writing = true
        return Effect.matchCauseEffect(timed(r, latency, start), {
          onFailure: (cause) => Effect.zipRight(drainQueue, Effect.failCause(cause)),
          onSuccess: () => drainQueue
        })
      }
      writing = true
      return timed(commitGroup([batch], sync, restore), latency, start).pipe(Effect.ensuring(drainQueue))
    }))

  /** `effect`, recording its time when `start` says the write is timed (the queue it serves after is not counted). */
  const timed = <A, E>(effect: Effect.Effect<A, E>, latency: Latency | undefined, start: number): Effect.Effect<A, E> =>
    start < 0 ? effect : Effect.ensuring(effect, Effect.sync(() => latency!.record(start)))

  function finishIdle(): void {
    writing = false
    if (idleWaiters.length > 0) {
      const waiters = idleWaiters
      idleWaiters = []
      for (const w of waiters) Deferred.unsafeDone(w, Effect.void)
    }
  }

  const waitIdle: Effect.Effect<void> = Effect.suspend(() => {
    if (!writing) return Effect.void
    const d = Deferred.unsafeMake<void>(FiberId.none)
    idleWaiters.push(d)
    return Deferred.await(d).pipe(Effect.zipRight(waitIdle))
  })

  /** Takes the writer role (waiting for the current writer) and rotates a non-empty memtable. */
  const rotate: Effect.Effect<boolean, DbError> = waitIdle.pipe(
    Effect.zipRight(
      // Masked like `write`: the writer role is always given back.
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          if (writing) return restore(rotate)
          if (state.lifecycle.closed) return Effect.fail(new DbClosed({ method: "flush" }))
          if (memtables.mutable().isEmpty) return Effect.succeed(false)
          writing = true
          return rotateNow.pipe(Effect.ensuring(drainQueue))
        })
      )
    )
  )

  /**
   * Deletes those of `keys` that no write has touched since `written` began recording (see
   * `watchWrites`), holding the writer role alone: the check and the apply are one
   * step, with no other batch between them.
   */
  const deleteUnwritten = (keys: ReadonlyArray<string>, written: ReadonlySet<string>, sync: boolean): Effect.Effect<void, DbError> =>
    waitIdle.pipe(
      Effect.zipRight(
        Effect.uninterruptibleMask((restore) =>
          Effect.suspend(() => {
            if (writing) return restore(deleteUnwritten(keys, written, sync))
            if (state.lifecycle.closed) return Effect.fail(new DbClosed({ method: "deleteRange" }))
            if (state.lifecycle.backgroundError !== undefined) return Effect.fail(state.lifecycle.backgroundError)
            const ops: Array<ResolvedOp> = []
            for (const key of keys) if (!written.has(key)) ops.push({ kind: KIND_DELETE, key, value: undefined, valueLength: 0 })
            if (ops.length === 0) return Effect.void
            writing = true
            return commitGroup([encodeBatch(ops)], sync, restore).pipe(Effect.ensuring(drainQueue))
          })
        )
      )
    )

  const watchWrites = (keys: Set<string>): Effect.Effect<void, never, Scope.Scope> =>
    Effect.acquireRelease(
      Effect.sync(() => void watchers.add(keys)),
      () => Effect.sync(() => void watchers.delete(keys))
    )

  const sealForClose: Effect.Effect<boolean, DbError> = Effect.suspend(() => {
    if (!options.flushOnClose || writing || !state.lifecycle.closed || state.lifecycle.backgroundError !== undefined) {
      return Effect.succeed(false)
    }
    if (!flushAtClose(memtables.bytes())) return Effect.succeed(false)
    return memtables.mutable().isEmpty ? Effect.succeed(true) : rotateNow
  })

  return { write, rotate, deleteUnwritten, watchWrites, idle: waitIdle, sealForClose } satisfies Writer
})
