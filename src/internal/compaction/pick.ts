/**
 * The compaction policy's entry point: picks the next task for the configured strategy, and keeps
 * the little state the leveled picker carries between tasks (the compact pointers, which the
 * manifest also records so the round-robin survives a reopen).
 */
import { Option } from "effect"
import type { FileMeta } from "../version/fileMeta.js"
import type { Version } from "../version/version.js"
import type { VersionEdit } from "../version/versionEdit.js"
import { levelScores, pickLeveled } from "./leveledPicker.js"
import type { CompactionConfig, CompactionTask, CompactPointer } from "./task.js"
import { pickTiered, tieredScore } from "./tieredPicker.js"

export interface CompactionState {
  /** The latest compact pointer of each level that has one. */
  readonly compactPointers: ReadonlyArray<CompactPointer>
  /** Leveled: the table point reads made due for compaction (`state/seekCharges.ts`), if any. */
  readonly dueBySeeks?: FileMeta
}

export const initialCompactionState: CompactionState = { compactPointers: [] }

/** The state after an installed edit: its compact pointers replace those of the same levels. */
export const recordEdit = (state: CompactionState, edit: VersionEdit): CompactionState => {
  const added = edit.compactPointers
  if (added === undefined || added.length === 0) return state
  const byLevel = new Map<number, CompactPointer>()
  for (const p of state.compactPointers) byLevel.set(p.level, p)
  for (const p of added) byLevel.set(p.level, { level: p.level, key: p.key, seq: p.seq })
  return { compactPointers: [...byLevel.values()].sort((a, b) => a.level - b.level) }
}

/** The next compaction the configured strategy asks for, or none. */
export const pickCompaction = (
  version: Version,
  config: CompactionConfig,
  state: CompactionState = initialCompactionState
): Option.Option<CompactionTask> =>
  config.compaction === "tiered"
    ? pickTiered(version, config)
    : pickLeveled(version, config, state.compactPointers, state.dueBySeeks)

/** Per-level scores for stats (>= 1: work to do). Tiered: L0 scores runs over the merge width. */
export const compactionScores = (version: Version, config: CompactionConfig): Array<number> => {
  if (config.compaction !== "tiered") return levelScores(version, config)
  const scores = new Array<number>(version.levels.length).fill(0)
  if (scores.length > 0) scores[0] = tieredScore(version, config)
  return scores
}
