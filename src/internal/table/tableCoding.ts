/**
 * The byte-level helpers the table modules share, over `src/internal/format/`: LevelDB's masked
 * crc32, varints (LEB128 up to 2^53 - 1), and `ByteCursor`, a read position for the decoders that
 * run at open (footer, properties, index handles) and report malformed bytes as -1 / undefined
 * rather than by throwing.
 */
import { crc32, maskCrc } from "../format/crc.js"
import { decodeVarint, encodeVarint, varintLength } from "../format/varint.js"

export { varintLength }

/** LevelDB's masked crc32 of `data`. */
export const maskedCrc32 = (data: Uint8Array): number => maskCrc(crc32(data))

/** Writes the varint of `value` at `pos`; returns the position after it. */
export const putVarint = (buf: Uint8Array, pos: number, value: number): number => encodeVarint(buf, pos, value)

/** A read position over `buf[pos, end)`. */
export class ByteCursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number
  ) {}

  /** The next varint, or -1 when the bytes do not hold one (truncated, overlong, > 2^53 - 1). */
  varint(): number {
    const value = decodeVarint(this.buf, this.pos, this.end)
    if (value >= 0) this.pos += varintLength(value)
    return value
  }

  /** `length` raw bytes as a view, or undefined when they run past `end`. */
  bytes(length: number): Uint8Array | undefined {
    if (length < 0 || this.pos + length > this.end) return undefined
    const out = this.buf.subarray(this.pos, this.pos + length)
    this.pos += length
    return out
  }
}
