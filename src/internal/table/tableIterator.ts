/**
 * The two-level iterator over a table (LevelDB's `two_level_iterator.cc`): a position in the
 * table's index selects a data block, a `BlockIterator` walks it. Blocks come from the table's
 * `BlockFetch`, as for point reads.
 *
 * Positioning is synchronous while the fetch answers at once (the block is cached, or the file
 * reads synchronously). When the fetch must wait, the iterator records what it was doing (seek to
 * first/last, seek, seekForPrev) and the fetch's effect, and goes `pending()`; `load()` runs the
 * effect and finishes the step, fetching further blocks if the step moves on (an entry-less block
 * cannot happen in a valid table, but is handled).
 */
import { Effect } from "effect"
import type { Kind } from "../key/internalKey.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import { Block, BlockIterator } from "./block.js"
import type { BlockFetch, ScanUse } from "./blockFetch.js"
import { Readahead } from "./readahead.js"
import { isTableError, type TableError } from "./tableFile.js"
import type { TableIndex } from "./tableIndex.js"

// What to do once a block is entered; NONE when not pending.
const NONE = 0
const FIRST = 1
const LAST = 2
const SEEK = 3
const SEEK_FOR_PREV = 4
type Action = typeof NONE | typeof FIRST | typeof LAST | typeof SEEK | typeof SEEK_FOR_PREV

export class TableIterator implements InternalIterator {
  private readonly data = new BlockIterator()
  private readonly index: TableIndex
  private readonly blocks: number
  /** The index position; -1 or `blocks` when before the first / after the last block. */
  private blockIndex = -1
  /** The block the data iterator holds (-1: none). */
  private loadedIndex = -1
  private pendingAction: Action = NONE
  private targetKey = ""
  private targetSeq = 0
  /** While pending: the fetch's effect reading the block, or the failure it met. */
  private waiting: Effect.Effect<Block, TableError> | TableError | undefined = undefined
  /** Reads blocks ahead while the iterator walks them in order. */
  private readonly readahead = new Readahead()

  constructor(
    private readonly fetch: BlockFetch,
    /** `FILL_CACHE` for scans, a `Scratch` of the iterator's own for compactions. */
    private readonly use: ScanUse
  ) {
    this.index = fetch.index
    this.blocks = fetch.index.length
  }

  valid(): boolean {
    return (
      this.pendingAction === NONE && this.blockIndex >= 0 && this.blockIndex < this.blocks && this.data.valid()
    )
  }
  key(): string {
    return this.data.key()
  }
  seq(): number {
    return this.data.seq()
  }
  kind(): Kind {
    return this.data.kind()
  }
  value(): Uint8Array {
    return this.data.value()
  }
  pending(): boolean {
    return this.pendingAction !== NONE
  }

  load(): Effect.Effect<void, TableError> {
    return this.pendingAction === NONE ? Effect.void : Effect.suspend(() => this.loadPending())
  }

  seekToFirst(): void {
    this.pendingAction = NONE
    if (this.blocks === 0) return this.exhaust(this.blocks)
    if (this.enter(0, FIRST)) this.settleForward()
  }

  seekToLast(): void {
    this.pendingAction = NONE
    if (this.blocks === 0) return this.exhaust(-1)
    if (this.enter(this.blocks - 1, LAST)) this.settleBackward()
  }

  seek(key: string, seq: number): void {
    this.pendingAction = NONE
    const i = this.index.find(key, seq)
    if (i >= this.blocks) return this.exhaust(this.blocks)
    this.targetKey = key
    this.targetSeq = seq
    if (this.enter(i, SEEK)) this.settleForward()
  }

  seekForPrev(key: string, seq: number): void {
    this.pendingAction = NONE
    if (this.blocks === 0) return this.exhaust(-1)
    // The block that would hold (key, seq), or the last block when (key, seq) is past the table.
    const i = Math.min(this.index.find(key, seq), this.blocks - 1)
    this.targetKey = key
    this.targetSeq = seq
    if (this.enter(i, SEEK_FOR_PREV)) this.settleBackward()
  }

  next(): void {
    this.data.next()
    this.settleForward()
  }

  prev(): void {
    this.data.prev()
    this.settleBackward()
  }

  private exhaust(position: number): void {
    this.blockIndex = position
  }

  private apply(action: Action): void {
    const data = this.data
    if (action === FIRST) data.seekToFirst()
    else if (action === LAST) data.seekToLast()
    else if (action === SEEK) data.seek(this.targetKey, this.targetSeq)
    else data.seekForPrev(this.targetKey, this.targetSeq)
  }

  /** Moves to block `i` and applies `action`; false (and pending) when the block must be read. */
  private enter(i: number, action: Action): boolean {
    this.blockIndex = i
    if (this.loadedIndex !== i) {
      const block = this.fetch.fetch(i, this.use, this.readahead)
      if (!(block instanceof Block)) {
        this.pendingAction = action
        this.waiting = block
        // A failed read into a scratch buffer may have overwritten the block held.
        this.loadedIndex = -1
        return false
      }
      this.data.reset(block)
      this.loadedIndex = i
    }
    this.apply(action)
    return true
  }

  /** While the data iterator is exhausted, moves to the start of the following block. */
  private settleForward(): void {
    while (!this.data.valid()) {
      const i = this.blockIndex + 1
      if (i >= this.blocks) return this.exhaust(this.blocks)
      if (!this.enter(i, FIRST)) return
    }
  }

  /** While the data iterator is exhausted, moves to the end of the preceding block. */
  private settleBackward(): void {
    while (!this.data.valid()) {
      const i = this.blockIndex - 1
      if (i < 0) return this.exhaust(-1)
      if (!this.enter(i, LAST)) return
    }
  }

  private loadPending(): Effect.Effect<void, TableError> {
    const waiting = this.waiting!
    return Effect.flatMap(isTableError(waiting) ? Effect.fail(waiting) : waiting, (block) => {
      const action = this.pendingAction
      this.pendingAction = NONE
      this.waiting = undefined
      this.data.reset(block)
      this.loadedIndex = this.blockIndex
      this.apply(action)
      if (action === FIRST || action === SEEK) this.settleForward()
      else this.settleBackward()
      return this.pendingAction === NONE ? Effect.void : this.loadPending()
    })
  }
}
