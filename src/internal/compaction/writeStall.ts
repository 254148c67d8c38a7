/**
 * The write-stall rule (LevelDB's `MakeRoomForWrite` decisions, without the waiting): what a write
 * must do before it goes into the memtable, from the shape of the tree. Pure; the writer carries it
 * out (`writer.ts`).
 *
 * - `slowdown`: L0 has reached the slowdown trigger: delay this write 1 ms, once (spreads the stall
 *   over many writes instead of one long wait).
 * - `wait`: the memtable is full and cannot be switched (the frozen memtables are at their limit, or
 *   L0 at the stop trigger): wait for background work.
 * - `rotate`: the memtable is full: freeze it and start a new one on a new log.
 * - `proceed`: there is room.
 *
 * Under size-tiered compaction L0 holds every run, up to twice the merge width by design, so both
 * triggers are raised by that allowance; with background compaction off nothing would ever drain
 * L0, so L0 never slows or stops writers.
 */
import type { ResolvedOptions } from "../../Options.js"

export type StallDecision = "proceed" | "slowdown" | "wait" | "rotate"

/** The L0 table counts at which writes slow down and stop, under these options. */
export interface StallThresholds {
  readonly slowdownAt: number
  readonly stopAt: number
}

export const stallThresholds = (
  options: Pick<ResolvedOptions, "compaction" | "tieredMinMergeWidth" | "backgroundCompaction" | "level0SlowdownTrigger" | "level0StopTrigger">
): StallThresholds => {
  if (!options.backgroundCompaction) return { slowdownAt: Number.POSITIVE_INFINITY, stopAt: Number.POSITIVE_INFINITY }
  const allowance = options.compaction === "tiered" ? 2 * options.tieredMinMergeWidth : 0
  return { slowdownAt: options.level0SlowdownTrigger + allowance, stopAt: options.level0StopTrigger + allowance }
}

/** The tree as a write finds it. */
export interface WriteRoom {
  readonly level0Tables: number
  readonly memtableBytes: number
  readonly immutableMemtables: number
  /** This write was already slowed down once. */
  readonly slowed: boolean
}

export const stallDecision = (
  room: WriteRoom,
  thresholds: StallThresholds,
  options: Pick<ResolvedOptions, "writeBufferSize" | "maxImmutableMemtables">
): StallDecision => {
  if (!room.slowed && room.level0Tables >= thresholds.slowdownAt) return "slowdown"
  if (room.memtableBytes < options.writeBufferSize) return "proceed"
  if (room.immutableMemtables >= options.maxImmutableMemtables || room.level0Tables >= thresholds.stopAt) return "wait"
  return "rotate"
}
