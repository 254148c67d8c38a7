/**
 * The compaction mechanism: runs one `CompactionTask` the policy picked. It merges the inputs in
 * internal-key order, keeps for each key the newest version and the versions live snapshots still
 * see, drops tombstones that shadow nothing any reader can see when the task is bottommost, cuts
 * outputs at user-key boundaries once they reach the target size, and returns the outputs. The
 * caller installs them with `taskEdit`. The merge yields to other fibers regularly (the compactor
 * flushes memtables meanwhile). Executors run it: inline, or in a worker thread
 * (internal/background/).
 */
import { Effect } from "effect"
import type { TableError } from "../table/tableFile.js"
import type { TableStore, TableSink, TablePins } from "../table/tableStore.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import { LevelIterator } from "../iter/levelIterator.js"
import { MergingIterator } from "../iter/mergingIterator.js"
import { KIND_DELETE } from "../key/internalKey.js"
import { survives } from "../snapshotRetention.js"
import type { FileMeta } from "../version/fileMeta.js"
import type { CompactionTask } from "./task.js"

const ENTRIES_PER_SLICE = 1024

export interface CompactionOutcome {
  readonly outputs: ReadonlyArray<FileMeta>
  readonly bytesRead: number
  readonly bytesWritten: number
}

/** The merged input of a task: L0 inputs one iterator each (they overlap), a level's files concatenated. */
const taskIterator = (task: CompactionTask, store: TableStore, pins: TablePins): MergingIterator => {
  // A compaction reads each block once and then deletes its inputs: it leaves the block cache alone.
  const open = (meta: FileMeta) => store.iterator(meta, pins, false)
  const peek = (meta: FileMeta) => store.peekIterator(meta, pins, false)
  const children: Array<InternalIterator> = []
  if (task.level === 0) for (const f of task.inputs) children.push(new LevelIterator([f], open, peek))
  else children.push(new LevelIterator(task.inputs, open, peek))
  if (task.nextInputs.length > 0) {
    if (task.outputLevel === 0) for (const f of task.nextInputs) children.push(new LevelIterator([f], open, peek))
    else children.push(new LevelIterator(task.nextInputs, open, peek))
  }
  return new MergingIterator(children)
}

export const runCompaction = (
  task: CompactionTask,
  deps: {
    readonly store: TableStore
    /** The number of the next output (a worker may have to ask the database for more). */
    readonly newFileNumber: Effect.Effect<number>
    /** Live snapshot sequences, ascending, and the oldest sequence any reader may use. */
    readonly snapshots: ReadonlyArray<number>
    readonly oldestReader: number
  }
): Effect.Effect<CompactionOutcome, TableError> =>
  Effect.gen(function* () {
    const { store, snapshots, oldestReader } = deps
    const pins: TablePins = new Set()
    const outputs: Array<FileMeta> = []
    let sink: TableSink | undefined = undefined
    let bytesRead = 0
    for (const f of task.inputs) bytesRead += f.size
    for (const f of task.nextInputs) bytesRead += f.size

    // The sink stays recorded until its table is finished and listed in `outputs`: interrupted
    // in between (its sync waits), it is abandoned like any unfinished output.
    const finishOutput = Effect.suspend(() => {
      const s = sink
      if (s === undefined) return Effect.void
      return Effect.map(s.finish, (meta) => {
        sink = undefined
        outputs.push(meta)
      })
    })

    const merge = Effect.gen(function* () {
      const it = taskIterator(task, store, pins)
      it.seekToFirst()
      let lastKey: string | undefined = undefined
      let newer = Number.POSITIVE_INFINITY
      let sinceYield = 0
      while (true) {
        if (it.pending()) yield* it.load()
        if (!it.valid()) break
        const key = it.key()
        const seq = it.seq()
        if (key !== lastKey) {
          lastKey = key
          newer = Number.POSITIVE_INFINITY
          if (sink !== undefined && sink.estimatedSize() >= task.maxOutputFileSize) yield* finishOutput
        }
        let keep = survives(seq, newer, snapshots)
        // A tombstone every reader sees, with nothing older below the task: it shadows nothing.
        if (keep && task.bottommost && it.kind() === KIND_DELETE && seq <= oldestReader) keep = false
        newer = seq
        if (keep) {
          let out = sink
          if (out === undefined) {
            const number = yield* deps.newFileNumber
            // Created and recorded in one uninterruptible step: an interruption right after the
            // file is created must still find the sink to abandon.
            out = yield* Effect.uninterruptible(Effect.map(store.create(number, task.outputLevel), (created) => (sink = created)))
          }
          out.add(key, seq, it.kind(), it.value())
        }
        it.next()
        if (++sinceYield >= ENTRIES_PER_SLICE) {
          sinceYield = 0
          if (sink !== undefined) yield* sink.drain
          yield* Effect.yieldNow()
        }
      }
      yield* finishOutput
    })

    yield* merge.pipe(
      // A merge that fails or is interrupted installs nothing: its outputs, finished or not, go.
      Effect.onError(() =>
        Effect.suspend(() => {
          const s = sink
          sink = undefined
          const finished = Effect.forEach(outputs, (meta) => store.discard(meta.number), { discard: true })
          return s === undefined ? finished : Effect.zipRight(s.abandon, finished)
        })
      ),
      Effect.ensuring(store.unpin(pins))
    )
    let bytesWritten = 0
    for (const f of outputs) bytesWritten += f.size
    return { outputs, bytesRead, bytesWritten }
  })
