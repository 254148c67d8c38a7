/**
 * The iterator protocol every source of internal entries speaks (memtables, blocks, tables,
 * levels, merges), in the manner of LevelDB's `Iterator`, adapted to Effect: positioning is
 * synchronous, and a step that needs I/O (a block not in the cache) leaves the iterator
 * `pending()`; the caller then runs `load()` once, after which the step is complete.
 *
 * Order is internal-key order: user key ascending, sequence descending.
 */
import type { Effect } from "effect"
import type { TableError } from "../table/tableFile.js"
import type { Kind } from "../key/internalKey.js"

export interface InternalIterator {
  /** True when positioned on an entry. Meaningful only when not `pending()`. */
  valid(): boolean
  /** The current entry's latin1 user key, sequence, kind and value (only while `valid()`). */
  key(): string
  seq(): number
  kind(): Kind
  value(): Uint8Array
  seekToFirst(): void
  seekToLast(): void
  /** Positions at the first entry at or after (key, seq) in internal order. */
  seek(key: string, seq: number): void
  /** Positions at the last entry at or before (key, seq) in internal order. */
  seekForPrev(key: string, seq: number): void
  next(): void
  prev(): void
  /** True when the last positioning step waits for I/O; call `load()` before reading. */
  pending(): boolean
  /** Performs the I/O the pending step needs and completes it. A no-op when not pending. */
  load(): Effect.Effect<void, TableError>
}
