/**
 * A pure compaction simulator (in the spirit of mini-lsm's `compaction-simulator`): synthetic
 * flushes go into L0, the picker runs until it has no more work, and each task is "merged" by
 * arithmetic instead of I/O. It reports per-level bytes and counts and the write amplification,
 * and lets tests check the policy's invariants over thousands of flushes in milliseconds.
 *
 * Keys are numbers rendered as fixed-width decimal strings (`simKey`), so a merged key range can
 * be split into disjoint output ranges. A merge of inputs totalling B bytes writes
 * B - floor(B * dropFraction) bytes (the rest are duplicates the merge dropped), over the union of
 * the input key ranges; leveled outputs are cut at `maxOutputFileSize` into tables with disjoint
 * key ranges; a tiered merge writes one table. A bottommost merge drops all tombstones. A trivial
 * move re-levels the file and writes nothing.
 *
 * Accounting: at every step, bytes in the version = flushed - dropped.
 * Write amplification = (flushed + compaction written) / flushed (table bytes only; no WAL).
 */
import { Option } from "effect"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"
import { applyEdit, empty, levelBytes, type Version } from "../../src/internal/version/version.js"
import { type ManualCompaction, nextManualTask, startManualCompaction } from "../../src/internal/compaction/manualRange.js"
import { type CompactionState, compactionScores, initialCompactionState, pickCompaction, recordEdit } from "../../src/internal/compaction/pick.js"
import { applyTask, type CompactionConfig, type CompactionTask } from "../../src/internal/compaction/task.js"

const KEY_WIDTH = 12

/** The simulator's key for a number in [0, 10^12). */
export const simKey = (n: number): string => String(n).padStart(KEY_WIDTH, "0")

/** The number behind a `simKey`. */
export const simKeyNumber = (key: string): number => Number(key)

/** A synthetic flush: a table of `size` bytes over keys [smallest, largest]. */
export interface SimFlush {
  readonly size: number
  readonly smallest: number
  readonly largest: number
  /** Tombstones in the table. Default 0. */
  readonly tombstones?: number
}

export interface SimOptions {
  /** Fraction of a merge's input bytes dropped as duplicates, in [0, 1). Default 0. */
  readonly dropFraction?: number
  /** Compactions allowed after each flush; Infinity (default) runs until the picker has no work. */
  readonly maxCompactionsPerFlush?: number
  /** Called after every flush and every task, with the state it produced. */
  readonly observe?: (event: SimEvent) => void
}

export type SimEvent =
  | { readonly _tag: "flush"; readonly state: SimState; readonly meta: FileMeta }
  | { readonly _tag: "task"; readonly state: SimState; readonly task: CompactionTask }

export interface SimState {
  readonly version: Version
  readonly compaction: CompactionState
  readonly nextFileNumber: number
  readonly nextSequence: number
  readonly flushedBytes: number
  readonly compactionBytesRead: number
  readonly compactionBytesWritten: number
  readonly droppedBytes: number
  readonly compactions: number
  readonly trivialMoves: number
  /** Most L0 tables seen after any step. */
  readonly maxLevel0Files: number
}

export interface SimLevelReport {
  readonly files: number
  readonly bytes: number
  readonly score: number
}

export interface SimReport {
  readonly levels: ReadonlyArray<SimLevelReport>
  readonly totalBytes: number
  readonly flushedBytes: number
  readonly compactionBytesRead: number
  readonly compactionBytesWritten: number
  readonly droppedBytes: number
  readonly writeAmplification: number
  readonly compactions: number
  readonly trivialMoves: number
  readonly maxLevel0Files: number
  readonly state: SimState
}

/** Steps after which a run to quiescence is declared runaway (a policy bug). */
const MAX_STEPS = 1_000_000

export const initialSimState = (config: Pick<CompactionConfig, "numLevels">): SimState => ({
  version: empty(config.numLevels),
  compaction: initialCompactionState,
  nextFileNumber: 1,
  nextSequence: 1,
  flushedBytes: 0,
  compactionBytesRead: 0,
  compactionBytesWritten: 0,
  droppedBytes: 0,
  compactions: 0,
  trivialMoves: 0,
  maxLevel0Files: 0
})

const sequencesPerFlush = (size: number): number => Math.max(1, Math.ceil(size / 100))

/** Adds one flushed table to L0. */
export const simulateFlush = (state: SimState, flush: SimFlush, options: SimOptions = {}): SimState => {
  if (!(flush.smallest <= flush.largest)) throw new RangeError("flush: smallest > largest")
  const entries = sequencesPerFlush(flush.size)
  const minSeq = state.nextSequence
  const maxSeq = minSeq + entries - 1
  const meta: FileMeta = {
    number: state.nextFileNumber,
    size: flush.size,
    rawSize: flush.size,
    smallestKey: simKey(flush.smallest),
    smallestSeq: maxSeq,
    largestKey: simKey(flush.largest),
    largestSeq: minSeq,
    entries,
    tombstones: flush.tombstones ?? 0,
    minSeq,
    maxSeq
  }
  const version = applyEdit(state.version, { newFiles: [{ level: 0, meta }] })
  const next: SimState = {
    ...state,
    version,
    nextFileNumber: state.nextFileNumber + 1,
    nextSequence: maxSeq + 1,
    flushedBytes: state.flushedBytes + flush.size,
    maxLevel0Files: Math.max(state.maxLevel0Files, version.levels[0]!.length)
  }
  options.observe?.({ _tag: "flush", state: next, meta })
  return next
}

/** One of `count` even shares of `n`; the last takes the remainder. */
const share = (n: number, count: number, last: boolean): number =>
  last ? n - Math.floor(n / count) * (count - 1) : Math.floor(n / count)

/** The "merged" outputs of a task: sizes and key ranges by arithmetic. */
const mergeOutputs = (
  state: SimState,
  task: CompactionTask,
  written: number
): { outputs: Array<FileMeta>; nextFileNumber: number } => {
  if (written === 0) return { outputs: [], nextFileNumber: state.nextFileNumber }
  let minSeq = Number.MAX_SAFE_INTEGER
  let maxSeq = 0
  let entries = 0
  let tombstones = 0
  for (const f of [...task.inputs, ...task.nextInputs]) {
    minSeq = Math.min(minSeq, f.minSeq)
    maxSeq = Math.max(maxSeq, f.maxSeq)
    entries += f.entries
    tombstones += f.tombstones
  }
  if (task.bottommost) tombstones = 0
  const lo = simKeyNumber(task.smallestKey)
  const hi = simKeyNumber(task.largestKey)
  const cut = task.maxOutputFileSize
  const count = Math.max(1, Math.min(Number.isFinite(cut) ? Math.ceil(written / cut) : 1, hi - lo + 1))
  const keysPer = Math.floor((hi - lo + 1) / count)
  const bytesPer = Math.floor(written / count)
  const outputs: Array<FileMeta> = []
  let number = state.nextFileNumber
  for (let i = 0; i < count; i++) {
    const last = i === count - 1
    outputs.push({
      number: number++,
      size: last ? written - bytesPer * (count - 1) : bytesPer,
      rawSize: last ? written - bytesPer * (count - 1) : bytesPer,
      smallestKey: simKey(lo + i * keysPer),
      smallestSeq: maxSeq,
      largestKey: simKey(last ? hi : lo + (i + 1) * keysPer - 1),
      largestSeq: minSeq,
      entries: Math.max(1, share(entries, count, last)),
      tombstones: share(tombstones, count, last),
      minSeq,
      maxSeq
    })
  }
  return { outputs, nextFileNumber: number }
}

/** Runs one task: a trivial move re-levels its file, anything else is merged by arithmetic. */
export const simulateTask = (
  state: SimState,
  task: CompactionTask,
  options: SimOptions = {}
): SimState => {
  let next: SimState
  if (task.trivialMove) {
    const { edit, version } = applyTask(state.version, task, [])
    next = {
      ...state,
      version,
      compaction: recordEdit(state.compaction, edit),
      trivialMoves: state.trivialMoves + 1
    }
  } else {
    const read = levelBytes(task.inputs) + levelBytes(task.nextInputs)
    const dropped = Math.floor(read * (options.dropFraction ?? 0))
    const written = read - dropped
    const { nextFileNumber, outputs } = mergeOutputs(state, task, written)
    const { edit, version } = applyTask(state.version, task, outputs)
    next = {
      ...state,
      version,
      compaction: recordEdit(state.compaction, edit),
      nextFileNumber,
      compactionBytesRead: state.compactionBytesRead + read,
      compactionBytesWritten: state.compactionBytesWritten + written,
      droppedBytes: state.droppedBytes + dropped,
      compactions: state.compactions + 1
    }
  }
  next = { ...next, maxLevel0Files: Math.max(next.maxLevel0Files, next.version.levels[0]!.length) }
  options.observe?.({ _tag: "task", state: next, task })
  return next
}

/** Runs picked tasks until the picker has no work (or `limit` tasks ran). */
export const compactUntilIdle = (
  state: SimState,
  config: CompactionConfig,
  options: SimOptions = {},
  limit: number = options.maxCompactionsPerFlush ?? Number.POSITIVE_INFINITY
): SimState => {
  let current = state
  for (let steps = 0; steps < limit; steps++) {
    if (steps >= MAX_STEPS) throw new Error(`compaction did not settle after ${MAX_STEPS} tasks`)
    const task = pickCompaction(current.version, config, current.compaction)
    if (Option.isNone(task)) return current
    current = simulateTask(current, task.value, options)
  }
  return current
}

/** Runs a manual compaction of [smallest, largest] (simulator key numbers) to completion. */
export const simulateManual = (
  state: SimState,
  config: CompactionConfig,
  smallest?: number,
  largest?: number,
  options: SimOptions = {}
): { state: SimState; tasks: Array<CompactionTask> } => {
  let manual: ManualCompaction = startManualCompaction(
    smallest === undefined ? undefined : simKey(smallest),
    largest === undefined ? undefined : simKey(largest)
  )
  let current = state
  const tasks: Array<CompactionTask> = []
  for (let steps = 0; ; steps++) {
    if (steps >= MAX_STEPS) throw new Error(`manual compaction did not finish after ${MAX_STEPS} tasks`)
    const step = nextManualTask(current.version, config, manual)
    manual = step.manual
    if (Option.isNone(step.task)) return { state: current, tasks }
    tasks.push(step.task.value)
    current = simulateTask(current, step.task.value, options)
  }
}

/** The report for a state. */
export const simReport = (state: SimState, config: CompactionConfig): SimReport => {
  const scores = compactionScores(state.version, config)
  const levels = state.version.levels.map((files, level) => ({
    files: files.length,
    bytes: levelBytes(files),
    score: scores[level] ?? 0
  }))
  let totalBytes = 0
  for (const l of levels) totalBytes += l.bytes
  return {
    levels,
    totalBytes,
    flushedBytes: state.flushedBytes,
    compactionBytesRead: state.compactionBytesRead,
    compactionBytesWritten: state.compactionBytesWritten,
    droppedBytes: state.droppedBytes,
    writeAmplification:
      state.flushedBytes === 0 ? 0 : (state.flushedBytes + state.compactionBytesWritten) / state.flushedBytes,
    compactions: state.compactions,
    trivialMoves: state.trivialMoves,
    maxLevel0Files: state.maxLevel0Files,
    state
  }
}

/** Flushes each table in turn, compacting after each (see `SimOptions`), and reports. */
export const simulate = (
  config: CompactionConfig,
  flushes: Iterable<SimFlush>,
  options: SimOptions = {}
): SimReport => {
  let state = initialSimState(config)
  for (const flush of flushes) {
    state = simulateFlush(state, flush, options)
    state = compactUntilIdle(state, config, options)
  }
  return simReport(state, config)
}
