/**
 * Where batch payloads are laid out: consecutive slices of 1 MiB chunks. The memtable keeps its
 * payloads (its values lie in them), so a payload lives as long as its memtable; with consecutive
 * slices a chunk holds only payloads written at about the same time, and is freed with the
 * memtables that used it. (Slices of Node's shared 8 KiB Buffer pool would pin pool slabs filled
 * with unrelated short-lived buffers, several times the memtable's own bytes.)
 *
 * Chunks are ordinary memory (`new ArrayBuffer`, which reuses memory freed earlier): a flush
 * copies the frozen memtable's payloads into one buffer it hands to the worker thread
 * (internal/background/packedRun.ts). Payloads once lay in `SharedArrayBuffer` chunks the worker
 * read where they lay, but a shared buffer costs 2.8 ms a MiB to make here (fresh, zeroed pages
 * every time) against 0.12 to 0.2 for an ordinary one, 14% of a bulk load's time on the database's
 * thread; the copy at the flush costs a fraction of a millisecond a memtable.
 */
import { Buffer } from "node:buffer"

const CHUNK = 1024 * 1024
/** Payloads larger than this get a buffer of their own. */
const LARGE = 64 * 1024

const ordinaryBuffer = (size: number): Buffer => Buffer.from(new ArrayBuffer(size))

let chunk = ordinaryBuffer(CHUNK)
let used = 0

/** A new buffer of `size` bytes for a payload (its bytes are to be written before they are read). */
export const allocPayload = (size: number): Buffer => {
  if (size > LARGE) return ordinaryBuffer(size)
  if (used + size > CHUNK) {
    chunk = ordinaryBuffer(CHUNK)
    used = 0
  }
  const start = used
  // Keep slices 8-byte aligned.
  used = (used + size + 7) & ~7
  return chunk.subarray(start, start + size)
}
