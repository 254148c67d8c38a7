/**
 * A compaction task: what the pure policy (pickers, manual range planner) asks the mechanism to do,
 * and the `VersionEdit` that installs its result. No I/O here.
 *
 * The mechanism merges `inputs` (files of `level`) with `nextInputs` (files of `outputLevel`),
 * writes the merged entries as new tables cut at `maxOutputFileSize`, and installs
 * `resultEdit(task, outputs)`; `applyTask(version, task, outputs)` is the same result as the
 * next version and the tables it retires. When `trivialMove` is set it writes nothing: the one
 * input file changes level by an edit alone.
 */
import type { ResolvedOptions } from "../../Options.js"
import { compareInternal } from "../key/internalKey.js"
import type { FileMeta } from "../version/fileMeta.js"
import { applyEdit, rangesOverlap, type Version } from "../version/version.js"
import type { CompactPointer, VersionEdit } from "../version/versionEdit.js"

/** The options the policy reads. */
export type CompactionConfig = Pick<
  ResolvedOptions,
  | "compaction"
  | "level0CompactionTrigger"
  | "maxBytesForLevelBase"
  | "levelSizeMultiplier"
  | "targetFileSize"
  | "numLevels"
  | "tieredSizeRatio"
  | "tieredMinMergeWidth"
>

export type { CompactPointer }

export type CompactionReason = "level0" | "size" | "seek" | "tiered" | "manual"

export interface CompactionTask {
  readonly reason: CompactionReason
  /** Input level. */
  readonly level: number
  /** Level the outputs go to: `level + 1` for leveled; 0 for tiered; `level` for a manual bottom rewrite. */
  readonly outputLevel: number
  /** Chosen files of `level` (L0: newest first). */
  readonly inputs: ReadonlyArray<FileMeta>
  /** Files of `outputLevel` overlapping the inputs (leveled); empty for tiered and bottom rewrites. */
  readonly nextInputs: ReadonlyArray<FileMeta>
  /**
   * True when no table in any level deeper than `outputLevel` (and, for tiered, no older run)
   * overlaps [smallestKey, largestKey]: the merge may then drop tombstones (and versions no
   * snapshot needs).
   */
  readonly bottommost: boolean
  /** User-key range of all inputs (`inputs` and `nextInputs`). */
  readonly smallestKey: string
  readonly largestKey: string
  /**
   * Move the single input to `outputLevel` without rewriting it (LevelDB's trivial move). Only set
   * when `inputs.length === 1`, `nextInputs.length === 0`, `level < outputLevel` and the file does
   * not overlap too much of the grandparent level; manual tasks always rewrite.
   */
  readonly trivialMove: boolean
  /**
   * Files of `outputLevel + 1` overlapping the task (leveled). The mechanism may cut an output
   * early once it overlaps more than `maxGrandparentOverlapBytes` of them (LevelDB's
   * `ShouldStopBefore`), so a later compaction of that output stays small.
   */
  readonly grandparents: ReadonlyArray<FileMeta>
  /** Size at which outputs are cut; `Infinity`: write one output (a tiered run is one table). */
  readonly maxOutputFileSize: number
  /** The compact pointer the edit records, if any. */
  readonly compactPointer?: CompactPointer
}

/** Grandparent bytes one output (or a trivially moved file) may overlap: 10 target files, as LevelDB. */
export const maxGrandparentOverlapBytes = (config: Pick<CompactionConfig, "targetFileSize">): number =>
  10 * config.targetFileSize

/** Input bytes a leveled task may grow to when it takes more files of its input level: 25 target files. */
export const expandedCompactionByteLimit = (config: Pick<CompactionConfig, "targetFileSize">): number =>
  25 * config.targetFileSize

/** A user key above every latin1 key (keys are one char 0..255 per byte). */
export const ABOVE_ALL_KEYS = "\u0100"

/** The edit that installs a finished task: inputs deleted, outputs added at `outputLevel`. */
export const taskEdit = (
  task: CompactionTask,
  outputs: ReadonlyArray<FileMeta>,
  extra?: Partial<VersionEdit>
): VersionEdit => {
  const deletedFiles: Array<{ level: number; number: number }> = []
  for (const f of task.inputs) deletedFiles.push({ level: task.level, number: f.number })
  for (const f of task.nextInputs) deletedFiles.push({ level: task.outputLevel, number: f.number })
  const newFiles: Array<{ level: number; meta: FileMeta }> = []
  for (const meta of outputs) newFiles.push({ level: task.outputLevel, meta })
  const compactPointers = task.compactPointer === undefined ? [] : [task.compactPointer]
  return {
    ...extra,
    deletedFiles: extra?.deletedFiles === undefined ? deletedFiles : [...deletedFiles, ...extra.deletedFiles],
    newFiles: extra?.newFiles === undefined ? newFiles : [...newFiles, ...extra.newFiles],
    ...(compactPointers.length > 0 || extra?.compactPointers !== undefined
      ? { compactPointers: [...compactPointers, ...(extra?.compactPointers ?? [])] }
      : {})
  }
}

/** What installing a task's result gives: the edit, the next version and the files it retires. */
export interface TaskResult {
  readonly edit: VersionEdit
  readonly version: Version
  /**
   * Tables of `version` the next version no longer names: the mechanism deletes their files once
   * no reader pins a version that still names them. Empty for a trivial move (the file stays).
   */
  readonly obsolete: ReadonlyArray<FileMeta>
}

/**
 * The edit that installs a task's result: its `outputs`, or for a trivial move its moved input,
 * as a new `FileMeta` object (the same fields): what is kept per table object, its seek charges,
 * starts over at the new level, as LevelDB's `allowed_seeks` does.
 */
export const resultEdit = (task: CompactionTask, outputs: ReadonlyArray<FileMeta>): VersionEdit =>
  taskEdit(task, task.trivialMove ? task.inputs.map((f) => ({ ...f })) : outputs)

/** Applies a task's result (`outputs`, or the moved input for a trivial move) to `version`. */
export const applyTask = (version: Version, task: CompactionTask, outputs: ReadonlyArray<FileMeta>): TaskResult => {
  const edit = resultEdit(task, outputs)
  const next = applyEdit(version, edit)
  const live = new Set<number>()
  for (const files of next.levels) for (const f of files) live.add(f.number)
  const obsolete: Array<FileMeta> = []
  for (const files of version.levels) for (const f of files) if (!live.has(f.number)) obsolete.push(f)
  return { edit, version: next, obsolete }
}

// ---- small helpers shared by the pickers (pure, no allocation beyond the result) ----

/** User-key range of some files: [smallest, largest]. `files` must not be empty. */
export const keyRange = (
  a: ReadonlyArray<FileMeta>,
  b: ReadonlyArray<FileMeta> = []
): { smallest: string; largest: string } => {
  let smallest = ABOVE_ALL_KEYS
  let largest = ""
  for (const f of a) {
    if (f.smallestKey < smallest) smallest = f.smallestKey
    if (f.largestKey > largest) largest = f.largestKey
  }
  for (const f of b) {
    if (f.smallestKey < smallest) smallest = f.smallestKey
    if (f.largestKey > largest) largest = f.largestKey
  }
  return { smallest, largest }
}

/**
 * The files of `files` overlapping [smallest, largest], closed under overlap: a taken file that
 * widens the range pulls in the files overlapping the wider range, until nothing changes. In L0
 * (overlapping tables) this keeps every version of a key in the task; in L1+ it takes the
 * neighbour that shares a boundary user key, so no newer version of a key stays above an older one.
 * The result keeps the order of `files`.
 */
export const overlapClosure = (
  files: ReadonlyArray<FileMeta>,
  smallest: string,
  largest: string
): Array<FileMeta> => {
  let lo = smallest
  let hi = largest
  for (;;) {
    let widened = false
    const taken: Array<FileMeta> = []
    for (const f of files) {
      if (!rangesOverlap(f.smallestKey, f.largestKey, lo, hi)) continue
      taken.push(f)
      if (f.smallestKey < lo) {
        lo = f.smallestKey
        widened = true
      }
      if (f.largestKey > hi) {
        hi = f.largestKey
        widened = true
      }
    }
    if (!widened) return taken
  }
}

/** True when some file of a level deeper than `level` overlaps [smallest, largest]. */
export const overlapsDeeper = (version: Version, level: number, smallest: string, largest: string): boolean => {
  for (let l = level + 1; l < version.levels.length; l++) {
    for (const f of version.levels[l]!) if (rangesOverlap(f.smallestKey, f.largestKey, smallest, largest)) return true
  }
  return false
}

/** The largest internal key of some files, as a compact pointer of `level`. */
export const largestPointer = (level: number, files: ReadonlyArray<FileMeta>): CompactPointer | undefined => {
  let best: FileMeta | undefined
  for (const f of files) {
    if (best === undefined || compareInternal(f.largestKey, f.largestSeq, best.largestKey, best.largestSeq) > 0) {
      best = f
    }
  }
  return best === undefined ? undefined : { level, key: best.largestKey, seq: best.largestSeq }
}
