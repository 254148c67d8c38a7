/**
 * Leveled compaction policy (LevelDB's, `db/version_set.cc`), pure over a `Version`.
 *
 * Scores: L0 scores its table count over `level0CompactionTrigger` (L0 tables overlap, so each one
 * costs a read); Ln (n >= 1) scores its bytes over its target, target(L1) = `maxBytesForLevelBase`,
 * target(n + 1) = target(n) * `levelSizeMultiplier`. The last level has no score (0).
 *
 * Picking: the level with the highest score >= 1 goes first (ties: the upper level).
 * - L0: the oldest L0 table and, transitively, every L0 table overlapping the growing range.
 * - Ln: one table, the first whose largest key lies after the level's compact pointer (wrapping
 *   around), so the level's key space is compacted round-robin; plus a neighbour sharing a
 *   boundary user key, if any.
 * Then the overlapping tables of L(n+1) join, and the input set grows (without pulling in more
 * of L(n+1)) while the task stays under 25 target files. A single input overlapping nothing in
 * L(n+1) and at most 10 target files of L(n+2) is a trivial move: the mechanism re-levels it.
 *
 * When no level scores >= 1, a table due by its seeks (`state/seekCharges.ts`: point reads kept
 * looking through it without finding their key) is compacted into the level below, as LevelDB's
 * `file_to_compact_`: the same task from that one seed, without a compact pointer.
 */
import { Option } from "effect"
import type { FileMeta } from "../version/fileMeta.js"
import { levelBytes, overlappingFiles, type Version } from "../version/version.js"
import { compareInternal } from "../key/internalKey.js"
import {
  type CompactionConfig,
  type CompactionReason,
  type CompactionTask,
  type CompactPointer,
  expandedCompactionByteLimit,
  keyRange,
  largestPointer,
  maxGrandparentOverlapBytes,
  overlapClosure,
  overlapsDeeper
} from "./task.js"

/** Target bytes of level `level` (>= 1). */
export const levelTargetBytes = (
  config: Pick<CompactionConfig, "maxBytesForLevelBase" | "levelSizeMultiplier">,
  level: number
): number => config.maxBytesForLevelBase * Math.pow(config.levelSizeMultiplier, level - 1)

/** One score per level of `version`; a level with score >= 1 needs compaction. The last level scores 0. */
export const levelScores = (version: Version, config: CompactionConfig): Array<number> => {
  const levels = version.levels.length
  const scores = new Array<number>(levels).fill(0)
  if (levels === 0) return scores
  if (levels > 1) scores[0] = version.levels[0]!.length / config.level0CompactionTrigger
  for (let level = 1; level < levels - 1; level++) {
    scores[level] = levelBytes(version.levels[level]!) / levelTargetBytes(config, level)
  }
  return scores
}

/** The pointer recorded for `level`, the last one given for it wins. */
const pointerOf = (pointers: ReadonlyArray<CompactPointer> | undefined, level: number): CompactPointer | undefined => {
  let found: CompactPointer | undefined
  for (const p of pointers ?? []) if (p.level === level) found = p
  return found
}

/** The Ln table to compact: the first whose largest internal key is after the pointer, else the first. */
const roundRobinFile = (files: ReadonlyArray<FileMeta>, pointer: CompactPointer | undefined): FileMeta => {
  if (pointer !== undefined) {
    for (const f of files) {
      if (compareInternal(f.largestKey, f.largestSeq, pointer.key, pointer.seq) > 0) return f
    }
  }
  return files[0]!
}

export interface LeveledTaskOptions {
  readonly reason: CompactionReason
  /** May a single input with nothing below it be re-levelled without a rewrite? */
  readonly allowTrivialMove: boolean
  /** Record a compact pointer for the input level (size compactions of L1+). */
  readonly recordPointer: boolean
}

/**
 * Completes a leveled task from seed files of `level` into `level + 1` (LevelDB's
 * `SetupOtherInputs`): closes the inputs under overlap, adds the overlapping files of the output
 * level, grows the inputs when that takes no more output-level files and stays under the byte
 * limit, then computes the grandparents, the trivial move and `bottommost`.
 */
export const leveledTask = (
  version: Version,
  config: CompactionConfig,
  level: number,
  seeds: ReadonlyArray<FileMeta>,
  options: LeveledTaskOptions
): CompactionTask => {
  const outputLevel = level + 1
  const levelFiles = version.levels[level]!
  const seedRange = keyRange(seeds)
  let inputs = overlapClosure(levelFiles, seedRange.smallest, seedRange.largest)
  let range = keyRange(inputs)
  const nextInputs = overlappingFiles(version, outputLevel, range.smallest, range.largest)

  if (nextInputs.length > 0) {
    const all = keyRange(inputs, nextInputs)
    const expanded = overlapClosure(levelFiles, all.smallest, all.largest)
    if (
      expanded.length > inputs.length &&
      levelBytes(expanded) + levelBytes(nextInputs) < expandedCompactionByteLimit(config)
    ) {
      const expandedRange = keyRange(expanded)
      const expandedNext = overlappingFiles(version, outputLevel, expandedRange.smallest, expandedRange.largest)
      if (expandedNext.length === nextInputs.length) {
        inputs = expanded
        range = expandedRange
      }
    }
  }

  const full = keyRange(inputs, nextInputs)
  const grandparents =
    outputLevel + 1 < version.levels.length ? overlappingFiles(version, outputLevel + 1, full.smallest, full.largest) : []
  const trivialMove =
    options.allowTrivialMove &&
    inputs.length === 1 &&
    nextInputs.length === 0 &&
    levelBytes(grandparents) <= maxGrandparentOverlapBytes(config)
  const pointer = options.recordPointer && level >= 1 ? largestPointer(level, inputs) : undefined
  return {
    reason: options.reason,
    level,
    outputLevel,
    inputs,
    nextInputs,
    bottommost: !overlapsDeeper(version, outputLevel, full.smallest, full.largest),
    smallestKey: full.smallest,
    largestKey: full.largest,
    trivialMove,
    grandparents,
    maxOutputFileSize: config.targetFileSize,
    ...(pointer === undefined ? {} : { compactPointer: pointer })
  }
}

/** The level of the current version holding `table` (the same object), above the last level; -1 if none. */
const levelAboveLast = (version: Version, table: FileMeta): number => {
  for (let level = 0; level < version.levels.length - 1; level++) {
    if (version.levels[level]!.includes(table)) return level
  }
  return -1
}

/**
 * The next leveled compaction, or none when every level scores below 1 and no table of the
 * version is `dueBySeeks`.
 */
export const pickLeveled = (
  version: Version,
  config: CompactionConfig,
  compactPointers?: ReadonlyArray<CompactPointer>,
  dueBySeeks?: FileMeta
): Option.Option<CompactionTask> => {
  const scores = levelScores(version, config)
  let level = -1
  for (let l = 0; l < scores.length - 1; l++) {
    if (scores[l]! >= 1 && (level === -1 || scores[l]! > scores[level]!)) level = l
  }
  if (level === -1) {
    const seekLevel = dueBySeeks === undefined ? -1 : levelAboveLast(version, dueBySeeks)
    if (seekLevel === -1) return Option.none()
    return Option.some(
      leveledTask(version, config, seekLevel, [dueBySeeks!], { reason: "seek", allowTrivialMove: true, recordPointer: false })
    )
  }
  const files = version.levels[level]!
  if (files.length === 0) return Option.none()
  const seed = level === 0 ? files[files.length - 1]! : roundRobinFile(files, pointerOf(compactPointers, level))
  return Option.some(
    leveledTask(version, config, level, [seed], {
      reason: level === 0 ? "level0" : "size",
      allowTrivialMove: true,
      recordPointer: true
    })
  )
}
