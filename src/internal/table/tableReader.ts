/**
 * An open table (doc/table_format.md, "Reading"): its filter, properties and index, read once at
 * open and kept in memory, its `BlockFetch` for data blocks, and the point lookup `get` (LevelDB's
 * `Table::InternalGet`): bloom filter, index, then one block through the fetch. `iterator` gives
 * the table's two-level iterator over the same fetch.
 */
import { isPlatformError } from "@effect/platform/Error"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { Corruption, type NotSupported } from "../../errors.js"
import { KIND_PUT } from "../key/internalKey.js"
import { Block, BlockIterator } from "./block.js"
import { BlockFetch, FILL_CACHE } from "./blockFetch.js"
import { Scratch } from "./scratch.js"
import type { BlockCache } from "./blockCache.js"
import { unsealBlock } from "./blockTrailer.js"
import { bloomHash, mayContainHash, validFilter } from "./bloom.js"
import { decodeFooter, type Footer } from "./footer.js"
import { decodeProperties, type TableProperties } from "./properties.js"
import { isTableError, type TableError, type TableFile } from "./tableFile.js"
import { parseIndex, type TableIndex } from "./tableIndex.js"
import { BLOCK_TRAILER_SIZE, FOOTER_SIZE } from "./tableFormat.js"
import { StreamedBlock } from "./streamedBlock.js"
import { TableIterator } from "./tableIterator.js"

/** Counters the readers of a database bump (for `stats`). */
export interface TableCounters {
  bloomChecks: number
  bloomNegatives: number
  blockReads: number
  /**
   * Data blocks point lookups searched: the lookups the filter and the index did not rule out,
   * which is what "tables read" means.
   */
  blockSearches: number
}

/** A point lookup's answer for a tombstone. */
export const TOMBSTONE: unique symbol = Symbol("TOMBSTONE")

/**
 * What a point lookup found: the value of a put, `TOMBSTONE`, or `undefined` when the table holds
 * no version of the key at or below the sequence. A value may be a view of a buffer the next point
 * read reuses: copy it at once.
 */
export type Found = Uint8Array | typeof TOMBSTONE | undefined

/**
 * The estimate of the bytes an open reader keeps on the heap (`TableReader.residentBytes`). An
 * estimate, not a measurement (JavaScript cannot measure an object):
 * - a typed array (the filter, the index's sequences, offsets and sizes): its `byteLength`, plus
 *   `TYPED_ARRAY_HEADER_BYTES` for its object and buffer;
 * - a string (index separators, the properties' key range): `STRING_CHAR_BYTES` per character
 *   plus `STRING_HEADER_BYTES`, and `ARRAY_SLOT_BYTES` for its slot in the keys array. V8 keeps
 *   these latin1 strings at one byte per character, so two overstates them: the estimate errs on
 *   the side of keeping a memory budget;
 * - `READER_FIXED_BYTES` for the rest: the reader, index, fetch and properties objects, and the
 *   reader's reused block iterator.
 * Blocks in the block cache are not the reader's: the cache charges them.
 */
const TYPED_ARRAY_HEADER_BYTES = 128
const STRING_CHAR_BYTES = 2
const STRING_HEADER_BYTES = 16
const ARRAY_SLOT_BYTES = 8
const READER_FIXED_BYTES = 1024

const stringBytes = (s: string): number => STRING_HEADER_BYTES + STRING_CHAR_BYTES * s.length

const typedArrayBytes = (a: ArrayBufferView): number => TYPED_ARRAY_HEADER_BYTES + a.byteLength

/** The estimated heap bytes of a reader's filter, index and properties (see the constants above). */
const estimateResidentBytes = (properties: TableProperties, index: TableIndex, filter: Uint8Array): number => {
  let bytes = READER_FIXED_BYTES + typedArrayBytes(filter)
  bytes += typedArrayBytes(index.seqs) + typedArrayBytes(index.offsets) + typedArrayBytes(index.sizes)
  for (const key of index.keys) bytes += ARRAY_SLOT_BYTES + stringBytes(key)
  bytes += stringBytes(properties.smallestKey) + stringBytes(properties.largestKey)
  return bytes
}

export class TableReader {
  /** Reused by point lookups (synchronous from the seek to the answer, so one per reader suffices). */
  private readonly probe = new BlockIterator()
  /**
   * Estimated bytes this reader keeps in memory while open: its filter, index and properties
   * (`estimateResidentBytes`). The table cache bounds the sum over open tables by it.
   */
  readonly residentBytes: number

  constructor(
    readonly properties: TableProperties,
    readonly index: TableIndex,
    /** The filter block's contents (empty: no filter). */
    readonly filter: Uint8Array,
    /** The table's data blocks. */
    readonly blocks: BlockFetch,
    private readonly counters: TableCounters
  ) {
    this.residentBytes = estimateResidentBytes(properties, index, filter)
  }

  /**
   * The newest entry for `userKey` with sequence <= `seq`: found now, a failure now, or the effect
   * that reads the block the key would be in when the file system must wait.
   */
  get(userKey: string, seq: number): Found | TableError | Effect.Effect<Found, TableError> {
    const counters = this.counters
    if (this.filter.length !== 0) {
      counters.bloomChecks++
      if (!mayContainHash(this.filter, bloomHash(userKey))) {
        counters.bloomNegatives++
        return undefined
      }
    }
    // Because a separator is below the next block's first key, one block suffices.
    const i = this.index.find(userKey, seq)
    if (i >= this.index.length) return undefined
    const block = this.blocks.fetchPoint(i)
    if (block instanceof Block) return this.search(block, userKey, seq)
    if (block instanceof StreamedBlock) return this.searchStreamed(block, userKey, seq)
    if (isTableError(block)) return block
    return Effect.map(block, (b) => this.search(b, userKey, seq))
  }

  /** A two-level iterator; with `fillCache` false it leaves the block cache alone (compactions). */
  iterator(fillCache = true): TableIterator {
    return new TableIterator(this.blocks, fillCache ? FILL_CACHE : new Scratch())
  }

  private search(block: Block, userKey: string, seq: number): Found {
    this.counters.blockSearches++
    const it = this.probe
    it.reset(block)
    it.seek(userKey, seq)
    if (!it.valid() || !it.userKeyIs(userKey)) return undefined
    return it.kind() === KIND_PUT ? it.value() : TOMBSTONE
  }

  private searchStreamed(block: StreamedBlock, userKey: string, seq: number): Found | Corruption {
    this.counters.blockSearches++
    const found = block.seek(userKey, seq)
    if (found !== true) return found === false ? undefined : found
    if (block.kind !== KIND_PUT) return TOMBSTONE
    return block.contents().subarray(block.valueOffset, block.valueOffset + block.valueLength)
  }
}

const corruption = (file: string, offset: number, description: string) => new Corruption({ file, offset, description })

/** Where the footer sits, and the range its three metadata blocks span (read as one). */
const footerRange = (fileSize: number) => ({ offset: fileSize - FOOTER_SIZE, length: FOOTER_SIZE })

const metaRange = (footer: Footer) => {
  const handles = [footer.filter, footer.properties, footer.index]
  const start = Math.min(...handles.map((h) => h.offset))
  const end = Math.max(...handles.map((h) => h.offset + h.size + BLOCK_TRAILER_SIZE))
  return { offset: start, length: end - start }
}

/** The reader from the checked footer and the bytes of `metaRange(footer)`, which start at `start`. */
const readerFrom = (
  file: TableFile,
  cache: BlockCache,
  counters: TableCounters,
  footer: Footer,
  meta: Uint8Array,
  start: number
): TableReader | Corruption | NotSupported => {
  const name = file.name
  const contents = (h: { offset: number; size: number }) => unsealBlock(meta.subarray(h.offset - start), h.size, name, h.offset)
  const filter = contents(footer.filter)
  if (isTableError(filter)) return filter
  if (!validFilter(filter)) return corruption(name, footer.filter.offset, "bad filter block")
  const propertiesBlock = contents(footer.properties)
  if (isTableError(propertiesBlock)) return propertiesBlock
  const properties = decodeProperties(propertiesBlock, name, footer.properties.offset)
  if (properties instanceof Corruption) return properties
  const indexContents = contents(footer.index)
  if (isTableError(indexContents)) return indexContents
  const index = parseIndex(indexContents, name, footer.index.offset, footer.filter.offset)
  if (index instanceof Corruption) return index
  if (properties.dataSize !== footer.filter.offset || properties.dataBlocks !== index.length) {
    return corruption(name, footer.properties.offset, "properties disagree with the index")
  }
  return new TableReader(
    properties,
    index,
    Buffer.from(filter), // a copy: the rest of the metadata read can be collected
    new BlockFetch(file, index, cache, counters),
    counters
  )
}

/**
 * Opens a table: reads and checks the footer, then the filter, properties and index blocks (one
 * read covering the three). The reader now when the file reads synchronously (or the failure),
 * else the effect that opens it.
 */
export const openTable = (
  file: TableFile,
  cache: BlockCache,
  counters: TableCounters
): TableReader | TableError | Effect.Effect<TableReader, TableError> => {
  if (file.size < FOOTER_SIZE) return corruption(file.name, 0, `file too short for a table: ${file.size} bytes`)
  const f = footerRange(file.size)
  const readAtSync = file.readAtSync
  if (readAtSync !== undefined) {
    try {
      const footer = decodeFooter(readAtSync(f.offset, f.length), file.name, file.size)
      if (footer instanceof Corruption) return footer
      const m = metaRange(footer)
      return readerFrom(file, cache, counters, footer, readAtSync(m.offset, m.length), m.offset)
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
  }
  return Effect.gen(function* () {
    const footer = decodeFooter(yield* file.readAt(f.offset, f.length), file.name, file.size)
    if (footer instanceof Corruption) return yield* footer
    const m = metaRange(footer)
    const reader = readerFrom(file, cache, counters, footer, yield* file.readAt(m.offset, m.length), m.offset)
    if (isTableError(reader)) return yield* reader
    return reader
  })
}
