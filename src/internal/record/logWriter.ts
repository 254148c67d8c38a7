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

export class LogWriter {
  private _offset: number

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
    const length = payload.length
    const leftover = BLOCK_SIZE - (this._offset % BLOCK_SIZE)
    if (leftover >= HEADER_SIZE + length) {
      // The common case: one FULL fragment in the current block.
      const out = Buffer.allocUnsafe(HEADER_SIZE + length)
      writeHeader(out, 0, FULL, payload, 0, length)
      out.set(payload, HEADER_SIZE)
      this._offset += HEADER_SIZE + length
      return out
    }
    return this.frameFragments(payload)
  }

  /** A record that needs block padding or more than one fragment. */
  private frameFragments(payload: Uint8Array): Uint8Array {
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
    const out = Buffer.allocUnsafe(total)
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
