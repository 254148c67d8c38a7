/**
 * How the tools show keys and values: as text when every byte is printable ASCII (space to `~`),
 * else as hex prefixed with `0x`. Engine keys are latin1 strings (one character per byte);
 * `keyBytes` turns one into bytes. A renderer takes a `Format` so that a caller (the CLI) can
 * choose another encoding.
 */
import { Buffer } from "node:buffer"

/** Turns bytes into one line of text. */
export type Format = (bytes: Uint8Array) => string

const printable = (bytes: Uint8Array): boolean => {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b < 0x20 || b > 0x7e) return false
  }
  return true
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** Text when printable, else `0x` and hex. The empty byte string is `""`. */
export const textOrHex: Format = (bytes) => {
  if (bytes.length === 0) return '""'
  return printable(bytes) ? asBuffer(bytes).toString("latin1") : `0x${asBuffer(bytes).toString("hex")}`
}

/** At most `max` characters of a formatted value, with the length of what was left out. */
export const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max)}... (${s.length} chars)`)

/** The bytes of an engine key (a latin1 string). */
export const keyBytes = (key: string): Uint8Array => Buffer.from(key, "latin1")

/** An engine key formatted. */
export const formatKey = (key: string, format: Format): string => format(keyBytes(key))
