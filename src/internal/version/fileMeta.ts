/**
 * What the manifest records about one table file.
 */
export interface FileMeta {
  /** File number: the table lives in `NNNNNN.sst`. */
  readonly number: number
  /** File size in bytes. */
  readonly size: number
  /**
   * The size the file would have with every block stored uncompressed (equal to `size` for a
   * table without compressed blocks, and for tables recorded before compression existed).
   */
  readonly rawSize: number
  /** Smallest internal key (latin1 user key, sequence). */
  readonly smallestKey: string
  readonly smallestSeq: number
  /** Largest internal key (latin1 user key, sequence). */
  readonly largestKey: string
  readonly largestSeq: number
  /** Entries and tombstones in the table. */
  readonly entries: number
  readonly tombstones: number
  /** Sequence range of the entries. */
  readonly minSeq: number
  readonly maxSeq: number
}
