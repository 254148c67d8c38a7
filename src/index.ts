/**
 * stratadb: an embedded log-structured merge-tree key-value store for Effect.
 */
export { Db, SnapshotTypeId } from "./Db.js"
export type {
  ApproximateSizeOptions,
  Bytes,
  CheckpointOptions,
  CheckpointProgress,
  CheckpointResult,
  Cursor,
  DbService,
  DeleteRangeOptions,
  Entry,
  EntryOf,
  RangeOptions,
  ReadOptions,
  ScanOptions,
  Snapshot,
  WriteOptions
} from "./Db.js"
export { WriteBatch } from "./WriteBatch.js"
export * from "./errors.js"
export type { CompactionStrategy, DbOptions, WalRecoveryMode } from "./Options.js"
export { DbOptionsSchema, defaults as defaultOptions } from "./Options.js"
export type { DbStats, LevelStats, LogDrop, MemoryStats, RecoveryStats } from "./Stats.js"
export { format as formatStats } from "./Stats.js"
export * as MemoryFileSystem from "./MemoryFileSystem.js"
export * as NodeSyncFileSystem from "./NodeSyncFileSystem.js"
export * as BackgroundWork from "./BackgroundWork.js"
export * as Metrics from "./Metrics.js"
