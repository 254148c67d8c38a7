/**
 * Which old versions must survive a flush or a compaction: the newest version of a key always
 * does; an older version survives only if some live snapshot sees it, that is, a snapshot taken
 * at or after it and before the next newer version.
 */

import { lowerBound } from "./lowerBound.js"

/** True when a snapshot in `snapshots` (ascending) lies in [seq, newerSeq). */
export const neededBySnapshot = (seq: number, newerSeq: number, snapshots: ReadonlyArray<number>): boolean => {
  const i = lowerBound(snapshots, seq)
  return i < snapshots.length && snapshots[i]! < newerSeq
}

/**
 * Whether a version of a key survives, `newerSeq` being the sequence of the next newer version of
 * the same key (POSITIVE_INFINITY for the newest, which always survives).
 */
export const survives = (seq: number, newerSeq: number, snapshots: ReadonlyArray<number>): boolean =>
  newerSeq === Number.POSITIVE_INFINITY || neededBySnapshot(seq, newerSeq, snapshots)
