/**
 * Which old versions must survive a flush or a compaction: the newest version of a key always
 * does; an older version survives only if some live snapshot sees it, that is, a snapshot taken
 * at or after it and before the next newer version.
 */

/** True when a snapshot in `snapshots` (ascending) lies in [seq, newerSeq). */
export const neededBySnapshot = (seq: number, newerSeq: number, snapshots: ReadonlyArray<number>): boolean => {
  let lo = 0
  let hi = snapshots.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (snapshots[mid]! < seq) lo = mid + 1
    else hi = mid
  }
  return lo < snapshots.length && snapshots[lo]! < newerSeq
}
