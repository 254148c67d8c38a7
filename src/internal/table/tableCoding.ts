/**
 * Byte-level helpers of the table format: LEB128 varints up to 2^53 - 1 and LevelDB's masked
 * crc32 (over `node:zlib`'s native crc32).
 *
 * Private to `src/internal/table/` until `src/internal/format/` (varint, crc) lands; then these
 * can delegate to it.
 */
import { crc32 } from "node:zlib"

const MASK_DELTA = 0xa282ead8

/** LevelDB's masked crc32 of `data` (rotate right 15, add a constant). */
export const maskedCrc32 = (data: Uint8Array): number => {
  const c = crc32(data)
  return ((((c >>> 15) | (c << 17)) >>> 0) + MASK_DELTA) >>> 0
}

/** Bytes taken by the varint of `value` (a safe non-negative integer). */
export const varintLength = (value: number): number => {
  let n = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    n++
  }
  return n
}

/** Writes the varint of `value` at `pos`; returns the position after it. */
export const putVarint = (buf: Uint8Array, pos: number, value: number): number => {
  while (value >= 128) {
    buf[pos++] = (value & 127) | 128
    value = Math.floor(value / 128)
  }
  buf[pos++] = value
  return pos
}

/**
 * A read position over bytes for the non-hot decoders (footer, properties, index). Reads return
 * -1 when the bytes do not hold a valid value (past `end`, over 8 bytes, above 2^53 - 1).
 */
export class ByteCursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number
  ) {}

  varint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) return -1
      const b = this.buf[this.pos++]!
      result += (b & 127) * scale
      if (b < 128) return result <= Number.MAX_SAFE_INTEGER ? result : -1
      scale *= 128
    }
    return -1
  }

  /** `length` raw bytes as a view, or undefined when they run past `end`. */
  bytes(length: number): Uint8Array | undefined {
    if (length < 0 || this.pos + length > this.end) return undefined
    const out = this.buf.subarray(this.pos, this.pos + length)
    this.pos += length
    return out
  }
}
