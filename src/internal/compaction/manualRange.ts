/**
 * Manual range compaction (`compactRange(start?, end?)`), planned one task at a time, pure.
 *
 * The caller starts a cursor, then loops: ask `nextManualTask`, run the task, install its edit,
 * ask again with the cursor it returned, until no task comes back. At that point every table
 * overlapping the range lies in one level, and the last task touching the range was bottommost,
 * so tombstones in the range could be dropped.
 *
 * Leveled: the bottom is the deepest non-empty level (at least L1). Level by level from the top,
 * the tables of level L overlapping the range go down into L+1 (L0: all of them with their
 * overlapping closure; L1+: in chunks of at most 25 target files, so one task stays bounded),
 * merged with what they overlap there; manual tasks always rewrite (no trivial moves). Once
 * nothing above the bottom overlaps the range, the bottom's overlapping tables that still hold
 * tombstones are rewritten in place once (`level === outputLevel`), which drops them.
 *
 * Tiered: one task merges the runs overlapping the range into one run: the span from the newest
 * such run to the oldest, itself grown toward older runs while an older run overlaps the span's
 * key range (merges must take adjacent runs, and the span must end where nothing older overlaps
 * for the merge to be bottommost). A lone run without tombstones is left alone.
 */
import { Option } from "effect"
import type { FileMeta } from "../version/fileMeta.js"
import { overlappingFiles, rangesOverlap, type Version } from "../version/version.js"
import { leveledTask } from "./leveledPicker.js"
import {
  ABOVE_ALL_KEYS,
  type CompactionConfig,
  type CompactionTask,
  expandedCompactionByteLimit,
  keyRange,
  overlapClosure,
  overlapsDeeper
} from "./task.js"
import { tieredTask } from "./tieredPicker.js"

/** Where a manual compaction stands. */
export interface ManualCompaction {
  /** Inclusive user-key range; "" and `ABOVE_ALL_KEYS` when unbounded. */
  readonly smallest: string
  readonly largest: string
  /** Leveled: the level being pushed down. */
  readonly level: number
  /** Leveled: the deepest level seen so far (only grows). */
  readonly bottom: number
  readonly done: boolean
}

export interface ManualStep {
  readonly task: Option.Option<CompactionTask>
  /** The cursor for the next call. */
  readonly manual: ManualCompaction
}

/** Starts a manual compaction of [smallest, largest] (user keys, inclusive; absent = unbounded). */
export const startManualCompaction = (smallest?: string, largest?: string): ManualCompaction => ({
  smallest: smallest ?? "",
  largest: largest ?? ABOVE_ALL_KEYS,
  level: 0,
  bottom: 1,
  done: false
})

const finished = (manual: ManualCompaction): ManualStep => ({
  task: Option.none(),
  manual: { ...manual, done: true }
})

/** The deepest level holding a table, at least 1 (and at most the last level). */
const deepestLevel = (version: Version): number => {
  for (let level = version.levels.length - 1; level > 1; level--) {
    if (version.levels[level]!.length > 0) return level
  }
  return 1
}

/** The first overlapping files of an L1+ level, in key order, up to the byte limit (at least one). */
const chunk = (files: ReadonlyArray<FileMeta>, limit: number): Array<FileMeta> => {
  const taken: Array<FileMeta> = []
  let bytes = 0
  for (const f of files) {
    if (taken.length > 0 && bytes + f.size > limit) break
    taken.push(f)
    bytes += f.size
  }
  return taken
}

const nextLeveled = (version: Version, config: CompactionConfig, manual: ManualCompaction): ManualStep => {
  const bottom = Math.min(version.levels.length - 1, Math.max(manual.bottom, deepestLevel(version)))
  for (let level = manual.level; level < bottom; level++) {
    const files = overlappingFiles(version, level, manual.smallest, manual.largest)
    if (files.length === 0) continue
    const seeds = level === 0 ? files : chunk(files, expandedCompactionByteLimit(config))
    const task = leveledTask(version, config, level, seeds, {
      reason: "manual",
      allowTrivialMove: false,
      recordPointer: false
    })
    return { task: Option.some(task), manual: { ...manual, level, bottom } }
  }
  const withTombstones = overlappingFiles(version, bottom, manual.smallest, manual.largest).filter(
    (f) => f.tombstones > 0
  )
  if (withTombstones.length === 0) return finished({ ...manual, level: bottom, bottom })
  const seedRange = keyRange(withTombstones)
  const inputs = overlapClosure(version.levels[bottom]!, seedRange.smallest, seedRange.largest)
  const range = keyRange(inputs)
  const rewrite: CompactionTask = {
    reason: "manual",
    level: bottom,
    outputLevel: bottom,
    inputs,
    nextInputs: [],
    bottommost: !overlapsDeeper(version, bottom, range.smallest, range.largest),
    smallestKey: range.smallest,
    largestKey: range.largest,
    trivialMove: false,
    grandparents: [],
    maxOutputFileSize: config.targetFileSize
  }
  return { task: Option.some(rewrite), manual: { ...manual, level: bottom, bottom, done: true } }
}

const nextTiered = (version: Version, manual: ManualCompaction): ManualStep => {
  const runs = version.levels[0] ?? []
  let first = -1
  let last = -1
  for (let i = 0; i < runs.length; i++) {
    if (rangesOverlap(runs[i]!.smallestKey, runs[i]!.largestKey, manual.smallest, manual.largest)) {
      if (first === -1) first = i
      last = i
    }
  }
  if (first === -1) return finished(manual)
  let range = keyRange(runs.slice(first, last + 1))
  for (let i = runs.length - 1; i > last; i--) {
    if (rangesOverlap(runs[i]!.smallestKey, runs[i]!.largestKey, range.smallest, range.largest)) {
      last = i
      range = keyRange(runs.slice(first, last + 1))
      i = runs.length // rescan: the range grew
    }
  }
  if (first === last && runs[first]!.tombstones === 0) return finished(manual)
  return { task: Option.some(tieredTask(version, first, last, "manual")), manual: { ...manual, done: true } }
}

/** The next task of a manual compaction and the cursor to pass next time; none when it is complete. */
export const nextManualTask = (version: Version, config: CompactionConfig, manual: ManualCompaction): ManualStep => {
  if (manual.done) return { task: Option.none(), manual }
  return config.compaction === "tiered" ? nextTiered(version, manual) : nextLeveled(version, config, manual)
}
