/**
 * The `Compactor` service: the database's background fiber, forked in the database's scope.
 * It flushes immutable memtables to L0 tables (first, so writers do not stall), runs the
 * compactions the picker asks for, and deletes files no live version names. A failure is kept
 * as the database's background error: later writes fail with it, nothing acknowledged is lost,
 * and a reopen recovers from the WAL and the manifest.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import { Context, Effect, Layer, Option, type Scope } from "effect"
import { BackgroundDefect, type DbError } from "../../errors.js"
import { VersionSet } from "../version/versionSet.js"
import { Memtables } from "../memtable/memtables.js"
import { TableStore } from "../table/tableStore.js"
import { DbConfig } from "../dbConfig.js"
import { DbStateTag } from "../dbState.js"
import { logFileName, tableFileName } from "../fs/fileNames.js"
import { writeMemtable } from "../flush.js"
import { runCompaction } from "./compactionJob.js"
import { nextManualTask, startManualCompaction } from "./manualRange.js"
import { pickCompaction } from "./pick.js"
import { type CompactionTask, resultEdit } from "./task.js"

export interface Compactor {
  /** Flushes the oldest immutable memtable; false when there is none. */
  readonly flushOne: Effect.Effect<boolean, PlatformError>
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
  DbConfig | DbStateTag | VersionSet | Memtables | TableStore | FileSystem | Scope.Scope
> = Effect.gen(function* () {
  const config = yield* DbConfig
  const state = yield* DbStateTag
  const versions = yield* VersionSet
  const memtables = yield* Memtables
  const store = yield* TableStore
  const fs = yield* FileSystem

  const flushLock = yield* Effect.makeSemaphore(1)
  const compactionLock = yield* Effect.makeSemaphore(1)

  const flushOne: Effect.Effect<boolean, PlatformError> = flushLock.withPermits(1)(Effect.gen(function* () {
    const immutables = memtables.immutables()
    const oldest = immutables[0]
    if (oldest === undefined) return false
    const meta = yield* writeMemtable(oldest, { store, versions }, state.snapshotSequences())
    // The log after `oldest`'s, read now: the writer may have rotated while the table was written
    // (only this flusher drops immutables, so `oldest` is still the first).
    const now = memtables.immutables()
    const nextLog = now[1]?.logNumber ?? memtables.mutable().logNumber
    yield* versions.logAndApply({
      newFiles: meta === undefined ? [] : [{ level: 0, meta }],
      logNumber: nextLog,
      lastSequence: state.lastSequence
    })
    memtables.dropOldestImmutable(oldest)
    state.flushes++
    state.flushBytesWritten += meta?.size ?? 0
    yield* fs.remove(config.file(logFileName(oldest.logNumber))).pipe(Effect.ignore)
    state.notifyChange()
    return true
  }))

  /** Flushes what waits while a long compaction runs, so writers do not stall behind it. */
  const flushPending: Effect.Effect<void, PlatformError> = Effect.suspend(() =>
    memtables.immutables().length === 0 ? Effect.void : Effect.asVoid(flushOne)
  )

  /** Runs a task and installs its result; a failure becomes the database's background error. */
  const execute = (task: CompactionTask): Effect.Effect<void, DbError> =>
    Effect.gen(function* () {
      // After a background error no more work is done: its state on disk is not known.
      if (state.backgroundError !== undefined) return yield* Effect.fail(state.backgroundError)
      if (task.trivialMove) {
        yield* versions.logAndApply(resultEdit(task, []))
      } else {
        const outcome = yield* runCompaction(task, {
          store,
          newFileNumber: versions.newFileNumber,
          snapshots: state.snapshotSequences(),
          oldestReader: state.oldestSnapshot(),
          between: flushPending
        })
        yield* versions.logAndApply(resultEdit(task, outcome.outputs))
        state.compactionBytesRead += outcome.bytesRead
        state.compactionBytesWritten += outcome.bytesWritten
      }
      state.compactions++
      yield* deleteObsoleteFiles
      state.notifyChange()
    }).pipe(
      Effect.tapError((error) =>
        Effect.sync(() => {
          if (state.backgroundError === undefined) state.backgroundError = error
          state.notifyChange()
        })
      )
    )

  const compactionConfig = config.options
  const pointers = () => versions.compactPointers()

  const compactOne: Effect.Effect<boolean, DbError> = compactionLock.withPermits(1)(
    Effect.suspend(() => {
      const task = pickCompaction(versions.current(), compactionConfig, { compactPointers: pointers() })
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

  const step: Effect.Effect<boolean, DbError> = Effect.gen(function* () {
    if (yield* flushOne) return true
    if (config.options.backgroundCompaction && (yield* compactOne)) return true
    yield* deleteObsoleteFiles
    return false
  })

  const loop: Effect.Effect<never> = Effect.gen(function* () {
    while (true) {
      state.resetWork()
      const worked = yield* step
      if (!worked) yield* state.awaitWork()
    }
  }).pipe(
    Effect.catchAll((error) => remember(error)),
    // A defect says nothing about the files (not `Corruption`): it is kept as a typed error that
    // carries what was thrown, so later operations fail with something the caller can catch.
    Effect.catchAllDefect((defect) =>
      Effect.logError("stratadb: background work died", defect).pipe(
        Effect.zipRight(remember(new BackgroundDefect({ description: describeDefect(defect), cause: defect })))
      )
    )
  )

  /** Keeps the first background error, wakes stalled writers, and stops background work. */
  function remember(error: DbError): Effect.Effect<never> {
    return Effect.suspend(() => {
      if (state.backgroundError === undefined) state.backgroundError = error
      state.notifyChange()
      return Effect.never
    })
  }

  yield* Effect.forkScoped(loop)

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
  DbConfig | DbStateTag | VersionSet | Memtables | TableStore | FileSystem
> = Layer.scoped(Compactor, make)
