/**
 * A `Version`: the set of live tables, level by level, at one point of the manifest. Immutable;
 * an edit yields the next version (`applyEdit`, pure).
 *
 * Level 0 holds tables whose key ranges may overlap, newest first (by largest sequence), so a
 * point read stops at the first table holding the key. Levels 1 and below hold tables with
 * disjoint key ranges sorted by smallest key.
 */
import { compareInternal } from "../key/internalKey.js"
import type { FileMeta } from "./fileMeta.js"
import type { VersionEdit } from "./versionEdit.js"

export interface Version {
  readonly levels: ReadonlyArray<ReadonlyArray<FileMeta>>
}

export const empty = (numLevels: number): Version => ({
  levels: Array.from({ length: numLevels }, () => [])
})

/** Newest first: by largest sequence, then by file number. */
const newestFirst = (a: FileMeta, b: FileMeta): number => b.maxSeq - a.maxSeq || b.number - a.number

const bySmallestKey = (a: FileMeta, b: FileMeta): number =>
  compareInternal(a.smallestKey, a.smallestSeq, b.smallestKey, b.smallestSeq)

/** The version after an edit: deleted files removed, new files added, levels kept in order. */
export const applyEdit = (version: Version, edit: VersionEdit): Version => {
  const deleted = new Set<string>()
  for (const d of edit.deletedFiles ?? []) deleted.add(`${d.level}:${d.number}`)
  const levels = version.levels.map((files, level) => {
    const kept = deleted.size === 0 ? [...files] : files.filter((f) => !deleted.has(`${level}:${f.number}`))
    return kept
  })
  for (const { level, meta } of edit.newFiles ?? []) {
    if (level >= levels.length) throw new Error(`level ${level} beyond the last level ${levels.length - 1}`)
    levels[level]!.push(meta)
  }
  levels.forEach((files, level) => files.sort(level === 0 ? newestFirst : bySmallestKey))
  return { levels }
}

/** Every file number the version names. */
export const liveFiles = (version: Version): Set<number> => {
  const live = new Set<number>()
  for (const files of version.levels) for (const f of files) live.add(f.number)
  return live
}

export const levelBytes = (files: ReadonlyArray<FileMeta>): number => {
  let total = 0
  for (const f of files) total += f.size
  return total
}

/** What `files` would take with every block stored uncompressed (`FileMeta.rawSize`). */
export const levelRawBytes = (files: ReadonlyArray<FileMeta>): number => {
  let total = 0
  for (const f of files) total += f.rawSize
  return total
}

/** True when [aSmall, aLarge] and [bSmall, bLarge] (user keys) intersect. */
export const rangesOverlap = (aSmall: string, aLarge: string, bSmall: string, bLarge: string): boolean =>
  !(aLarge < bSmall || bLarge < aSmall)

/** The files of `level` whose user-key range intersects [smallest, largest]. */
export const overlappingFiles = (
  version: Version,
  level: number,
  smallest: string,
  largest: string
): Array<FileMeta> =>
  (version.levels[level] ?? []).filter((f) => rangesOverlap(f.smallestKey, f.largestKey, smallest, largest))
