/**
 * Readahead for one table iterator (RocksDB's automatic iterator readahead): once the iterator
 * is at two neighbouring data blocks in a row (read, or found in the block cache), a block not
 * yet read is read with its next neighbours in the same direction, as many whole blocks as a
 * window holds, in one call. The window starts at `FIRST_WINDOW` and doubles with each such read up to `MAX_WINDOW`; a jump
 * (a seek elsewhere) starts over with single blocks.
 *
 * A read on this machine costs 5 to 12 us whatever its size up to a few pages (a system call),
 * which is as much as a scan spends on a 4 KiB block's entries: a scan or a compaction reads
 * every block of a table in order, a point read only one (point reads never read ahead).
 *
 * Each block is still checked on its own (its checksum, from the bytes the window holds). A block
 * is a view of the window, valid until the iterator's next block read: what is kept past that
 * (the block cache's copy) is copied out by the caller. The window only spans blocks that follow
 * each other in the file with nothing between them (the index says where each lies), as every
 * table written has them.
 */
import { Buffer } from "node:buffer"
import type { ReadAtSync } from "./tableFile.js"
import type { TableIndex } from "./tableIndex.js"
import { grown } from "./scratch.js"
import { BLOCK_TRAILER_SIZE } from "./tableFormat.js"

/** The first window read ahead, in bytes. */
export const FIRST_WINDOW = 16 * 1024
/** The largest. */
export const MAX_WINDOW = 256 * 1024

export class Readahead {
  private buffer: Buffer = Buffer.alloc(0)
  /** The file offset of the window's first byte, and how many bytes it holds. */
  private start = 0
  private filled = 0
  /** The block asked for last (-2: none), and the run of neighbours: +n forward, -n backward. */
  private last = -2
  private run = 0
  private window = 0
  /** A window read failed: this iterator reads single blocks from then on. */
  private failed = false

  /** The iterator is at block `i` (read here, or found in the block cache): the run goes on or ends. */
  passed(i: number): void {
    if (i === this.last + 1) this.run = this.run > 0 ? this.run + 1 : 1
    else if (i === this.last - 1) this.run = this.run < 0 ? this.run - 1 : -1
    else {
      this.run = 0
      this.window = 0
    }
    this.last = i
  }

  /**
   * Block `i` of `index` as stored (its bytes and trailer): a view of the window when it holds
   * the block, or after reading a new window when the iterator reads in sequence; else undefined
   * (the caller reads the block alone). Throws what `readAtSync` throws. Fewer bytes than the
   * block's only when the file ends first.
   */
  read(index: TableIndex, i: number, readAtSync: ReadAtSync): Uint8Array | undefined {
    this.passed(i)
    const offsets = index.offsets
    const offset = offsets[i]!
    const length = index.sizes[i]! + BLOCK_TRAILER_SIZE
    if (offset >= this.start && offset + length <= this.start + this.filled) {
      return this.buffer.subarray(offset - this.start, offset - this.start + length)
    }
    if (this.run === 0 || this.failed) return undefined
    this.window = this.window === 0 ? FIRST_WINDOW : Math.min(2 * this.window, MAX_WINDOW)
    const end = (b: number) => offsets[b]! + index.sizes[b]! + BLOCK_TRAILER_SIZE
    let from = i
    let to = i
    if (this.run > 0) {
      while (to + 1 < index.length && offsets[to + 1] === end(to) && end(to + 1) - offset <= this.window) to++
    } else {
      while (from > 0 && end(from - 1) === offsets[from]! && end(i) - offsets[from - 1]! <= this.window) from--
    }
    if (from === to) return undefined
    const readStart = offsets[from]!
    const readLength = end(to) - readStart
    this.buffer = grown(this.buffer, readLength)
    // Nothing is claimed while the read runs: a read that throws leaves an empty window, and no
    // more windows (the caller reads the block alone, to learn whether that block can be read).
    this.filled = 0
    this.failed = true
    const got = readAtSync(readStart, readLength, this.buffer)
    this.failed = false
    if (got.buffer !== this.buffer.buffer || got.byteOffset !== this.buffer.byteOffset) this.buffer.set(got)
    this.start = readStart
    this.filled = got.byteLength
    const at = offset - readStart
    return this.buffer.subarray(at, Math.min(at + length, this.filled))
  }
}
