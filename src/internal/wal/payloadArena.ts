/**
 * Where batch payloads are laid out: consecutive slices of 1 MiB chunks. The memtable keeps its
 * payloads (its values lie in them), so a payload lives as long as its memtable; with consecutive
 * slices a chunk holds only payloads written at about the same time, and is freed with the
 * memtables that used it. (Slices of Node's shared 8 KiB Buffer pool would pin pool slabs filled
 * with unrelated short-lived buffers, several times the memtable's own bytes.)
 *
 * The chunks are `SharedArrayBuffer`s: a flush hands the worker thread the memtable's payloads
 * where they lie (internal/background/packedRun.ts), neither copied nor transferred. A payload's
 * bytes never change once it is committed, and no chunk byte is written twice.
 */
import { Buffer } from "node:buffer"

const CHUNK = 1024 * 1024
/** Payloads larger than this get a buffer of their own. */
const LARGE = 64 * 1024

const sharedBuffer = (size: number): Buffer => Buffer.from(new SharedArrayBuffer(size))

let chunk = sharedBuffer(CHUNK)
let used = 0

/** A new buffer of `size` bytes for a payload, over a `SharedArrayBuffer`. */
export const allocPayload = (size: number): Buffer => {
  if (size > LARGE) return sharedBuffer(size)
  if (used + size > CHUNK) {
    chunk = sharedBuffer(CHUNK)
    used = 0
  }
  const start = used
  // Keep slices 8-byte aligned.
  used = (used + size + 7) & ~7
  return chunk.subarray(start, start + size)
}
