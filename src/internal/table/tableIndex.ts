/**
 * A table's index block decoded into arrays at open: per data block its separator (latin1 user
 * key and sequence) and its handle. Point reads and iterators binary-search it with no decoding.
 */
import type { Buffer } from "node:buffer"
import { Corruption } from "../../errors.js"
import { compareInternal } from "../key/internalKey.js"
import { BlockIterator, parseBlock } from "./block.js"
import { readHandle } from "./blockHandle.js"
import { ByteCursor } from "./tableCoding.js"
import { BLOCK_TRAILER_SIZE } from "./tableFormat.js"

export class TableIndex {
  constructor(
    readonly keys: ReadonlyArray<string>,
    readonly seqs: Float64Array,
    readonly offsets: Float64Array,
    readonly sizes: Float64Array
  ) {}

  /** Number of data blocks. */
  get length(): number {
    return this.keys.length
  }

  /** The first block whose separator is >= (key, seq) in internal order; `length` if none. */
  find(key: string, seq: number): number {
    const keys = this.keys
    const seqs = this.seqs
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = keys[mid]!
      if (k < key || (k === key && seqs[mid]! > seq)) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/**
 * Decodes the index block `contents` read at `offset` of `file`. Every handle must decode exactly
 * and its block (with trailer) lie in the data region `[0, dataEnd)` after the previous one, and
 * separators must increase.
 */
export const parseIndex = (contents: Buffer, file: string, offset: number, dataEnd: number): TableIndex | Corruption => {
  const block = parseBlock(contents, file, offset)
  if (block instanceof Corruption) return block
  const fail = (description: string) => new Corruption({ file, offset, description: `bad index block: ${description}` })
  const keys: Array<string> = []
  const seqs: Array<number> = []
  const offsets: Array<number> = []
  const sizes: Array<number> = []
  const it = new BlockIterator(block)
  let end = 0
  for (it.seekToFirst(); it.valid(); it.next()) {
    const value = it.value()
    const cursor = new ByteCursor(value, 0, value.length)
    const h = readHandle(cursor)
    if (h === undefined || cursor.pos !== value.length) return fail(`bad block handle in entry ${keys.length}`)
    if (h.offset < end || h.offset + h.size + BLOCK_TRAILER_SIZE > dataEnd) {
      return fail(`block handle ${h.offset}+${h.size} out of place`)
    }
    end = h.offset + h.size + BLOCK_TRAILER_SIZE
    const n = keys.length
    if (n > 0 && compareInternal(keys[n - 1]!, seqs[n - 1]!, it.key(), it.seq()) >= 0) {
      return fail(`separators out of order at entry ${n}`)
    }
    keys.push(it.key())
    seqs.push(it.seq())
    offsets.push(h.offset)
    sizes.push(h.size)
  }
  return new TableIndex(keys, Float64Array.from(seqs), Float64Array.from(offsets), Float64Array.from(sizes))
}
