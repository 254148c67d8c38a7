/**
 * CRC-32 (IEEE, zlib's polynomial) and LevelDB's masking of stored checksums (`doc/log_format.md`).
 *
 * Large inputs go to the native `zlib.crc32`; below `NATIVE_THRESHOLD` bytes the native call costs
 * more than the work (about 150 ns for 60 bytes against 60 ns here), so a slicing-by-8 table computes
 * the same function in JavaScript. Both paths give identical results (tested).
 */
import { crc32 as zlibCrc32 } from "node:zlib"

/** Inputs at least this long use `zlib.crc32`. */
export const NATIVE_THRESHOLD = 192

/** Slicing-by-8 tables: `TABLE[k * 256 + b]` is the CRC of byte `b` followed by `k` zero bytes. */
const TABLE = (() => {
  const t = new Int32Array(256 * 8)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
})()

/** CRC-32 of `data[start, end)` continuing from `initial`, in JavaScript. */
export const crc32Js = (data: Uint8Array, initial = 0, start = 0, end = data.length): number => {
  const t = TABLE
  let c = ~initial
  let i = start
  const end8 = end - ((end - start) & 7)
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/**
 * CRC-32 of `data`, continuing from `initial` (the CRC of the bytes before it; 0 to start), as an
 * unsigned 32-bit number. `crc32(b, crc32(a))` is the CRC of `a` followed by `b`.
 */
export const crc32 = (data: Uint8Array, initial = 0): number =>
  data.length < NATIVE_THRESHOLD ? crc32Js(data, initial, 0, data.length) : zlibCrc32(data, initial)

/** CRC-32 of `data[start, end)`, continuing from `initial`, without making a view of the range. */
export const crc32Range = (data: Uint8Array, start: number, end: number, initial = 0): number =>
  end - start < NATIVE_THRESHOLD
    ? crc32Js(data, initial, start, end)
    : zlibCrc32(data.subarray(start, end), initial)

const MASK_DELTA = 0xa282ead8

/** Masks a CRC before it is stored: a CRC over bytes holding CRCs is otherwise degenerate. */
export const maskCrc = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0

/** Inverse of `maskCrc`. */
export const unmaskCrc = (masked: number): number => {
  const rot = (masked - MASK_DELTA) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

/** CRC of the single byte `type`, for each byte value: the starting point of `crc32OfTyped`. */
const TYPE_CRC = (() => {
  const t = new Uint32Array(256)
  const one = new Uint8Array(1)
  for (let b = 0; b < 256; b++) {
    one[0] = b
    t[b] = crc32Js(one)
  }
  return t
})()

/**
 * Masked CRC-32 of one `type` byte followed by `data[start, end)`: the checksum of a log fragment
 * (and of a table block with its type byte). One pass over the data; the type byte's CRC is a table
 * lookup.
 */
export const maskedCrcOfTyped = (type: number, data: Uint8Array, start: number, end: number): number =>
  maskCrc(crc32Range(data, start, end, TYPE_CRC[type & 0xff]!))
