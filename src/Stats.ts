/**
 * What `Db.stats` reports, and `format`, the same as a text page (LevelDB's `leveldb.stats`,
 * RocksDB's `rocksdb.stats`).
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
  /**
   * The bytes the level's tables would take with every block stored uncompressed; `bytes / rawBytes`
   * is the level's compression ratio (1 when nothing is compressed).
   */
  readonly rawBytes: number
  /** size / target for leveled compaction (L0: tables / trigger). */
  readonly score: number
  /** Bytes of tables written into this level since open: flushes (L0), compaction outputs. */
  readonly bytesWritten: number
  /** Bytes of this level's tables compactions took as inputs since open. */
  readonly bytesRead: number
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
  /** Of `compactions`, those point reads asked for (a table they kept looking through: `seekCompaction`). */
  readonly seekCompactions: number
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

const MiB = 1024 * 1024
const mib = (bytes: number): string => (bytes / MiB).toFixed(1)
const count = (n: number): string => Math.round(n).toLocaleString("en-US")
const percent = (part: number, whole: number): string => (whole === 0 ? "-" : `${((100 * part) / whole).toFixed(1)}%`)

/** Right-aligned columns under a header, the first column left-aligned. */
const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)]
}

/**
 * `stats` as a text page: per level its tables, size (on disk and uncompressed), score, and the bytes written into it and read
 * out of it by compactions since open (with a sum row); then writes and their amplification,
 * background work and stalls, reads, the block cache, memory and what the open recovered.
 */
export const format = (stats: DbStats): string => {
  const levels = stats.levels
  const sum = (f: (l: LevelStats) => number) => levels.reduce((s, l) => s + f(l), 0)
  const rows = levels.map((l) => [
    `L${l.level}`,
    count(l.tables),
    mib(l.bytes),
    mib(l.rawBytes),
    l.score.toFixed(2),
    mib(l.bytesRead),
    mib(l.bytesWritten)
  ])
  rows.push(["Sum", count(sum((l) => l.tables)), mib(sum((l) => l.bytes)), mib(sum((l) => l.rawBytes)), "", mib(sum((l) => l.bytesRead)), mib(sum((l) => l.bytesWritten))])
  const m = stats.memory
  const r = stats.recovery
  return [
    "** stratadb stats (since open) **",
    ...table(["level", "tables", "size MiB", "raw MiB", "score", "read MiB", "written MiB"], rows),
    `writes: user ${mib(stats.userBytesWritten)} MiB, WAL ${mib(stats.walBytesWritten)} MiB, flushes ${mib(stats.flushBytesWritten)} MiB, ` +
    `compactions read ${mib(stats.compactionBytesRead)} MiB and wrote ${mib(stats.compactionBytesWritten)} MiB; ` +
    `write amplification ${stats.writeAmplification.toFixed(2)}`,
    `background (${stats.backgroundWork}): ${count(stats.flushes)} flushes, ${count(stats.compactions)} compactions (${count(stats.seekCompactions)} by seeks); ` +
    `writers stalled ${(stats.stallMicros / 1e6).toFixed(3)} s, ${count(stats.slowdowns)} slowed down`,
    `reads: ${count(stats.gets)} gets, ${stats.tablesReadPerGet.toFixed(2)} tables read per get; bloom filters ${count(stats.bloomChecks)} checked, ` +
    `${count(stats.bloomNegatives)} ruled a table out (${percent(stats.bloomNegatives, stats.bloomChecks)})`,
    `block cache: ${mib(stats.blockCache.usage)} of ${mib(stats.blockCache.capacity)} MiB, ${count(stats.blockCache.hits)} hits, ` +
    `${count(stats.blockCache.misses)} misses (${percent(stats.blockCache.hits, stats.blockCache.hits + stats.blockCache.misses)} hits); ` +
    `${count(stats.openTables)} tables open`,
    `memory: memtables ${mib(m.memtables)} MiB (${count(stats.immutableMemtables)} frozen), block cache ${mib(m.blockCache)} MiB, ` +
    `table metadata ${mib(m.tableMetadata)} MiB = ${mib(m.total)} MiB (budget: ${m.budget === 0 ? "none" : `${mib(m.budget)} MiB`})`,
    `last sequence ${count(stats.lastSequence)}; recovery (${r.walRecoveryMode}): ${count(r.logsReplayed)} logs, ` +
    `${count(r.recordsReplayed)} records replayed, ${r.tornTails.length} torn tails, ${r.damage.length} damaged, ` +
    `${r.droppedLogs.length} logs dropped`
  ].join("\n")
}
