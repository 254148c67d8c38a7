/**
 * What `Db.stats` reports.
 */
export interface LevelStats {
  readonly level: number
  readonly tables: number
  readonly bytes: number
  /** size / target for leveled compaction (L0: tables / trigger). */
  readonly score: number
}

export interface DbStats {
  readonly levels: ReadonlyArray<LevelStats>
  readonly memtableBytes: number
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
}
