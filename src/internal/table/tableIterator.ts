/**
 * The two-level iterator over a table (LevelDB's `two_level_iterator.cc`): a position in the
 * table's index selects a data block, a `BlockIterator` walks it.
 *
 * Positioning is synchronous while the blocks it needs are cached (or already held). When it must
 * enter a block that is not cached, the iterator records what it was doing (seek to first/last,
 * seek, seekForPrev) and goes `pending()`; `load()` reads the block and finishes the step,
 * reading further blocks if the step moves on (an entry-less block cannot happen in a valid
 * table, but is handled).
 */
import type { PlatformError } from "@effect/platform/Error"
import { Effect } from "effect"
import type { Corruption } from "../../errors.js"
import type { Kind } from "../key/internalKey.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import { BlockIterator } from "./block.js"
import type { TableReader } from "./tableReader.js"

// What to do once a block is entered; NONE when not pending.
const NONE = 0
const FIRST = 1
const LAST = 2
const SEEK = 3
const SEEK_FOR_PREV = 4
type Action = typeof NONE | typeof FIRST | typeof LAST | typeof SEEK | typeof SEEK_FOR_PREV

export class TableIterator implements InternalIterator {
  private readonly data = new BlockIterator()
  private readonly blocks: number
  /** The index position; -1 or `blocks` when before the first / after the last block. */
  private blockIndex = -1
  /** The block the data iterator holds (-1: none). */
  private loadedIndex = -1
  private pendingAction: Action = NONE
  private targetKey = ""
  private targetSeq = 0

  /** Where blocks not in the cache are loaded when this iterator does not fill the cache. */
  scratch: Uint8Array = new Uint8Array(0)

  constructor(
    private readonly table: TableReader,
    private readonly fillCache = true
  ) {
    this.blocks = table.index.length
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

  load(): Effect.Effect<void, Corruption | PlatformError> {
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
    const i = this.table.index.find(key, seq)
    if (i >= this.blocks) return this.exhaust(this.blocks)
    this.targetKey = key
    this.targetSeq = seq
    if (this.enter(i, SEEK)) this.settleForward()
  }

  seekForPrev(key: string, seq: number): void {
    this.pendingAction = NONE
    if (this.blocks === 0) return this.exhaust(-1)
    // The block that would hold (key, seq), or the last block when (key, seq) is past the table.
    const i = Math.min(this.table.index.find(key, seq), this.blocks - 1)
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
      const block = this.table.blockNow(i, this.fillCache ? undefined : this)
      if (block === undefined) {
        this.pendingAction = action
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

  private loadPending(): Effect.Effect<void, Corruption | PlatformError> {
    return Effect.flatMap(this.table.readBlock(this.blockIndex), (block) => {
      const action = this.pendingAction
      this.pendingAction = NONE
      this.data.reset(block)
      this.loadedIndex = this.blockIndex
      this.apply(action)
      if (action === FIRST || action === SEEK) this.settleForward()
      else this.settleBackward()
      return this.pendingAction === NONE ? Effect.void : this.loadPending()
    })
  }
}
