/**
 * Fixed-width little-endian integers on plain `Uint8Array`s (no `DataView` per call). 64-bit values
 * are limited to safe integers (< 2^53), as everything stratadb counts is.
 */

/** Writes a 16-bit unsigned value at `buf[offset]`. */
export const encodeFixed16 = (buf: Uint8Array, offset: number, value: number): void => {
  buf[offset] = value
  buf[offset + 1] = value >>> 8
}

/** Reads a 16-bit unsigned value at `buf[offset]` (the caller checks bounds). */
export const decodeFixed16 = (buf: Uint8Array, offset: number): number => buf[offset]! | (buf[offset + 1]! << 8)

/** Writes a 32-bit unsigned value at `buf[offset]`. */
export const encodeFixed32 = (buf: Uint8Array, offset: number, value: number): void => {
  buf[offset] = value
  buf[offset + 1] = value >>> 8
  buf[offset + 2] = value >>> 16
  buf[offset + 3] = value >>> 24
}

/** Reads a 32-bit unsigned value at `buf[offset]` (the caller checks bounds). */
export const decodeFixed32 = (buf: Uint8Array, offset: number): number =>
  (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16) | (buf[offset + 3]! << 24)) >>> 0

/** Writes a safe integer >= 0 as 64 bits at `buf[offset]`. */
export const encodeFixed64 = (buf: Uint8Array, offset: number, value: number): void => {
  encodeFixed32(buf, offset, value >>> 0)
  encodeFixed32(buf, offset + 4, Math.floor(value / 0x100000000))
}

/** What `decodeFixed64` returns for a value above 2^53 - 1. */
export const FIXED64_TOO_LARGE = -1

/**
 * Reads 64 bits at `buf[offset]` (the caller checks bounds): the value, or `FIXED64_TOO_LARGE` (-1)
 * if it is not a safe integer.
 */
export const decodeFixed64 = (buf: Uint8Array, offset: number): number => {
  const high = decodeFixed32(buf, offset + 4)
  if (high > 0x1fffff) return FIXED64_TOO_LARGE
  return high * 0x100000000 + decodeFixed32(buf, offset)
}
