/**
 * The properties block: facts about a table (entry counts, key and sequence ranges, sizes) so the
 * manifest and tools need not scan it. Fields in a fixed order (doc/table_format.md); bytes after
 * the last known field are ignored.
 */
import { Buffer } from "node:buffer"
import { Corruption } from "../../errors.js"
import type { FileMeta } from "../version/fileMeta.js"
import { ByteCursor, putVarint, varintLength } from "./tableCoding.js"

export interface TableProperties {
  /** Entries (puts and tombstones) and tombstones. */
  readonly entries: number
  readonly tombstones: number
  /** Data blocks and the bytes of the data region (blocks with trailers). */
  readonly dataBlocks: number
  readonly dataSize: number
  /** Sums of user key and value lengths over all entries. */
  readonly rawKeyBytes: number
  readonly rawValueBytes: number
  /** Sequence range (0, 0 for an empty table). */
  readonly minSeq: number
  readonly maxSeq: number
  /** First and last internal keys (latin1 user key, sequence); empty keys for an empty table. */
  readonly smallestKey: string
  readonly smallestSeq: number
  readonly largestKey: string
  readonly largestSeq: number
  /** Bits per key of the filter (0: no filter). */
  readonly bloomBitsPerKey: number
  /**
   * The bytes the data region would take stored raw: every data block's uncompressed contents
   * plus its trailer. Equal to `dataSize` when no block is compressed. Tables written before
   * compression lack the field: `dataSize` is read for it.
   */
  readonly rawDataSize: number
  /** The block type data blocks were compressed with (0: none); absent in older tables, read as 0. */
  readonly compressionType: number
}

const NUMERIC_BEFORE_KEYS = ["entries", "tombstones", "dataBlocks", "dataSize", "rawKeyBytes", "rawValueBytes", "minSeq", "maxSeq"] as const

export const encodeProperties = (p: TableProperties): Buffer => {
  let size = 0
  for (const f of NUMERIC_BEFORE_KEYS) size += varintLength(p[f])
  size += varintLength(p.smallestKey.length) + p.smallestKey.length + varintLength(p.smallestSeq)
  size += varintLength(p.largestKey.length) + p.largestKey.length + varintLength(p.largestSeq)
  size += varintLength(p.bloomBitsPerKey) + varintLength(p.rawDataSize) + varintLength(p.compressionType)
  const out = Buffer.allocUnsafe(size)
  let pos = 0
  for (const f of NUMERIC_BEFORE_KEYS) pos = putVarint(out, pos, p[f])
  pos = putVarint(out, pos, p.smallestKey.length)
  pos += out.latin1Write(p.smallestKey, pos)
  pos = putVarint(out, pos, p.smallestSeq)
  pos = putVarint(out, pos, p.largestKey.length)
  pos += out.latin1Write(p.largestKey, pos)
  pos = putVarint(out, pos, p.largestSeq)
  pos = putVarint(out, pos, p.bloomBitsPerKey)
  pos = putVarint(out, pos, p.rawDataSize)
  putVarint(out, pos, p.compressionType)
  return out
}

/** Decodes the properties block contents read at `offset` of `file`. */
export const decodeProperties = (contents: Uint8Array, file: string, offset: number): TableProperties | Corruption => {
  const c = new ByteCursor(contents, 0, contents.byteLength)
  const fail = (what: string) => new Corruption({ file, offset, description: `bad properties block: ${what}` })
  const numbers: Record<string, number> = {}
  for (const f of NUMERIC_BEFORE_KEYS) {
    const v = c.varint()
    if (v < 0) return fail(`missing or invalid ${f}`)
    numbers[f] = v
  }
  const key = (): string | undefined => {
    const n = c.varint()
    const bytes = n < 0 ? undefined : c.bytes(n)
    return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).latin1Slice()
  }
  const smallestKey = key()
  if (smallestKey === undefined) return fail("missing or invalid smallestKey")
  const smallestSeq = c.varint()
  if (smallestSeq < 0) return fail("missing or invalid smallestSeq")
  const largestKey = key()
  if (largestKey === undefined) return fail("missing or invalid largestKey")
  const largestSeq = c.varint()
  if (largestSeq < 0) return fail("missing or invalid largestSeq")
  const bloomBitsPerKey = c.varint()
  if (bloomBitsPerKey < 0) return fail("missing or invalid bloomBitsPerKey")
  // Fields added later: absent in tables written before them.
  const optional = (fallback: number): number => (c.pos >= contents.byteLength ? fallback : c.varint())
  const rawDataSize = optional(numbers.dataSize!)
  if (rawDataSize < 0) return fail("invalid rawDataSize")
  const compressionType = optional(0)
  if (compressionType < 0 || compressionType > 255) return fail("invalid compressionType")
  const p: TableProperties = {
    entries: numbers.entries!,
    tombstones: numbers.tombstones!,
    dataBlocks: numbers.dataBlocks!,
    dataSize: numbers.dataSize!,
    rawKeyBytes: numbers.rawKeyBytes!,
    rawValueBytes: numbers.rawValueBytes!,
    minSeq: numbers.minSeq!,
    maxSeq: numbers.maxSeq!,
    smallestKey,
    smallestSeq,
    largestKey,
    largestSeq,
    bloomBitsPerKey,
    rawDataSize,
    compressionType
  }
  if (p.tombstones > p.entries || p.minSeq > p.maxSeq) return fail("inconsistent counts or sequence range")
  return p
}

/** The manifest's record of a table with these properties. */
export const toFileMeta = (p: TableProperties, number: number, size: number): FileMeta => ({
  number,
  size,
  rawSize: size - p.dataSize + p.rawDataSize,
  smallestKey: p.smallestKey,
  smallestSeq: p.smallestSeq,
  largestKey: p.largestKey,
  largestSeq: p.largestSeq,
  entries: p.entries,
  tombstones: p.tombstones,
  minSeq: p.minSeq,
  maxSeq: p.maxSeq
})
