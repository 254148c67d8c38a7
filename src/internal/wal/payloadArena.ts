/**
 * Where batch payloads are laid out: consecutive slices of 1 MiB chunks. The memtable keeps its
 * payloads (its values lie in them), so a payload lives as long as its memtable; with consecutive
 * slices a chunk holds only payloads written at about the same time, and is freed with the
 * memtables that used it. (Slices of Node's shared 8 KiB Buffer pool would pin pool slabs filled
 * with unrelated short-lived buffers, several times the memtable's own bytes.)
 *
 * The payloads of batches (`SHARED_MIN` bytes and more) lie in `SharedArrayBuffer` chunks: a flush
 * hands the worker thread such payloads where they lie (internal/background/packedRun.ts), neither
 * copied nor transferred. A payload's bytes never change once it is committed, and no chunk byte is
 * written twice. Smaller payloads (single writes) lie in ordinary chunks: making and filling a small
 * buffer over shared memory costs more (keylite's single puts ran 10 to 35% slower with every
 * payload shared), and the flush copies them, a few bytes each.
 */
import { Buffer } from "node:buffer"

const CHUNK = 1024 * 1024
/** Payloads larger than this get a buffer of their own. */
const LARGE = 64 * 1024
/** Payloads of at least this many bytes are laid out in shared memory. */
export const SHARED_MIN = 4096

/** Consecutive slices of 1 MiB chunks made by `make`. */
class Arena {
  private chunk: Buffer
  private used = 0
  constructor(private readonly make: (size: number) => Buffer) {
    this.chunk = make(CHUNK)
  }
  alloc(size: number): Buffer {
    if (size > LARGE) return this.make(size)
    if (this.used + size > CHUNK) {
      this.chunk = this.make(CHUNK)
      this.used = 0
    }
    const start = this.used
    // Keep slices 8-byte aligned.
    this.used = (this.used + size + 7) & ~7
    return this.chunk.subarray(start, start + size)
  }
}

const shared = new Arena((size) => Buffer.from(new SharedArrayBuffer(size)))
const ordinary = new Arena((size) => Buffer.allocUnsafeSlow(size))

/** A new, uninitialized buffer of `size` bytes for a payload (over a `SharedArrayBuffer` from `SHARED_MIN` bytes). */
export const allocPayload = (size: number): Buffer => (size >= SHARED_MIN ? shared : ordinary).alloc(size)
