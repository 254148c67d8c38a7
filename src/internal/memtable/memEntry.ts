/**
 * One version of a key in a memtable. Versions of the same key form a chain, newest first. The
 * value lies in the batch payload the entry came in (`record`, from `valueStart` to `valueEnd`):
 * a view of it is made only when the value is read, not kept per entry.
 */
import type { Kind } from "../key/internalKey.js"

const EMPTY = new Uint8Array(0)

export class MemEntry {
  constructor(
    readonly seq: number,
    readonly kind: Kind,
    readonly record: Uint8Array,
    readonly valueStart: number,
    readonly valueEnd: number,
    readonly older: MemEntry | undefined
  ) {}

  /** The value's bytes: a view of the payload (not to be changed). */
  get value(): Uint8Array {
    return this.valueEnd === this.valueStart ? EMPTY : this.record.subarray(this.valueStart, this.valueEnd)
  }

  get valueLength(): number {
    return this.valueEnd - this.valueStart
  }
}

/** The newest version in the chain with sequence <= seq, if any. */
export const visibleAt = (entry: MemEntry | undefined, seq: number): MemEntry | undefined => {
  while (entry !== undefined && entry.seq > seq) entry = entry.older
  return entry
}
