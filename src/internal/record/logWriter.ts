/**
 * The log framer (`doc/log_format.md`): turns a record into the exact bytes to append to the file,
 * fragments, headers and block padding included, in one buffer so the caller issues one write.
 * Pure and synchronous; it only tracks the file offset to know where the block boundaries fall.
 */
import { Buffer } from "node:buffer"
import { maskedCrcOfTyped } from "../format/crc.js"
import { BLOCK_SIZE, FIRST, FULL, HEADER_SIZE, LAST, MIDDLE } from "./logFormat.js"

/** Writes a fragment header at `out[at]` for `payload[start, end)` of the given type. */
const writeHeader = (
  out: Uint8Array,
  at: number,
  type: number,
  payload: Uint8Array,
  start: number,
  end: number
): void => {
  const crc = maskedCrcOfTyped(type, payload, start, end)
  const length = end - start
  out[at] = crc
  out[at + 1] = crc >>> 8
  out[at + 2] = crc >>> 16
  out[at + 3] = crc >>> 24
  out[at + 4] = length
  out[at + 5] = length >>> 8
  out[at + 6] = type
}

/** The most bytes `frameReusing` frames into its kept buffer; a longer record gets its own. */
export const REUSED_FRAME_MAX = 1024 * 1024

const allocFresh = (size: number): Buffer => Buffer.allocUnsafe(size)

export class LogWriter {
  private _offset: number
  /** `frameReusing`'s buffer, grown as needed up to `REUSED_FRAME_MAX`. */
  private scratch: Buffer | undefined = undefined
  private readonly allocScratch = (size: number): Buffer => {
    if (size > REUSED_FRAME_MAX) return allocFresh(size)
    if (this.scratch === undefined || this.scratch.byteLength < size) {
      let capacity = 64 * 1024
      while (capacity < size) capacity *= 2
      this.scratch = Buffer.allocUnsafeSlow(capacity)
    }
    return this.scratch.subarray(0, size)
  }

  /** `initialFileOffset`: the current length of the file being appended to (0 for a new file). */
  constructor(initialFileOffset = 0) {
    if (!Number.isSafeInteger(initialFileOffset) || initialFileOffset < 0) {
      throw new RangeError(`LogWriter: bad initial offset ${initialFileOffset}`)
    }
    this._offset = initialFileOffset
  }

  /** File offset after every byte framed so far. */
  get offset(): number {
    return this._offset
  }

  /**
   * The bytes to append for one record, and advances `offset` by their length. The caller must
   * append them all, in order, or discard this writer (the framing depends on the file offset).
   */
  frame(payload: Uint8Array): Uint8Array {
    return this.frameWith(payload, allocFresh)
  }

  /**
   * `frame`, into a buffer this writer keeps and reuses (up to `REUSED_FRAME_MAX` bytes): the bytes
   * are valid until the next call, for a caller that writes them before it returns. Reusing the
   * buffer spares a fresh allocation per record, whose first touch costs more than the copy (a
   * page fault per 4 KiB: a quarter of a bulk load's framing time).
   */
  frameReusing(payload: Uint8Array): Uint8Array {
    return this.frameWith(payload, this.allocScratch)
  }

  private frameWith(payload: Uint8Array, alloc: (size: number) => Buffer): Uint8Array {
    const length = payload.length
    const leftover = BLOCK_SIZE - (this._offset % BLOCK_SIZE)
    if (leftover >= HEADER_SIZE + length) {
      // The common case: one FULL fragment in the current block.
      const out = alloc(HEADER_SIZE + length)
      writeHeader(out, 0, FULL, payload, 0, length)
      out.set(payload, HEADER_SIZE)
      this._offset += HEADER_SIZE + length
      return out
    }
    return this.frameFragments(payload, alloc)
  }

  /** A record that needs block padding or more than one fragment. */
  private frameFragments(payload: Uint8Array, alloc: (size: number) => Buffer): Uint8Array {
    const length = payload.length
    const startBlockOffset = this._offset % BLOCK_SIZE

    // Pass 1: the size of the output.
    let total = 0
    let blockOffset = startBlockOffset
    let left = length
    do {
      const leftover = BLOCK_SIZE - blockOffset
      if (leftover < HEADER_SIZE) {
        total += leftover
        blockOffset = 0
      }
      const fragment = Math.min(left, BLOCK_SIZE - blockOffset - HEADER_SIZE)
      total += HEADER_SIZE + fragment
      blockOffset += HEADER_SIZE + fragment
      left -= fragment
    } while (left > 0)

    // Pass 2: padding, headers and payload slices.
    const out = alloc(total)
    let at = 0
    let consumed = 0
    let begin = true // not `consumed === 0`: a FIRST fragment may be empty (7 bytes left in a block)
    blockOffset = startBlockOffset
    do {
      const leftover = BLOCK_SIZE - blockOffset
      if (leftover < HEADER_SIZE) {
        out.fill(0, at, at + leftover)
        at += leftover
        blockOffset = 0
      }
      const fragment = Math.min(length - consumed, BLOCK_SIZE - blockOffset - HEADER_SIZE)
      const end = consumed + fragment === length
      const type = begin ? (end ? FULL : FIRST) : end ? LAST : MIDDLE
      writeHeader(out, at, type, payload, consumed, consumed + fragment)
      out.set(payload.subarray(consumed, consumed + fragment), at + HEADER_SIZE)
      at += HEADER_SIZE + fragment
      blockOffset += HEADER_SIZE + fragment
      consumed += fragment
      begin = false
    } while (consumed < length)

    this._offset += total
    return out
  }
}
