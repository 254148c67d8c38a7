/**
 * One version of a key in a memtable. Versions of the same key form a chain, newest first.
 */
import type { Kind } from "../key/internalKey.js"

export class MemEntry {
  constructor(
    readonly seq: number,
    readonly kind: Kind,
    readonly value: Uint8Array,
    readonly older: MemEntry | undefined
  ) {}
}

/** The newest version in the chain with sequence <= seq, if any. */
export const visibleAt = (entry: MemEntry | undefined, seq: number): MemEntry | undefined => {
  while (entry !== undefined && entry.seq > seq) entry = entry.older
  return entry
}
