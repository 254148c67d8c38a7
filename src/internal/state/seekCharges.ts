/**
 * Seek charges (LevelDB's `allowed_seeks`, `Version::UpdateStats`): what point reads cost the
 * tables they look through without finding their key, and the table that has cost enough to be
 * compacted into the level below.
 *
 * A point read that consults more than one table (the tables whose key range holds the key, in
 * read order) charges the first of them one seek. LevelDB's reasoning: a seek costs about as
 * much as compacting 16 KiB (one read of a block against merging 40 KiB from three levels), so
 * after `size / 16 KiB` seeks (at least 100) merging the table down costs less than the seeks it
 * keeps causing. With bloom filters most such seeks are a filter probe rather than a block read;
 * the charge stays, as in LevelDB: it is what lets a database that stops writing settle into
 * fewer levels (fewer tables per read, and the older versions and tombstones above the last level
 * merged away) instead of keeping the shape its last write burst left.
 *
 * Charges are kept per `FileMeta` object (a weak map, so a table that leaves every version leaves
 * here too); a table that moves level gets a new `FileMeta` (`resultEdit`), so its charges start
 * over there. They are not persisted: a reopen starts every table afresh, as LevelDB does.
 */
import type { FileMeta } from "../version/fileMeta.js"

/** Bytes of table one seek is worth (LevelDB's 16 KiB). */
export const BYTES_PER_SEEK = 16 * 1024

/** Seeks a table may cause before it is due for compaction: `max(100, floor(size / 16 KiB))`. */
export const allowedSeeks = (size: number): number => Math.max(100, Math.floor(size / BYTES_PER_SEEK))

export class SeekCharges {
  private readonly left = new WeakMap<FileMeta, number>()
  private candidate: FileMeta | undefined = undefined

  /**
   * Charges `table` one seek. True when this charge made it the table due for compaction (none
   * was due before): the caller then wakes the compactor.
   */
  charge(table: FileMeta): boolean {
    const left = (this.left.get(table) ?? allowedSeeks(table.size)) - 1
    this.left.set(table, left)
    if (left > 0 || this.candidate !== undefined) return false
    this.candidate = table
    return true
  }

  /** The table due for compaction by its seeks, if any. */
  due(): FileMeta | undefined {
    return this.candidate
  }

  /** Forgets the table due (its compaction was picked, or it left the version); the next spent table may take its place. */
  clear(table: FileMeta): void {
    if (this.candidate === table) this.candidate = undefined
  }
}
