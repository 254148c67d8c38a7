/**
 * Size-tiered compaction policy (in the line of RocksDB's universal compaction and mini-lsm's
 * `tiered.rs`), pure over a `Version`.
 *
 * Runs. Every sorted run is ONE table kept in L0, and L0 is ordered newest first by `maxSeq`
 * (`version.ts`). Tiered outputs are never cut: a task's `maxOutputFileSize` is `Infinity` and the
 * mechanism writes exactly one table per merge, so "run" and "L0 table" are the same thing and the
 * `Version` needs no notion of run ids. (A run cut into several tables would need the tables to be
 * recognisable as one run, e.g. by a shared sequence range stamped over their real one; one table
 * per run is the simplest option that is plainly correct.) L1+ stay empty under this strategy.
 *
 * Recency. A merge takes only runs ADJACENT in the newest-first order. Flushes have disjoint
 * sequence ranges, so by induction every run's [minSeq, maxSeq] is disjoint from every other's and
 * the merged run (maxSeq = its newest input's) sorts exactly where its inputs were: a point read
 * that stops at the first L0 table holding the key still finds the newest version.
 *
 * Rules, tried in order once there are at least `tieredMinMergeWidth` runs (`width`):
 * 1. Space amplification: when the runs other than the oldest hold at least
 *    `TIERED_MAX_SPACE_AMPLIFICATION_PERCENT`% of the oldest's bytes, merge everything (a full
 *    merge: it is bottommost and drops tombstones).
 * 2. Size ratio: the newest group of >= `width` adjacent runs whose sizes lie within
 *    `tieredSizeRatio` of each other (largest <= ratio * smallest), grown as far as it goes.
 * 3. Run bound: when there are more than `tieredMaxRuns` = 2 * `width` runs, merge the `width`
 *    adjacent runs with the fewest bytes, whatever their sizes, so reads stay bounded.
 * `bottommost` holds when no run older than the group (and no L1+ table) overlaps its key range.
 */
import { Option } from "effect"
import { levelBytes, rangesOverlap, type Version } from "../version/version.js"
import { type CompactionConfig, type CompactionReason, type CompactionTask, keyRange, overlapsDeeper } from "./task.js"

/** Rule 1 fires when the newer runs hold this percentage of the oldest run's bytes. */
export const TIERED_MAX_SPACE_AMPLIFICATION_PERCENT = 200

const mergeWidth = (config: Pick<CompactionConfig, "tieredMinMergeWidth">): number =>
  Math.max(2, config.tieredMinMergeWidth)

/** Runs above which rule 3 merges regardless of sizes. */
export const tieredMaxRuns = (config: Pick<CompactionConfig, "tieredMinMergeWidth">): number =>
  2 * mergeWidth(config)

/** L0 score under tiered compaction (for stats): runs over the merge width. */
export const tieredScore = (version: Version, config: CompactionConfig): number =>
  (version.levels[0]?.length ?? 0) / mergeWidth(config)

/**
 * The task merging runs `first..last` (indices into L0, newest first, inclusive) into one run
 * that goes back to L0.
 */
export const tieredTask = (
  version: Version,
  first: number,
  last: number,
  reason: CompactionReason
): CompactionTask => {
  const runs = version.levels[0]!
  const inputs = runs.slice(first, last + 1)
  const { largest, smallest } = keyRange(inputs)
  let bottommost = !overlapsDeeper(version, 0, smallest, largest)
  for (let i = last + 1; bottommost && i < runs.length; i++) {
    if (rangesOverlap(runs[i]!.smallestKey, runs[i]!.largestKey, smallest, largest)) bottommost = false
  }
  return {
    reason,
    level: 0,
    outputLevel: 0,
    inputs,
    nextInputs: [],
    bottommost,
    smallestKey: smallest,
    largestKey: largest,
    trivialMove: false,
    grandparents: [],
    maxOutputFileSize: Number.POSITIVE_INFINITY
  }
}

/** The next size-tiered compaction, or none. */
export const pickTiered = (version: Version, config: CompactionConfig): Option.Option<CompactionTask> => {
  const runs = version.levels[0] ?? []
  const n = runs.length
  const width = mergeWidth(config)
  if (n < width) return Option.none()

  // 1. space amplification
  const oldest = runs[n - 1]!.size
  const newer = levelBytes(runs) - oldest
  if (newer * 100 >= TIERED_MAX_SPACE_AMPLIFICATION_PERCENT * oldest) {
    return Option.some(tieredTask(version, 0, n - 1, "tiered"))
  }

  // 2. size ratio: the newest qualifying group, as long as it goes
  const ratio = config.tieredSizeRatio
  for (let first = 0; first + width <= n; first++) {
    let lo = Math.max(1, runs[first]!.size)
    let hi = lo
    let last = first
    while (last + 1 < n) {
      const size = Math.max(1, runs[last + 1]!.size)
      const nextLo = Math.min(lo, size)
      const nextHi = Math.max(hi, size)
      if (nextHi > ratio * nextLo) break
      lo = nextLo
      hi = nextHi
      last++
    }
    if (last - first + 1 >= width) return Option.some(tieredTask(version, first, last, "tiered"))
  }

  // 3. run bound: the cheapest window of `width` adjacent runs
  if (n > tieredMaxRuns(config)) {
    let window = 0
    for (let i = 0; i < width; i++) window += runs[i]!.size
    let bestFirst = 0
    let best = window
    for (let first = 1; first + width <= n; first++) {
      window += runs[first + width - 1]!.size - runs[first - 1]!.size
      if (window < best) {
        best = window
        bestFirst = first
      }
    }
    return Option.some(tieredTask(version, bestFirst, bestFirst + width - 1, "tiered"))
  }
  return Option.none()
}
