/**
 * The `Compactor` service: the database's background fibers, forked in the database's scope.
 * One flushes immutable memtables to L0 tables, the other runs the compactions the picker asks
 * for and deletes files no live version names; each hands its jobs to the `BackgroundExecutor`
 * (inline, or a worker thread) and installs the results. A failure is kept
 * as the database's background error: later writes fail with it, nothing acknowledged is lost,
 * and a reopen recovers from the WAL and the manifest.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { Cause, Context, Effect, Layer, Option, type Scope } from "effect"
import { BackgroundDefect, type DbError } from "../../errors.js"
import { VersionSet } from "../version/versionSet.js"
import type { Memtable } from "../memtable/memtable.js"
import { Memtables } from "../memtable/memtables.js"
import { TableStore } from "../table/tableStore.js"
import { DbConfig } from "../dbConfig.js"
import { DbStateTag } from "../dbState.js"
import { logFileName, tableFileName } from "../fs/fileNames.js"
import { addAtLevel } from "../state/counters.js"
import { levelBytes } from "../version/version.js"
import { BackgroundExecutor } from "../background/executor.js"
import { nextManualTask, startManualCompaction } from "./manualRange.js"
import { pickCompaction } from "./pick.js"
import { type CompactionTask, resultEdit } from "./task.js"
import { Recovered } from "../recovery.js"
import { DbMetricsTag } from "../metrics/dbMetrics.js"

export interface Compactor {
  /** Flushes the oldest immutable memtable whose flush has not begun; false when there is none. */
  readonly flushOne: Effect.Effect<boolean, DbError>
  /** Runs one compaction the policy asks for; false when there is nothing to do. */
  readonly compactOne: Effect.Effect<boolean, DbError>
  /** Compacts everything overlapping [smallest, largest] (latin1 user keys) down to one level. */
  readonly compactRange: (smallest?: string, largest?: string) => Effect.Effect<void, DbError>
  /** Deletes the table files no live version names. */
  readonly deleteObsoleteFiles: Effect.Effect<void>
}

export const Compactor = Context.GenericTag<Compactor>("stratadb/Compactor")

export const make: Effect.Effect<
  Compactor,
  never,
  DbConfig | DbStateTag | VersionSet | Memtables | TableStore | BackgroundExecutor | FileSystem | Recovered | DbMetricsTag | Scope.Scope
> = Effect.gen(function* () {
  // Built on the recovered state only.
  yield* Recovered
  const config = yield* DbConfig
  const state = yield* DbStateTag
  const versions = yield* VersionSet
  const memtables = yield* Memtables
  const store = yield* TableStore
  const executor = yield* BackgroundExecutor
  const fs = yield* FileSystem
  const metrics = yield* DbMetricsTag

  const compactionLock = yield* Effect.makeSemaphore(1)

  /**
   * Immutable memtables whose flush has begun (its job runs, or it waits for its turn to install).
   * With the worker executor two flushes run at once: the next memtable's table is built while the
   * database's thread is busy with writes, before the one before it is installed (with one at a
   * time the worker sat idle a third of a bulk load, its answer waiting for the thread to turn).
   */
  const begun = new Set<Memtable>()

  /** Waits until `table` is the oldest immutable memtable: those frozen before it are installed. */
  const awaitTurn = (table: Memtable): Effect.Effect<void, DbError> =>
    Effect.suspend(function check(): Effect.Effect<void, DbError> {
      if (state.lifecycle.backgroundError !== undefined) return Effect.fail(state.lifecycle.backgroundError)
      const seen = state.lifecycle.changes
      if (memtables.immutables()[0] === table) return Effect.void
      return Effect.zipRight(state.lifecycle.awaitChangeSince(seen), Effect.suspend(check))
    })

  /**
   * Flushes `table`, an immutable memtable, into an L0 table, and once every memtable frozen before
   * it is installed, installs it and drops its log. (A table built but never installed, after a
   * failure before its turn, is named by no version: the next open removes it.)
   */
  const flushMemtable = (table: Memtable): Effect.Effect<void, DbError> =>
    Effect.gen(function* () {
      const start = metrics.flush.start()
      const meta = yield* executor.flush(table, versions.newFileNumber, state.sequences.pinnedSequences())
      yield* awaitTurn(table)
      // The log after `table`'s, read now: the writer may have rotated while the table was written
      // (only the flushes drop immutables, oldest first, so `table` is still the first).
      const now = memtables.immutables()
      const nextLog = now[1]?.logNumber ?? memtables.mutable().logNumber
      yield* versions.logAndApply({
        newFiles: meta === undefined ? [] : [{ level: 0, meta }],
        logNumber: nextLog,
        lastSequence: state.sequences.last
      })
      memtables.dropOldestImmutable(table)
      state.counters.flushes++
      metrics.flush.record(start)
      state.counters.flushBytesWritten += meta?.size ?? 0
      addAtLevel(state.counters.levelBytesWritten, 0, meta?.size ?? 0)
      yield* Effect.annotateCurrentSpan({ tableBytes: meta?.size ?? 0 })
      yield* fs.remove(config.file(logFileName(table.logNumber))).pipe(Effect.ignore)
      state.lifecycle.notifyChange()
    }).pipe(Effect.withSpan("stratadb.flush", { attributes: { entries: table.entries, logNumber: table.logNumber } }))

  const flushOne: Effect.Effect<boolean, DbError> = Effect.suspend(() => {
    // After a background error no more work is done: its state on disk is not known.
    if (state.lifecycle.backgroundError !== undefined) return Effect.fail(state.lifecycle.backgroundError)
    const table = memtables.immutables().find((t) => !begun.has(t))
    if (table === undefined) return Effect.succeed(false)
    begun.add(table)
    return Effect.as(flushMemtable(table), true).pipe(Effect.ensuring(Effect.sync(() => begun.delete(table))))
  })

  /** The job on the executor (the flush fiber goes on beside it). */
  const runJob = (task: CompactionTask) =>
    executor.compact(
      { task, snapshots: state.sequences.pinnedSequences(), oldestReader: state.sequences.oldest() },
      versions.newFileNumber
    )

  /** Runs a task and installs its result; a failure becomes the database's background error. */
  const execute = (task: CompactionTask): Effect.Effect<void, DbError> =>
    Effect.gen(function* () {
      // After a background error no more work is done: its state on disk is not known.
      if (state.lifecycle.backgroundError !== undefined) return yield* Effect.fail(state.lifecycle.backgroundError)
      const start = metrics.compaction.start()
      if (task.trivialMove) {
        yield* versions.logAndApply(resultEdit(task, []))
      } else {
        const outcome = yield* runJob(task)
        yield* versions.logAndApply(resultEdit(task, outcome.outputs))
        yield* Effect.annotateCurrentSpan({ outputs: outcome.outputs.length, bytesRead: outcome.bytesRead, bytesWritten: outcome.bytesWritten })
        state.counters.compactionBytesRead += outcome.bytesRead
        state.counters.compactionBytesWritten += outcome.bytesWritten
        addAtLevel(state.counters.levelBytesWritten, task.outputLevel, outcome.bytesWritten)
        addAtLevel(state.counters.levelBytesRead, task.level, levelBytes(task.inputs))
        addAtLevel(state.counters.levelBytesRead, task.outputLevel, levelBytes(task.nextInputs))
      }
      state.counters.compactions++
      if (task.reason === "seek") state.counters.seekCompactions++
      metrics.compaction.record(start)
      yield* deleteObsoleteFiles
      state.lifecycle.notifyChange()
    }).pipe(
      Effect.tapError((error) =>
        Effect.sync(() => {
          state.lifecycle.fail(error)
        })
      ),
      Effect.withSpan("stratadb.compaction", {
        attributes: {
          level: task.level,
          outputLevel: task.outputLevel,
          inputs: task.inputs.length + task.nextInputs.length,
          trivialMove: task.trivialMove
        }
      })
    )

  const compactionConfig = config.options
  const pointers = () => versions.compactPointers()

  const compactOne: Effect.Effect<boolean, DbError> = compactionLock.withPermits(1)(
    Effect.suspend(() => {
      const dueBySeeks = state.seeks.due()
      const task = pickCompaction(versions.current(), compactionConfig, {
        compactPointers: pointers(),
        ...(dueBySeeks === undefined ? {} : { dueBySeeks })
      })
      // The table due by seeks is done with once its compaction is picked, or when the picker
      // passes it over: it left the version, or size compactions come first (the next read
      // charging it names it again).
      if (dueBySeeks !== undefined) state.seeks.clear(dueBySeeks)
      return Option.isNone(task) ? Effect.succeed(false) : Effect.as(execute(task.value), true)
    })
  )

  const compactRange = (smallest?: string, largest?: string): Effect.Effect<void, DbError> =>
    Effect.gen(function* () {
      let manual = startManualCompaction(smallest, largest)
      while (true) {
        const step = yield* compactionLock.withPermits(1)(
          Effect.suspend(() => {
            const next = nextManualTask(versions.current(), compactionConfig, manual)
            return Option.isNone(next.task) ? Effect.succeed(next) : Effect.as(execute(next.task.value), next)
          })
        )
        manual = step.manual
        if (Option.isNone(step.task)) return
      }
    })

  const deleteObsoleteFiles: Effect.Effect<void> = Effect.suspend(() => {
    const obsolete = versions.obsoleteTables()
    if (obsolete.length === 0) return Effect.void
    return Effect.forEach(
      obsolete,
      (n) => store.evict(n).pipe(Effect.zipRight(fs.remove(config.file(tableFileName(n)))), Effect.ignore),
      { discard: true }
    ).pipe(Effect.zipRight(Effect.sync(() => versions.forgetTables(obsolete))))
  })

  /**
   * Two fibers: one flushes frozen memtables, one compacts and deletes obsolete files. A flush
   * never waits behind a compaction, nor a compaction (a trivial move included) behind a flush in
   * flight: with the worker executor the database's thread is free while either runs, and writers
   * fill memtables meanwhile. Each wakes on its own view of the work signal; a finished flush
   * raises it for the compaction fiber (L0 grew).
   */
  const compactions = state.work.consumer()

  const flushStep: Effect.Effect<boolean, DbError> = Effect.map(flushOne, (flushed) => {
    if (flushed) state.work.raise()
    return flushed
  })

  const compactionStep: Effect.Effect<boolean, DbError> = Effect.gen(function* () {
    if (config.options.backgroundCompaction && (yield* compactOne)) return true
    yield* deleteObsoleteFiles
    return false
  })

  const loop = (signal: typeof compactions, step: Effect.Effect<boolean, DbError>): Effect.Effect<never> =>
    Effect.gen(function* () {
      while (true) {
        signal.lower()
        const worked = yield* step
        if (!worked) yield* signal.await
      }
    }).pipe(
      // What passed through a span comes out annotated (a proxy): the error kept is the original.
      Effect.catchAll((error) => remember(Cause.originalError(error))),
      // A defect says nothing about the files (not `Corruption`): it is kept as a typed error that
      // carries what was thrown, so later operations fail with something the caller can catch.
      Effect.catchAllDefect((annotated) => {
        const defect = Cause.originalError(annotated)
        return Effect.logError("stratadb: background work died", defect).pipe(
          Effect.zipRight(remember(new BackgroundDefect({ description: describeDefect(defect), cause: defect })))
        )
      })
    )

  /** Keeps the first background error, wakes stalled writers, and stops background work. */
  function remember(error: DbError): Effect.Effect<never> {
    return Effect.suspend(() => {
      state.lifecycle.fail(error)
      return Effect.never
    })
  }

  // Two flush fibers with a worker (see `begun`); one inline, where a second would only interleave.
  for (let i = 0; i < (executor.kind === "worker" ? 2 : 1); i++) yield* Effect.forkScoped(loop(state.work.consumer(), flushStep))
  yield* Effect.forkScoped(loop(compactions, compactionStep))

  return Compactor.of({ flushOne, compactOne, compactRange, deleteObsoleteFiles })
})

/** A defect's message for `BackgroundDefect.description`; never throws (the defect may be anything). */
const describeDefect = (defect: unknown): string => {
  try {
    return defect instanceof Error ? `${defect.name}: ${defect.message}` : String(defect)
  } catch {
    return "an exception"
  }
}

export const layer: Layer.Layer<
  Compactor,
  never,
  DbConfig | DbStateTag | VersionSet | Memtables | TableStore | BackgroundExecutor | FileSystem | Recovered | DbMetricsTag
> = Layer.scoped(Compactor, make)
