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
