/** Entries of a data block, as the block tests write and expect them. */
import { compareInternal, type Kind } from "../../src/internal/key/internalKey.js"

export interface Entry {
  readonly key: string
  readonly seq: number
  readonly kind: Kind
  readonly value: Uint8Array
}

/** `entries` without repeated (key, seq) pairs (the first kept), in internal order. */
export const sortEntries = (entries: ReadonlyArray<Entry>): Array<Entry> => {
  const seen = new Set<string>()
  const unique = entries.filter((e) => {
    const id = `${e.key}\u0100${e.seq}`
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
  return unique.sort((a, b) => compareInternal(a.key, a.seq, b.key, b.seq))
}
