/**
 * Where batch payloads are laid out: consecutive slices of 1 MiB chunks. The memtable keeps views
 * of its values inside the payloads, so a payload lives as long as its memtable; with consecutive
 * slices a chunk holds only payloads written at about the same time, and is freed with the
 * memtables that used it. (Slices of Node's shared 8 KiB Buffer pool would pin pool slabs filled
 * with unrelated short-lived buffers, several times the memtable's own bytes.)
 */
import { Buffer } from "node:buffer"

const CHUNK = 1024 * 1024
/** Payloads larger than this get a buffer of their own. */
const LARGE = 64 * 1024

let chunk = Buffer.allocUnsafeSlow(CHUNK)
let used = 0

/** A new, uninitialized buffer of `size` bytes for a payload. */
export const allocPayload = (size: number): Buffer => {
  if (size > LARGE) return Buffer.allocUnsafeSlow(size)
  if (used + size > CHUNK) {
    chunk = Buffer.allocUnsafeSlow(CHUNK)
    used = 0
  }
  const start = used
  // Keep slices 8-byte aligned.
  used = (used + size + 7) & ~7
  return chunk.subarray(start, start + size)
}
