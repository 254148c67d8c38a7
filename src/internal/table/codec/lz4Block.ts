/**
 * The LZ4 block format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md) in plain
 * JavaScript: a greedy single-pass compressor (LZ4's "fast" mode: a 4096-slot hash of 4-byte
 * sequences, skipping ahead faster the longer no match is found) and a decoder that checks every
 * length and offset against its input and output, so damaged input is reported, never read or
 * written out of bounds.
 *
 * No frame, no length: the block's uncompressed length is kept by the caller (the table format
 * prefixes it, doc/table_format.md). Output is standard LZ4: the reference library and any LZ4
 * binding decode it.
 */

const MIN_MATCH = 4
/**
 * Runs of at least this many bytes are copied by `set` / `copyWithin` (a memmove), shorter ones
 * byte by byte. Measured on the benchmark's 4 KiB blocks (literal runs and matches of ~50 bytes):
 * 16 decodes a block in 4.0 us against 6.2 us at 96 (one run on the 2-core benchmark machine).
 */
const BULK_COPY = 16
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5
/** A match must start at least 12 bytes before the end. */
const MF_LIMIT = 12
const MAX_OFFSET = 65535
const HASH_LOG = 12
/** The compressor skips ahead one byte more per 2^SKIP_TRIGGER positions without a match. */
const SKIP_TRIGGER = 6

/**
 * Positions by hash, offset by `base` so the table need not be cleared between blocks: an entry
 * below `base` belongs to an earlier call.
 */
const hashTable = new Int32Array(1 << HASH_LOG)
let base = 1

const read32 = (a: Uint8Array, i: number): number => a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24)

const hash = (sequence: number): number => Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG)

/** Writes a length's continuation bytes (after the token's 15) at `op`; the new `op`. */
const putLength = (dst: Uint8Array, op: number, rest: number): number => {
  while (rest >= 255) {
    dst[op++] = 255
    rest -= 255
  }
  dst[op++] = rest
  return op
}

const copy = (dst: Uint8Array, op: number, src: Uint8Array, from: number, n: number): void => {
  if (n < BULK_COPY) for (let i = 0; i < n; i++) dst[op + i] = src[from + i]!
  else dst.set(src.subarray(from, from + n), op)
}

/** The most bytes a token with `n` literals takes: the token, the length's bytes, the literals. */
const literalsBound = (n: number): number => 2 + ((n / 255) | 0) + n

/**
 * Writes at `op` a token with `n` literals from `src[from]` (its match nibble 0, for the caller to
 * set), then the literals; the new `op`.
 */
const putLiterals = (dst: Uint8Array, op: number, src: Uint8Array, from: number, n: number): number => {
  const token = op++
  if (n >= 15) {
    dst[token] = 15 << 4
    op = putLength(dst, op, n - 15)
  } else dst[token] = n << 4
  copy(dst, op, src, from, n)
  return op + n
}

/**
 * Compresses `src` into `dst` (from 0) and returns the compressed length, or -1 when the output
 * would not fit in `dst` (so a caller that sizes `dst` at the most it would keep stops early).
 */
export const compress = (src: Uint8Array, dst: Uint8Array): number => {
  const n = src.length
  const limit = dst.length
  if (base > 0x3fffffff - n) {
    hashTable.fill(0)
    base = 1
  }
  const b = base
  base += n + 1
  let op = 0
  let anchor = 0
  let ip = 0
  const matchLimit = n - LAST_LITERALS
  const mfLimit = n - MF_LIMIT
  let misses = 1 << SKIP_TRIGGER
  while (ip < mfLimit) {
    const sequence = read32(src, ip)
    const h = hash(sequence)
    let ref = hashTable[h]! - b
    hashTable[h] = ip + b
    if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== sequence) {
      ip += misses++ >>> SKIP_TRIGGER
      continue
    }
    misses = 1 << SKIP_TRIGGER
    while (ip > anchor && ref > 0 && src[ip - 1] === src[ref - 1]) {
      ip--
      ref--
    }
    let end = ip + MIN_MATCH
    let from = ref + MIN_MATCH
    while (end < matchLimit && src[end] === src[from]) {
      end++
      from++
    }
    // token, literals, offset and match length, at most
    const literals = ip - anchor
    const matchRest = end - ip - MIN_MATCH
    if (op + literalsBound(literals) + 2 + ((matchRest / 255) | 0) + 1 > limit) return -1
    const token = op
    op = putLiterals(dst, op, src, anchor, literals)
    const offset = ip - ref
    dst[op++] = offset & 0xff
    dst[op++] = offset >>> 8
    if (matchRest >= 15) {
      dst[token] |= 15
      op = putLength(dst, op, matchRest - 15)
    } else dst[token] |= matchRest
    ip = end
    anchor = ip
    // Index a position inside the match, as LZ4 does, for the next search.
    if (ip - 2 > 0 && ip - 2 < mfLimit) hashTable[hash(read32(src, ip - 2))] = ip - 2 + b
  }
  const literals = n - anchor
  if (op + literalsBound(literals) > limit) return -1
  return putLiterals(dst, op, src, anchor, literals)
}

/** Where `decodeUntil` stopped reading its input; set by every call (no allocation). */
export let inputEnd = 0
/** What `decodeUntil` found wrong with its input when it returned -1. */
export let failure = ""

const fail = (what: string): number => {
  failure = what
  return -1
}

/**
 * Decodes whole sequences of the LZ4 block `src[ip, to)` into `dst` from `op` until at least
 * `need` bytes of output are there or the input ends (so a reader that needs only a prefix of a
 * block stops early, and resumes from `inputEnd` and the returned position). Returns the output's
 * new end, or -1 with `failure` set when the input is damaged: every length and offset is checked
 * against the input and `dst`, so nothing is read or written out of bounds. The input has ended
 * when `inputEnd === to`.
 */
export const decodeUntil = (src: Uint8Array, ip: number, to: number, dst: Uint8Array, op: number, need: number): number => {
  const out = dst.length
  while (op < need) {
    if (ip >= to) return fail("lz4: input ends before a sequence")
    const token = src[ip++]!
    let literals = token >>> 4
    if (literals === 15) {
      let byte: number
      do {
        if (ip >= to) return fail("lz4: input ends inside a literal length")
        byte = src[ip++]!
        literals += byte
      } while (byte === 255)
    }
    if (literals > to - ip) return fail("lz4: literals run past the input")
    if (literals > out - op) return fail("lz4: literals run past the output")
    copy(dst, op, src, ip, literals)
    ip += literals
    op += literals
    if (ip === to) break
    if (to - ip < 2) return fail("lz4: input ends inside an offset")
    const offset = src[ip]! | (src[ip + 1]! << 8)
    ip += 2
    if (offset === 0 || offset > op) return fail(`lz4: offset ${offset} outside the output`)
    let length = token & 15
    if (length === 15) {
      let byte: number
      do {
        if (ip >= to) return fail("lz4: input ends inside a match length")
        byte = src[ip++]!
        length += byte
      } while (byte === 255)
    }
    length += MIN_MATCH
    if (length > out - op) return fail("lz4: match runs past the output")
    let m = op - offset
    if (offset >= length && length >= BULK_COPY) {
      dst.copyWithin(op, m, m + length)
      op += length
    } else {
      const end = op + length
      while (op < end) dst[op++] = dst[m++]!
    }
  }
  inputEnd = ip
  return op
}

/**
 * Decodes the LZ4 block `src[from, to)` into exactly `dst` (its length is the uncompressed
 * length). `undefined` on success, else what is wrong with the input.
 */
export const decompress = (src: Uint8Array, from: number, to: number, dst: Uint8Array): string | undefined => {
  // LZ4 writes nothing as one empty sequence (a zero token).
  if (dst.length === 0) return to - from === 1 && src[from] === 0 ? undefined : "lz4: not the empty block"
  const op = decodeUntil(src, from, to, dst, 0, dst.length)
  if (op < 0) return failure
  if (op !== dst.length) return `lz4: decoded ${op} bytes, expected ${dst.length}`
  return inputEnd === to ? undefined : `lz4: input goes on past the ${dst.length} bytes expected`
}
