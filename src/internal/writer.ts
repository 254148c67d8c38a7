/**
 * The write path: one writer at a time appends to the WAL and inserts into the memtable (group
 * commit in the manner of LevelDB). A write that finds the log busy (the leader waits on a
 * fsync, a slow file system or a stall) queues; the leader then commits everything queued as
 * one group: one file write, and one fsync if any member asked for `sync`.
 *
 * Before a group is written the leader makes room: it slows writes down when L0 piles up, waits
 * when immutable memtables or L0 tables reach their limits, and rotates a full memtable onto a
 * fresh WAL.
 *
 * A failed log write, sync or rotation leaves the log in an unknown state (part of a record may
 * be on disk, and the log writer's block position has moved on). As in LevelDB the failure is
 * kept as the background error: every later write fails with it, so nothing is ever appended
 * after a torn record, and reopening recovers the log up to its last whole record.
 */
import { isPlatformError } from "@effect/platform/Error"
import { Deferred, Effect, FiberId } from "effect"
import type { DbError } from "../errors.js"
import { DbClosed } from "../errors.js"
import type { Manifest } from "../Manifest.js"
import type { Memtable } from "../Memtable.js"
import type { ResolvedOptions } from "../Options.js"
import type { Wal } from "../Wal.js"
import type { DbState } from "./dbState.js"
import { realSleep } from "./realSleep.js"
import { KIND_DELETE } from "./key/internalKey.js"
import { encodeBatch, type EncodedBatch, type ResolvedOp, setSequence } from "./wal/batchCodec.js"

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
const identity: Restore = (effect) => effect

interface Pending {
  readonly batch: EncodedBatch
  readonly sync: boolean
  readonly done: Deferred.Deferred<void, DbError>
}

export interface Writer {
  readonly write: (ops: ReadonlyArray<ResolvedOp>, sync: boolean) => Effect.Effect<void, DbError>
  /** Rotates the memtable if it holds anything (for `flush`). */
  readonly rotate: Effect.Effect<boolean, DbError>
  /** Deletes the keys no write touched since `written` began recording (for `deleteRange`). */
  readonly deleteUnwritten: (keys: ReadonlyArray<string>, written: ReadonlySet<string>, sync: boolean) => Effect.Effect<void, DbError>
  /** Completes when no write is in progress (for close). */
  readonly idle: Effect.Effect<void>
}

export const makeWriter = (deps: {
  readonly options: ResolvedOptions
  readonly state: DbState
  readonly wal: Wal
  readonly memtable: Memtable
  readonly manifest: Manifest
}): Writer => {
  const { options, state, wal, memtable, manifest } = deps
  // Under size-tiered compaction L0 holds every run, up to twice the merge width by design.
  const l0Allowance = options.compaction === "tiered" ? 2 * options.tieredMinMergeWidth : 0
  const slowdownAt = options.backgroundCompaction ? options.level0SlowdownTrigger + l0Allowance : Number.POSITIVE_INFINITY
  const stopAt = options.backgroundCompaction ? options.level0StopTrigger + l0Allowance : Number.POSITIVE_INFINITY
  let writing = false
  let queue: Array<Pending> = []
  let idleWaiters: Array<Deferred.Deferred<void>> = []

  /** Keeps a log failure as the background error (see the module comment). */
  const logFailed = (error: DbError): void => {
    if (state.backgroundError === undefined) state.backgroundError = error
    state.notifyChange()
  }
  const keepLogFailure = <A>(io: Effect.Effect<A, DbError>): Effect.Effect<A, DbError> =>
    Effect.uninterruptible(Effect.tapError(io, (error) => Effect.sync(() => logFailed(error))))

  const rotateNow = Effect.suspend(() => {
    const number = manifest.newFileNumber()
    return keepLogFailure(wal.open(number)).pipe(
      Effect.map(() => {
        memtable.rotate(number)
        state.signalWork()
        return true
      })
    )
  })

  /** Waits until the memtable has room, rotating it when full. */
  const makeRoom: Effect.Effect<void, DbError> = Effect.suspend(() => {
    let slowed = false
    const step: Effect.Effect<void, DbError> = Effect.suspend(() => {
      if (state.backgroundError !== undefined) return Effect.fail(state.backgroundError)
      const l0 = manifest.current().levels[0]!.length
      if (!slowed && l0 >= slowdownAt) {
        slowed = true
        state.slowdowns++
        return timedStall(realSleep(1)).pipe(Effect.zipRight(step))
      }
      if (memtable.mutable().approximateBytes < options.writeBufferSize) return Effect.void
      if (memtable.immutables().length >= options.maxImmutableMemtables || l0 >= stopAt) {
        state.signalWork()
        return timedStall(state.awaitChange()).pipe(Effect.zipRight(step))
      }
      return rotateNow.pipe(Effect.asVoid)
    })
    return step
  })

  const timedStall = <A, E>(wait: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const start = performance.now()
      return Effect.ensuring(wait, Effect.sync(() => (state.stallMicros += Math.round((performance.now() - start) * 1000))))
    })

  const apply = (batch: EncodedBatch, first: number) => {
    const { keys, kinds, values } = batch
    for (let i = 0; i < keys.length; i++) memtable.add(keys[i]!, first + i, kinds[i]!, values[i]!)
    if (state.writtenKeyWatchers.size > 0) for (const w of state.writtenKeyWatchers) for (const k of keys) w.add(k)
    state.userBytesWritten += batch.userBytes
  }

  /** Commits one group; the caller holds `writing`. */
  const commitGroup = (
    group: ReadonlyArray<Pending> | undefined,
    lead: EncodedBatch | undefined,
    leadSync: boolean,
    restore: Restore = identity
  ) => Effect.zipRight(restore(makeRoom), appendGroup(group, lead, leadSync))

  /**
   * Stamps the group's sequences, appends it, syncs if asked and applies it. Always run
   * uninterruptibly (from `write`'s mask or from `drainQueue`, a finalizer): a record in the log
   * whose sequences were not taken would be replayed at recovery beside the next write stamped
   * with the same sequences.
   */
  const appendGroup = (group: ReadonlyArray<Pending> | undefined, lead: EncodedBatch | undefined, leadSync: boolean) =>
    Effect.gen(function* () {
      let seq = state.lastSequence
      let needSync = leadSync
      const batches: Array<EncodedBatch> = []
      if (lead !== undefined) batches.push(lead)
      if (group !== undefined) for (const p of group) {
        batches.push(p.batch)
        if (p.sync) needSync = true
      }
      const firsts: Array<number> = []
      for (const b of batches) {
        firsts.push(seq + 1)
        setSequence(b.payload, seq + 1)
        seq += b.keys.length
      }
      yield* keepLogFailure(wal.appendGroup(batches.map((b) => b.payload)))
      if (needSync) yield* keepLogFailure(wal.sync)
      state.lastSequence = seq
      for (let i = 0; i < batches.length; i++) apply(batches[i]!, firsts[i]!)
      state.visibleSequence = seq
    })

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
    return commitGroup(group, undefined, false).pipe(
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
  const write = (ops: ReadonlyArray<ResolvedOp>, sync: boolean): Effect.Effect<void, DbError> =>
    Effect.uninterruptibleMask((restore) => Effect.suspend(() => {
      if (state.closed) return Effect.fail(new DbClosed({ method: "write" }))
      if (state.backgroundError !== undefined) return Effect.fail(state.backgroundError)
      const batch = encodeBatch(ops)
      if (writing) {
        const done = Deferred.unsafeMake<void, DbError>(FiberId.none)
        queue.push({ batch, sync, done })
        return restore(Deferred.await(done))
      }
      if (!sync && hasRoom() && wal.canAppendNow()) return commitNow(batch)
      writing = true
      if (!sync && hasRoom()) return commitAlone(batch)
      return commitGroup(undefined, batch, sync, restore).pipe(Effect.ensuring(drainQueue))
    }))

  /** True when a write can go ahead without slowing down, waiting or rotating. */
  const hasRoom = (): boolean =>
    memtable.mutable().approximateBytes < options.writeBufferSize &&
    manifest.current().levels[0]!.length < slowdownAt

  /**
   * The common case, synchronous from start to end: a lone unsynced write with room in the
   * memtable, on a log file that appends synchronously. Nothing can interleave, so no writer role
   * is taken.
   */
  const commitNow = (batch: EncodedBatch): Effect.Effect<void, DbError> => {
    const first = state.lastSequence + 1
    setSequence(batch.payload, first)
    try {
      wal.appendNow(batch.payload)
    } catch (error) {
      if (!isPlatformError(error)) throw error
      logFailed(error)
      return Effect.fail(error)
    }
    state.lastSequence = first + batch.keys.length - 1
    apply(batch, first)
    state.visibleSequence = state.lastSequence
    return Effect.void
  }

  /** The common case, kept to one WAL effect: a lone unsynced write with room in the memtable. */
  const commitAlone = (batch: EncodedBatch): Effect.Effect<void, DbError> => {
    const first = state.lastSequence + 1
    setSequence(batch.payload, first)
    // Uninterruptible (the caller, `write`, masks): the append and the apply are one step.
    const committed = Effect.map(keepLogFailure(wal.append(batch.payload)), () => {
      state.lastSequence = first + batch.keys.length - 1
      apply(batch, first)
      state.visibleSequence = state.lastSequence
    })
    return Effect.matchCauseEffect(committed, {
      onFailure: (cause) => Effect.zipRight(drainQueue, Effect.failCause(cause)),
      onSuccess: () => (queue.length === 0 ? release : drainQueue)
    })
  }

  /** Gives up the writer role when nobody queued (the fast path's exit). */
  const release: Effect.Effect<void> = Effect.suspend(() => (queue.length === 0 ? (finishIdle(), Effect.void) : drainQueue))

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
          if (state.closed) return Effect.fail(new DbClosed({ method: "flush" }))
          if (memtable.mutable().isEmpty) return Effect.succeed(false)
          writing = true
          return rotateNow.pipe(Effect.ensuring(drainQueue))
        })
      )
    )
  )

  /**
   * Deletes those of `keys` that no write has touched since `written` began recording (see
   * `DbState.writtenKeyWatchers`), holding the writer role alone: the check and the apply are one
   * step, with no other batch between them.
   */
  const deleteUnwritten = (keys: ReadonlyArray<string>, written: ReadonlySet<string>, sync: boolean): Effect.Effect<void, DbError> =>
    waitIdle.pipe(
      Effect.zipRight(
        Effect.uninterruptibleMask((restore) =>
          Effect.suspend(() => {
            if (writing) return restore(deleteUnwritten(keys, written, sync))
            if (state.closed) return Effect.fail(new DbClosed({ method: "deleteRange" }))
            if (state.backgroundError !== undefined) return Effect.fail(state.backgroundError)
            const ops: Array<ResolvedOp> = []
            for (const key of keys) if (!written.has(key)) ops.push({ kind: KIND_DELETE, key, value: undefined, valueLength: 0 })
            if (ops.length === 0) return Effect.void
            writing = true
            return commitGroup(undefined, encodeBatch(ops), sync, restore).pipe(Effect.ensuring(drainQueue))
          })
        )
      )
    )

  return { write, rotate, deleteUnwritten, idle: waitIdle }
}
