/**
 * Conversions between user-facing keys (string or bytes) and the engine's latin1 key strings.
 */
import { Buffer } from "node:buffer"

/** The latin1 view of bytes: one code unit per byte, order-preserving. */
export const bytesToKey = (bytes: Uint8Array): string =>
  (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).latin1Slice(
    0,
    bytes.byteLength
  )

/**
 * The latin1 key of a user string: its UTF-8 bytes viewed as latin1. An ASCII string is its own
 * latin1 view, which is the common case and costs one native length check.
 */
export const stringToKey = (s: string): string =>
  Buffer.byteLength(s, "utf8") === s.length ? s : Buffer.from(s, "utf8").latin1Slice()
