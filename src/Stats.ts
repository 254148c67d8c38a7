/**
 * What `Db.stats` reports.
 */
import type { WalRecoveryMode } from "./Options.js"

/** Bytes of a log that opening did not replay, and why. */
export interface LogDrop {
  /** The log's file name. */
  readonly file: string
  /** File offset of the first byte not replayed. */
  readonly offset: number
  readonly droppedBytes: number
  readonly description: string
}

/** What the last open found in the WALs it replayed (doc/log_format.md). */
export interface RecoveryStats {
  readonly walRecoveryMode: WalRecoveryMode
  readonly logsReplayed: number
  readonly recordsReplayed: number
  /** Partial writes cut from the end of a log (a crash interrupted them; none was acknowledged as synced). */
  readonly tornTails: ReadonlyArray<LogDrop>
  /** Damage `pointInTime` recovery stopped at (always empty in the other modes: they fail instead). */
  readonly damage: ReadonlyArray<LogDrop>
  /** Logs after the damage that `pointInTime` recovery dropped whole. */
  readonly droppedLogs: ReadonlyArray<string>
  /** Files moved into the directory's `lost/` folder instead of being deleted (the damaged and dropped logs). */
  readonly movedToLost: ReadonlyArray<string>
}
export interface LevelStats {
  readonly level: number
  readonly tables: number
  readonly bytes: number
  /** size / target for leveled compaction (L0: tables / trigger). */
  readonly score: number
}

/**
 * The memory the engine keeps, by part, in bytes (README, `memoryBudget`). Estimates: the
 * memtables charge each entry's key and value plus a fixed bookkeeping cost, the block cache the
 * blocks it holds, the table metadata its estimate per open table (`TableReader.residentBytes`).
 */
export interface MemoryStats {
  /** The mutable and immutable memtables (the sum `memtableBytes` reports). */
  readonly memtables: number
  /** The blocks in the block cache (its `usage`). */
  readonly blockCache: number
  /** Filters, indexes and properties kept in memory by the open tables (the table cache's readers). */
  readonly tableMetadata: number
  /** memtables + blockCache + tableMetadata. */
  readonly total: number
  /**
   * The `memoryBudget` option, 0 when there is none. `total` keeps within it, but for the write
   * that fills a memtable: a memtable takes it whole, passing `writeBufferSize` by up to that
   * write's size (and pinned tables stay open over their share while a read or compaction uses them).
   */
  readonly budget: number
}

export interface DbStats {
  readonly levels: ReadonlyArray<LevelStats>
  readonly memtableBytes: number
  /** Where flushes and compactions run: "worker" (a Node worker thread) or "inline" (BackgroundWork.ts). */
  readonly backgroundWork: "inline" | "worker"
  readonly immutableMemtables: number
  readonly lastSequence: number
  /** Bytes the user handed in (keys + values) since open. */
  readonly userBytesWritten: number
  readonly walBytesWritten: number
  readonly flushBytesWritten: number
  readonly compactionBytesWritten: number
  readonly compactionBytesRead: number
  /** (wal + flush + compaction bytes) / user bytes; 0 before any write. */
  readonly writeAmplification: number
  readonly flushes: number
  readonly compactions: number
  readonly stallMicros: number
  readonly slowdowns: number
  readonly blockCache: { readonly hits: number; readonly misses: number; readonly usage: number; readonly capacity: number }
  readonly openTables: number
  readonly bloomChecks: number
  readonly bloomNegatives: number
  /**
   * Tables point reads searched since open: a table counts when a data block of it was searched
   * (from the block cache or the file), that is when neither its key range, its bloom filter
   * (`bloomNegatives`) nor its index ruled the key out.
   */
  readonly tableReads: number
  readonly gets: number
  /**
   * tableReads / gets: how many tables a point read searched on average, memtable hits included as
   * zero (0 before any get). Near 1 or below when bloom filters work; without them it grows with
   * the tables whose key range holds the key.
   */
  readonly tablesReadPerGet: number
  /** What opening found in the WALs it replayed. */
  readonly recovery: RecoveryStats
  /** The memory the engine keeps, by part, and the budget that bounds it. */
  readonly memory: MemoryStats
}
