/**
 * Internal keys: (user key, sequence, kind). Inside the engine a user key is a `latin1` string view
 * of its bytes: one UTF-16 code unit (0..255) per byte, so JavaScript's string comparison is exactly
 * the bytewise order LevelDB uses, and V8 compares such strings fast.
 *
 * Order: user key ascending, then sequence descending (newest first), then kind descending.
 */

/** A tombstone. */
export const KIND_DELETE = 0
/** A value. */
export const KIND_PUT = 1
export type Kind = typeof KIND_DELETE | typeof KIND_PUT

/** Sequence numbers are safe integers (2^53 - 1 writes is beyond any lifetime). */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER

/** Compares two internal keys: user key ascending, then sequence descending. */
export const compareInternal = (aKey: string, aSeq: number, bKey: string, bSeq: number): number =>
  aKey < bKey ? -1 : aKey > bKey ? 1 : aSeq > bSeq ? -1 : aSeq < bSeq ? 1 : 0
