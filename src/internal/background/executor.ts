/**
 * The `BackgroundExecutor` service: where flushes and compactions do their work. The compactor
 * (internal/compaction/compactor.ts) keeps the policy and the installing of results; it hands each
 * job to the executor and waits. Two layers:
 *
 * - `inlineLayer`: the job runs on the database's own thread, in slices that yield to other fibers,
 *   on any `FileSystem` (the one used with `MemoryFileSystem`, so simulations stay deterministic);
 * - the worker layer (internal/background/workerExecutor.ts): the job runs in a Node worker thread
 *   over the synchronous Node file system, and the database's thread only waits.
 *
 * Both write the same tables, synced before the job completes (the manifest names them after).
 */
import { Context, Effect, Layer } from "effect"
import type { BackgroundDefect } from "../../errors.js"
import type { TableError } from "../table/tableFile.js"
import { type CompactionOutcome, runCompaction } from "../compaction/compactionJob.js"
import type { CompactionTask } from "../compaction/task.js"
import { writeMemtable } from "../flush.js"
import type { Memtable } from "../memtable/memtable.js"
import { TableStore } from "../table/tableStore.js"
import type { FileMeta } from "../version/fileMeta.js"

/** How a job can fail: as the inline code would, or the worker died (`BackgroundDefect`). */
export type JobError = TableError | BackgroundDefect

export interface CompactionJob {
  readonly task: CompactionTask
  /** Live snapshot sequences, ascending, and the oldest sequence any reader may use. */
  readonly snapshots: ReadonlyArray<number>
  readonly oldestReader: number
}

export interface BackgroundExecutor {
  /** "inline" or "worker": which layer this is (stats and tests report it). */
  readonly kind: "inline" | "worker"
  /**
   * Writes the memtable (immutable now) as a table numbered by `newFileNumber`, keeping the
   * versions `snapshots` (ascending) need; undefined when the memtable is empty.
   */
  readonly flush: (
    table: Memtable,
    newFileNumber: () => number,
    snapshots: ReadonlyArray<number>
  ) => Effect.Effect<FileMeta | undefined, JobError>
  /** Runs the compaction (not a trivial move), its outputs numbered by `newFileNumber`. */
  readonly compact: (job: CompactionJob, newFileNumber: () => number) => Effect.Effect<CompactionOutcome, JobError>
  /** Starts the executor's thread, if it has one and it is not up, and waits until it is. */
  readonly start: Effect.Effect<void, JobError>
}

export const BackgroundExecutor = Context.GenericTag<BackgroundExecutor>("stratadb/BackgroundExecutor")

/** The jobs on the database's own thread. */
export const inlineLayer: Layer.Layer<BackgroundExecutor, never, TableStore> = Layer.effect(
  BackgroundExecutor,
  Effect.gen(function* () {
    const store = yield* TableStore
    return BackgroundExecutor.of({
      kind: "inline",
      flush: (table, newFileNumber, snapshots) => writeMemtable(table, { store, newFileNumber }, snapshots),
      compact: (job, newFileNumber) =>
        runCompaction(job.task, {
          store,
          newFileNumber: Effect.sync(newFileNumber),
          snapshots: job.snapshots,
          oldestReader: job.oldestReader
        }),
      start: Effect.void
    })
  })
)
