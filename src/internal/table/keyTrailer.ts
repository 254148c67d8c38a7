/**
 * The 8-byte trailer that follows a user key inside data and index blocks: the little-endian
 * 64-bit number `sequence * 256 + kind` (byte 0 the kind, bytes 1..7 the sequence).
 */
import { KIND_DELETE, KIND_PUT, type Kind } from "../key/internalKey.js"

const TWO_32 = 4294967296

/** Writes the trailer of (seq, kind) at `pos`. */
export const writeKeyTrailer = (buf: Uint8Array, pos: number, seq: number, kind: Kind): void => {
  const lo = seq >>> 0
  const hi = (seq - lo) / TWO_32
  buf[pos] = kind
  buf[pos + 1] = lo & 255
  buf[pos + 2] = (lo >>> 8) & 255
  buf[pos + 3] = (lo >>> 16) & 255
  buf[pos + 4] = lo >>> 24
  buf[pos + 5] = hi & 255
  buf[pos + 6] = (hi >>> 8) & 255
  buf[pos + 7] = (hi >>> 16) & 255
}

/** The sequence of the trailer at `pos` (at most 2^56 - 1; callers check against 2^53). */
export const readTrailerSeq = (buf: Uint8Array, pos: number): number =>
  (buf[pos + 1]! | (buf[pos + 2]! << 8) | (buf[pos + 3]! << 16)) +
  buf[pos + 4]! * 16777216 +
  (buf[pos + 5]! | (buf[pos + 6]! << 8) | (buf[pos + 7]! << 16)) * TWO_32

/** The kind byte of the trailer at `pos` (validity is checked when a block is parsed). */
export const readTrailerKind = (buf: Uint8Array, pos: number): Kind => buf[pos] as Kind

/** True when the trailer at `pos` has a known kind and a sequence below 2^53. */
export const validTrailer = (buf: Uint8Array, pos: number): boolean => {
  const kind = buf[pos]
  return (kind === KIND_PUT || kind === KIND_DELETE) && buf[pos + 7]! < 32
}
