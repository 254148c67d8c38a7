/**
 * Fetching a table's data blocks (LevelDB's `Table::BlockReader`): the one way point reads and
 * table iterators get a block, and the owner of the block cache policy (README, `blockCacheSize`).
 *
 * `fetch(i, use)` answers with the parsed `Block` now when the shared block cache holds it or the
 * file reads synchronously, with the failure found now, or with the effect that reads it when the
 * file system must wait. A block read is checksummed and parsed once, then cached or not by `use`:
 *
 * - `FILL_CACHE` (scans): cached. Read into a buffer every scan reuses, or the iterator's
 *   `Readahead` window (Node allocating a 4 KiB buffer costs about as much as decoding one): a raw
 *   block is copied out of it, a compressed one decoded into its own buffer.
 * - `POINT_READ` (`fetchPoint`): cached while the cache has room, then only on the block's second
 *   miss in a while (`BlockCache.admit`, asked once the block is read and its checksum checked,
 *   with the bytes the cache will charge it: a compressed block's decompressed length, which its
 *   length prefix gives). A point read's block is read into a buffer every point read reuses;
 *   one the cache admits is copied out of it (a compressed one is decoded into its own buffer).
 *   One it does not is searched once and dropped, so it must not outlive the lookup: raw (or zlib,
 *   snappy), only its restart array is checked (the checksum vouches for the bytes, and one
 *   bounded seek needs no more); LZ4, it is not decoded here but answered as a `StreamedBlock`,
 *   which the lookup searches while decoding it, as far as the entry it needs.
 * - a `Scratch` (compactions): never cached; read (into the scratch or the iterator's readahead
 *   window), and a compressed block decoded into the scratch, valid until the next fetch; checked
 *   whole, as an iterator walks every entry.
 */
import { isPlatformError } from "@effect/platform/Error"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { Corruption, type NotSupported } from "../../errors.js"
import { Block, parseBlock } from "./block.js"
import type { BlockCache } from "./blockCache.js"
import { blockContents, checkBlock } from "./blockTrailer.js"
import { isTableError, type TableFile, type TableError } from "./tableFile.js"
import type { TableIndex } from "./tableIndex.js"
import type { Readahead } from "./readahead.js"
import { Scratch } from "./scratch.js"
import { StreamedBlock } from "./streamedBlock.js"
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_LZ4,
  BLOCK_TYPE_UNCOMPRESSED,
  COMPRESSED_LENGTH_SIZE,
  MAX_UNCOMPRESSED_BLOCK
} from "./tableFormat.js"

/** Point reads: see the module comment. */
export const POINT_READ = 0
/** Scans: every block read is cached. */
export const FILL_CACHE = 1

/** How a scan's fetch that misses the cache treats the block it reads. */
export type ScanUse = typeof FILL_CACHE | Scratch

/** How a fetch that misses the cache treats the block it reads. */
type BlockUse = typeof POINT_READ | ScanUse

/** A fetch's answer: the block now, a failure now, or the effect that reads the block. */
export type Fetched = Block | TableError | Effect.Effect<Block, TableError>

/**
 * Where a point read reads its block (copied out if the cache admits it). One for all tables: a
 * point read is synchronous from the fetch to the copy of its value, so no two use it at once.
 */
const pointScratch = new Scratch()

/**
 * Where a scan reads a block it will cache: a raw one is copied out, a compressed one decoded into
 * its own buffer, so the bytes read need no buffer of their own (Node's allocation of a 4 KiB
 * buffer costs about 3 us here, as much as decoding the block). Synchronous from the read to the
 * copy, like `pointScratch`.
 */
const scanScratch = new Scratch()

/** The LZ4 block a point read searches while decoding it, when the cache does not admit the block. */
const pointStream = new StreamedBlock()

export class BlockFetch {
  constructor(
    private readonly file: TableFile,
    readonly index: TableIndex,
    private readonly cache: BlockCache,
    private readonly counters: { blockReads: number }
  ) {}

  /**
   * Data block `i` (an index position), for a scan or a compaction; read through `readahead`
   * (the iterator's own) when given and the file reads synchronously.
   */
  fetch(i: number, use: ScanUse, readahead?: Readahead): Fetched {
    // Only a point read is answered with a streamed block.
    return this.get(i, use, readahead) as Fetched
  }

  /**
   * Data block `i` for a point read: parsed, or, for an LZ4 block the cache does not admit, the
   * block to search while decoding it (valid until the next point read).
   */
  fetchPoint(i: number): Fetched | StreamedBlock {
    return this.get(i, POINT_READ)
  }

  private get(i: number, use: BlockUse, readahead?: Readahead): Fetched | StreamedBlock {
    const offset = this.index.offsets[i]!
    const cached = this.cache.get(this.file.number, offset)
    if (cached !== undefined) {
      // The walk goes on through cached blocks: the next one read continues its run.
      readahead?.passed(i)
      return cached
    }
    const size = this.index.sizes[i]!
    const length = size + BLOCK_TRAILER_SIZE
    const readAtSync = this.file.readAtSync
    if (readAtSync === undefined) {
      // Fibers may run between this read and the search of its block: no shared buffer here.
      return Effect.flatMap(this.file.readAt(offset, length), (raw) => {
        const block = this.parse(raw, offset, size, use, undefined)
        return block instanceof Block ? Effect.succeed(block) : Effect.fail(block as TableError)
      })
    }
    const scratch = use === FILL_CACHE ? scanScratch : use === POINT_READ ? pointScratch : use
    let raw: Uint8Array | undefined
    try {
      raw = readahead?.read(this.index, i, readAtSync)
    } catch (error) {
      // A window that failed to read may have failed past this block: the block is read alone,
      // so its own read says whether it can be (a scan stops where it did without readahead).
      if (!isPlatformError(error)) throw error
    }
    try {
      raw ??= readAtSync(offset, length, scratch.take(length))
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
    return this.parse(raw, offset, size, use, scratch)
  }

  /**
   * Checks a block read at `offset` and parses it, then caches it or not as `use` says: a scan's
   * always, a point read's when the cache admits it, asked with the bytes the cache would charge
   * (the contents as the read path uses them: decompressed, their length the stored prefix).
   * `scratch`: the reused buffers of the read (undefined when the read made its own buffer); the
   * block was read into it or into the iterator's readahead window, reused too: a raw block the
   * cache keeps is copied out; a point read's LZ4 block the cache does not keep is streamed
   * instead (`StreamedBlock`); a compaction's compressed block is decoded into the scratch.
   */
  private parse(
    raw: Uint8Array,
    offset: number,
    size: number,
    use: BlockUse,
    scratch: Scratch | undefined
  ): Block | StreamedBlock | Corruption | NotSupported {
    this.counters.blockReads++
    const name = this.file.name
    const checked = checkBlock(raw, size, name, offset)
    if (checked instanceof Corruption) return checked
    const type = checked[size]!
    // A raw block is charged the bytes read (contents and trailer: the buffer it keeps when read
    // into its own, 5 bytes more than the copy it keeps when read into a reused one).
    const charge =
      type === BLOCK_TYPE_UNCOMPRESSED
        ? size + BLOCK_TRAILER_SIZE
        : size >= COMPRESSED_LENGTH_SIZE
          ? checked.readUInt32LE(0)
          : 0
    const keep = use === FILL_CACHE || (use === POINT_READ && this.cache.admit(this.file.number, offset, charge))
    if (!keep && use === POINT_READ && scratch !== undefined && type === BLOCK_TYPE_LZ4 && size >= COMPRESSED_LENGTH_SIZE && charge <= MAX_UNCOMPRESSED_BLOCK) {
      return pointStream.start(checked, COMPRESSED_LENGTH_SIZE, size, charge, name, offset)
    }
    // An LZ4 block not kept is decoded into the compaction's scratch, else into its own buffer
    // (the other codecs always make their own).
    const decodeInto =
      !keep && scratch !== undefined && use !== POINT_READ && type === BLOCK_TYPE_LZ4 && charge <= MAX_UNCOMPRESSED_BLOCK
        ? scratch.takeDecoded(charge)
        : undefined
    let contents = blockContents(checked, size, name, offset, decodeInto)
    if (isTableError(contents)) return contents
    // A raw block is a view of the buffer it was read into.
    if (keep && scratch !== undefined && type === BLOCK_TYPE_UNCOMPRESSED) contents = Buffer.from(contents)
    // Every entry is checked unless the block is searched once and dropped (see the module comment).
    const block = parseBlock(contents, name, offset, keep || use !== POINT_READ)
    if (block instanceof Corruption) return block
    if (keep) this.cache.set(this.file.number, offset, block, charge)
    return block
  }
}
