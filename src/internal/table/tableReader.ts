/**
 * Reads a table (doc/table_format.md) by offset. `openTable` reads the footer, then the filter,
 * properties and index blocks (kept in memory); data blocks are read on demand through the shared
 * `BlockCache`. Point reads consult the bloom filter, binary-search the index, then search one
 * block; when that block is cached the read completes without I/O (`getCached` is the fully
 * synchronous form). Every checksum or parse failure is a `Corruption` naming the file and the
 * block's offset.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { Corruption } from "../../errors.js"
import type { Kind } from "../key/internalKey.js"
import type { FileMeta } from "../version/fileMeta.js"
import { Block, BlockIterator, parseBlock } from "./block.js"
import type { BlockCache } from "./blockCache.js"
import { unsealBlock } from "./blockTrailer.js"
import { bloomHash, mayContainHash, validFilter } from "./bloom.js"
import { decodeFooter, type Footer } from "./footer.js"
import { decodeProperties, type TableProperties, toFileMeta } from "./properties.js"
import { parseIndex, type TableIndex } from "./tableIndex.js"
import { BLOCK_TRAILER_SIZE, FOOTER_SIZE } from "./tableFormat.js"
import { TableIterator } from "./tableIterator.js"

/** Reads `length` bytes at `offset` of the table file (fewer only at the end of the file). */
export type ReadAt = (offset: number, length: number) => Effect.Effect<Uint8Array, PlatformError>

/** Counters a reader bumps (shared by all readers of a database, for `stats`). */
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

export interface OpenTableOptions {
  readonly fileNumber: number
  readonly fileName: string
  readonly fileSize: number
  readonly readAt: ReadAt
  readonly cache: BlockCache
  readonly counters?: TableCounters
  /**
   * A synchronous `readAt` (the file has a positional read, see positionalRead.ts): throws a
   * `PlatformError` on failure. With it a block that misses the cache is read without an effect.
   */
  readonly readAtSync?: ReadAtSync
}

/**
 * Reads `length` bytes at `offset` synchronously (into `into` when given, which must be large
 * enough); throws a `PlatformError` on failure.
 */
export type ReadAtSync = (offset: number, length: number, into?: Uint8Array) => Uint8Array

/** A reused buffer a reader that does not fill the cache loads blocks into. */
export interface ScratchHolder {
  scratch: Uint8Array
}

/** Where point reads put blocks the cache does not admit: reused, so no allocation per read. */
let scratch = new Uint8Array(8192)
const scratchOf = (length: number): Uint8Array => {
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2))
  return scratch
}

/** An entry found by a point read. */
export interface TableEntry {
  readonly kind: Kind
  readonly value: Uint8Array
}

/** `getCached`'s answer when the block holding the key is not in the cache. */
export const BLOCK_NOT_CACHED: unique symbol = Symbol("BLOCK_NOT_CACHED")

const SUCCEED_UNDEFINED: Effect.Effect<TableEntry | undefined> = Effect.succeed(undefined)

export class TableReader {
  /** Reused by point reads (synchronous from start to end, so one per reader suffices). */
  private readonly probe = new BlockIterator()
  /** The data block `getCached` last found missing from the cache (read by `getSync` at once). */
  private missedBlock = 0

  constructor(
    readonly fileNumber: number,
    readonly fileName: string,
    readonly fileSize: number,
    private readonly readAt: ReadAt,
    private readonly cache: BlockCache,
    private readonly counters: TableCounters | undefined,
    readonly properties: TableProperties,
    readonly index: TableIndex,
    /** The filter block's contents (empty: no filter). */
    readonly filter: Uint8Array,
    private readonly readAtSync: ReadAtSync | undefined
  ) {}

  get blockCount(): number {
    return this.index.length
  }

  /** The manifest's record of this table. */
  fileMeta(): FileMeta {
    return toFileMeta(this.properties, this.fileNumber, this.fileSize)
  }

  /** False only when the table certainly holds no entry for `userKey` (no counters). */
  mayContain(userKey: string): boolean {
    return this.filter.length === 0 || mayContainHash(this.filter, bloomHash(userKey))
  }

  /**
   * The newest entry for `userKey` with sequence <= `seq` when the answer needs no I/O: the
   * entry, `undefined` (absent), or `BLOCK_NOT_CACHED` (call `get`).
   */
  getCached(userKey: string, seq: number): TableEntry | undefined | typeof BLOCK_NOT_CACHED {
    if (this.filter.length !== 0) {
      const counters = this.counters
      if (counters !== undefined) counters.bloomChecks++
      if (!mayContainHash(this.filter, bloomHash(userKey))) {
        if (counters !== undefined) counters.bloomNegatives++
        return undefined
      }
    }
    const i = this.index.find(userKey, seq)
    if (i >= this.index.length) return undefined
    const block = this.cache.get(this.fileNumber, this.index.offsets[i]!)
    if (block === undefined) {
      this.missedBlock = i
      return BLOCK_NOT_CACHED
    }
    return this.searchBlock(block, userKey, seq)
  }

  /**
   * `getCached`, reading a missing block synchronously when the file allows it; a failure is
   * returned, not thrown. `BLOCK_NOT_CACHED` only when there is no synchronous read. A block the
   * cache does not admit (see `BlockCache.admit`) is read into a reused scratch buffer: the
   * entry's value is then a view valid until the next read, so the caller copies it at once.
   */
  getSync(userKey: string, seq: number): TableEntry | undefined | typeof BLOCK_NOT_CACHED | Corruption | PlatformError {
    const found = this.getCached(userKey, seq)
    if (found !== BLOCK_NOT_CACHED || this.readAtSync === undefined) return found
    const i = this.missedBlock
    const offset = this.index.offsets[i]!
    const size = this.index.sizes[i]!
    if (this.cache.admit(this.fileNumber, offset, size + BLOCK_TRAILER_SIZE)) {
      const block = this.loadBlockSync(i)
      return block instanceof Block ? this.searchBlock(block, userKey, seq) : block
    }
    let raw: Uint8Array
    try {
      raw = this.readAtSync(offset, size + BLOCK_TRAILER_SIZE, scratchOf(size + BLOCK_TRAILER_SIZE))
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
    const block = this.checkBlock(raw, offset, size, "probe")
    return block instanceof Block ? this.searchBlock(block, userKey, seq) : block
  }

  /**
   * Block `i` from the cache, or read synchronously when the file allows it; else undefined. With
   * `buffer` (an iterator that does not fill the cache, such as a compaction's), a block not in the
   * cache is read into the holder's reused buffer and not cached: valid until its next load.
   */
  blockNow(i: number, buffer?: ScratchHolder): Block | undefined {
    const cached = this.cache.get(this.fileNumber, this.index.offsets[i]!)
    if (cached !== undefined || this.readAtSync === undefined) return cached
    const block = buffer === undefined ? this.loadBlockSync(i) : this.loadBlockInto(i, buffer)
    // A failure leaves the step pending: the effectful read reports it properly.
    return block instanceof Block ? block : undefined
  }

  /** Reads and checks block `i` into the holder's buffer (grown as needed), without caching it. */
  private loadBlockInto(i: number, holder: ScratchHolder): Block | Corruption | PlatformError {
    const offset = this.index.offsets[i]!
    const size = this.index.sizes[i]!
    const length = size + BLOCK_TRAILER_SIZE
    if (holder.scratch.length < length) holder.scratch = new Uint8Array(Math.max(length, holder.scratch.length * 2))
    let raw: Uint8Array
    try {
      raw = this.readAtSync!(offset, length, holder.scratch)
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
    return this.checkBlock(raw, offset, size, "iterate")
  }

  /** Reads, checks, parses and caches block `i` synchronously (requires `readAtSync`). */
  private loadBlockSync(i: number): Block | Corruption | PlatformError {
    const offset = this.index.offsets[i]!
    const size = this.index.sizes[i]!
    let raw: Uint8Array
    try {
      raw = this.readAtSync!(offset, size + BLOCK_TRAILER_SIZE)
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
    return this.checkBlock(raw, offset, size)
  }

  /**
   * Checks and parses a block read at `offset`. "cache": checked whole and cached; "iterate":
   * checked whole for an iterator, not cached; "probe": for one point lookup, only the restart
   * array checked (the checksum vouches for the bytes), not cached.
   */
  private checkBlock(
    raw: Uint8Array,
    offset: number,
    size: number,
    use: "cache" | "iterate" | "probe" = "cache"
  ): Block | Corruption {
    if (this.counters !== undefined) this.counters.blockReads++
    const contents = unsealBlock(raw, size, this.fileName, offset)
    if (contents instanceof Corruption) return contents
    const block = parseBlock(contents, this.fileName, offset, use !== "probe")
    if (block instanceof Corruption) return block
    if (use === "cache") this.cache.set(this.fileNumber, offset, block, size + BLOCK_TRAILER_SIZE)
    return block
  }

  /** The newest entry for `userKey` with sequence <= `seq`, or undefined. */
  get(userKey: string, seq: number): Effect.Effect<TableEntry | undefined, Corruption | PlatformError> {
    return Effect.suspend(() => {
      const found = this.getCached(userKey, seq)
      if (found === BLOCK_NOT_CACHED) return this.getFromDisk(userKey, seq)
      return found === undefined ? SUCCEED_UNDEFINED : Effect.succeed(found)
    })
  }

  /** `get` past the filter and cache: reads the block that may hold the key. */
  getFromDisk(userKey: string, seq: number): Effect.Effect<TableEntry | undefined, Corruption | PlatformError> {
    const i = this.index.find(userKey, seq)
    if (i >= this.index.length) return SUCCEED_UNDEFINED
    return Effect.map(this.readBlock(i), (block) => this.searchBlock(block, userKey, seq))
  }

  /** A two-level iterator over the table's entries. */
  /** A two-level iterator; with `fillCache` false it leaves the block cache alone (compactions). */
  iterator(fillCache = true): TableIterator {
    return new TableIterator(this, fillCache)
  }


  /** Reads, checks and parses data block `i`, and caches it. */
  readBlock(i: number): Effect.Effect<Block, Corruption | PlatformError> {
    if (this.readAtSync !== undefined) {
      return Effect.suspend(() => {
        const block = this.loadBlockSync(i)
        return block instanceof Block ? Effect.succeed(block) : Effect.fail(block)
      })
    }
    const offset = this.index.offsets[i]!
    const size = this.index.sizes[i]!
    return Effect.flatMap(this.readAt(offset, size + BLOCK_TRAILER_SIZE), (raw) => {
      const block = this.checkBlock(raw, offset, size)
      return block instanceof Block ? Effect.succeed(block) : Effect.fail(block)
    })
  }

  private searchBlock(block: Block, userKey: string, seq: number): TableEntry | undefined {
    const counters = this.counters
    if (counters !== undefined) counters.blockSearches++
    const it = this.probe
    it.reset(block)
    it.seek(userKey, seq)
    if (!it.valid() || !it.userKeyIs(userKey)) return undefined
    return { kind: it.kind(), value: it.value() }
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

/** The reader from the checked footer and the bytes of `metaRange(footer)`. */
const readerFrom = (options: OpenTableOptions, footer: Footer, meta: Uint8Array, start: number): TableReader | Corruption => {
  const { fileName: file, fileSize, readAt } = options
  const contents = (h: { offset: number; size: number }) => unsealBlock(meta.subarray(h.offset - start), h.size, file, h.offset)
  const filter = contents(footer.filter)
  if (filter instanceof Corruption) return filter
  if (!validFilter(filter)) return corruption(file, footer.filter.offset, "bad filter block")
  const propertiesBlock = contents(footer.properties)
  if (propertiesBlock instanceof Corruption) return propertiesBlock
  const properties = decodeProperties(propertiesBlock, file, footer.properties.offset)
  if (properties instanceof Corruption) return properties
  const indexContents = contents(footer.index)
  if (indexContents instanceof Corruption) return indexContents
  const index = parseIndex(indexContents, file, footer.index.offset, footer.filter.offset)
  if (index instanceof Corruption) return index
  if (properties.dataSize !== footer.filter.offset || properties.dataBlocks !== index.length) {
    return corruption(file, footer.properties.offset, "properties disagree with the index")
  }
  return new TableReader(
    options.fileNumber,
    file,
    fileSize,
    readAt,
    options.cache,
    options.counters,
    properties,
    index,
    Buffer.from(filter), // a copy: the rest of the metadata read can be collected
    options.readAtSync
  )
}

const tooShort = (options: OpenTableOptions): Corruption | undefined =>
  options.fileSize < FOOTER_SIZE ? corruption(options.fileName, 0, `file too short for a table: ${options.fileSize} bytes`) : undefined

/**
 * Opens a table: reads and checks the footer, then the filter, properties and index blocks (one
 * read covering the three).
 */
export const openTable = (options: OpenTableOptions): Effect.Effect<TableReader, Corruption | PlatformError> =>
  Effect.gen(function* () {
    const short = tooShort(options)
    if (short !== undefined) return yield* short
    const f = footerRange(options.fileSize)
    const footer = decodeFooter(yield* options.readAt(f.offset, f.length), options.fileName, options.fileSize)
    if (footer instanceof Corruption) return yield* footer
    const m = metaRange(footer)
    const reader = readerFrom(options, footer, yield* options.readAt(m.offset, m.length), m.offset)
    if (reader instanceof Corruption) return yield* reader
    return reader
  })

/** `openTable` in one synchronous call, over `readAtSync` (which throws a `PlatformError`). */
export const openTableSync = (options: OpenTableOptions & { readonly readAtSync: ReadAtSync }): TableReader | Corruption => {
  const short = tooShort(options)
  if (short !== undefined) return short
  const f = footerRange(options.fileSize)
  const footer = decodeFooter(options.readAtSync(f.offset, f.length), options.fileName, options.fileSize)
  if (footer instanceof Corruption) return footer
  const m = metaRange(footer)
  return readerFrom(options, footer, options.readAtSync(m.offset, m.length), m.offset)
}
