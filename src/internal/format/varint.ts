/**
 * Unsigned LEB128 varints for safe integers (0 .. 2^53 - 1): 7 bits per byte, low group first, the
 * high bit set on every byte but the last; at most 8 bytes (`doc/log_format.md`).
 *
 * Decoding accepts only the shortest encoding, so the length of a decoded varint is
 * `varintLength(value)`: `decodeVarint` returns just the value (or `VARINT_MALFORMED`) and allocates
 * nothing. `VarintReader` is a cursor over varint-framed bytes that throws `DecodeError`.
 */

/** Longest varint: 2^53 - 1 needs 53 bits, 8 groups of 7. */
export const MAX_VARINT_LENGTH = 8

/** What `decodeVarint` returns for truncated, overlong, non-shortest or out-of-range input. */
export const VARINT_MALFORMED = -1

/** Malformed bytes in a decoder: `offset` within the decoded bytes. Callers turn it into `Corruption`. */
export class DecodeError extends Error {
  override readonly name = "DecodeError"
  constructor(
    readonly offset: number,
    readonly description: string
  ) {
    super(`${description} (at offset ${offset})`)
  }
}

/** Bytes `encodeVarint` writes for `value`. */
export const varintLength = (value: number): number =>
  value < 0x80
    ? 1
    : value < 0x4000
      ? 2
      : value < 0x200000
        ? 3
        : value < 0x10000000
          ? 4
          : value < 0x800000000
            ? 5
            : value < 0x40000000000
              ? 6
              : value < 0x2000000000000
                ? 7
                : 8

/**
 * Writes `value` (a safe integer >= 0; a `RangeError` otherwise) at `buf[offset]` and returns the
 * offset after it. The caller makes room (`varintLength`).
 */
export const encodeVarint = (buf: Uint8Array, offset: number, value: number): number => {
  if (value < 0x80 && value >= 0 && (value | 0) === value) {
    buf[offset] = value
    return offset + 1
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint: ${value} is not a safe integer >= 0`)
  }
  while (value >= 0x80) {
    buf[offset++] = (value & 0x7f) | 0x80
    value = value < 0x80000000 ? value >>> 7 : Math.floor(value / 128)
  }
  buf[offset] = value
  return offset + 1
}

/**
 * Reads the varint at `buf[offset]` (not reading at or past `end`). Returns its value, or
 * `VARINT_MALFORMED` (-1) if the bytes end first, it is longer than 8 bytes, not in shortest form,
 * or above 2^53 - 1. The varint's length is `varintLength(value)`.
 */
export const decodeVarint = (buf: Uint8Array, offset: number, end: number = buf.length): number => {
  if (offset >= end) return VARINT_MALFORMED
  let b = buf[offset]!
  if (b < 0x80) return b
  let result = b & 0x7f
  let scale = 0x80
  const last = Math.min(end, offset + MAX_VARINT_LENGTH)
  for (let i = offset + 1; i < last; i++) {
    b = buf[i]!
    if (b < 0x80) {
      // A zero last group is a non-shortest encoding; the 8th group holds bits 49..52 only.
      if (b === 0 || (i - offset === 7 && b > 0x0f)) return VARINT_MALFORMED
      return result + b * scale
    }
    result += (b & 0x7f) * scale
    scale *= 0x80
  }
  return VARINT_MALFORMED
}

/**
 * A cursor over varint-framed bytes (varints and length-prefixed byte strings) in
 * `buf[pos, end)`. Every read throws `DecodeError` on malformed or missing bytes; offsets in errors
 * are relative to `buf`.
 */
export class VarintReader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end: number = buf.length
  ) {}

  /** True once every byte up to `end` was read. */
  get done(): boolean {
    return this.pos >= this.end
  }

  /** Reads a varint; `what` names it in the error. */
  varint(what = "varint"): number {
    const value = decodeVarint(this.buf, this.pos, this.end)
    if (value < 0) throw new DecodeError(this.pos, `malformed ${what}`)
    this.pos += varintLength(value)
    return value
  }

  /** Reads `length` bytes as a view into `buf`. */
  bytes(length: number, what = "bytes"): Uint8Array {
    if (length > this.end - this.pos) throw new DecodeError(this.pos, `${what} run past the end`)
    const start = this.pos
    this.pos += length
    return this.buf.subarray(start, start + length)
  }

  /** Reads a `varint length | bytes` string as a view into `buf`. */
  lengthPrefixed(what = "string"): Uint8Array {
    return this.bytes(this.varint(`${what} length`), what)
  }
}
