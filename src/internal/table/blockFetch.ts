/**
 * Fetching a table's data blocks (LevelDB's `Table::BlockReader`): the one way point reads and
 * table iterators get a block, and the owner of the block cache policy (README, `blockCacheSize`).
 *
 * `fetch(i, use)` answers with the parsed `Block` now when the shared block cache holds it or the
 * file reads synchronously, with the failure found now, or with the effect that reads it when the
 * file system must wait. A block read is checksummed and parsed once, then cached or not by `use`:
 *
 * - `FILL_CACHE` (scans): cached.
 * - `POINT_READ`: cached while the cache has room, then only on the block's second miss in a
 *   while (`BlockCache.admit`, asked once the block is read, with the bytes the cache will charge
 *   it: a compressed block's decompressed length). A point read's block is read into a buffer
 *   every point read reuses (and, compressed, decompressed into another); one the cache admits is
 *   copied out, one it does not is only its restart array checked (the checksum vouches for the
 *   bytes, and one bounded seek needs no more), searched once and dropped, so it must not outlive
 *   the lookup.
 * - a `Scratch` (compactions): never cached; read into the scratch (valid until its next fetch)
 *   and checked whole, as an iterator walks every entry.
 */
import { isPlatformError } from "@effect/platform/Error"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { Corruption, type NotSupported } from "../../errors.js"
import { Block, parseBlock } from "./block.js"
import type { BlockCache } from "./blockCache.js"
import { unsealBlock } from "./blockTrailer.js"
import { isTableError, type TableFile, type TableError } from "./tableFile.js"
import type { TableIndex } from "./tableIndex.js"
import { BLOCK_TRAILER_SIZE } from "./tableFormat.js"

/** A reused buffer blocks are read into; a block to be cached is copied out of it. */
export class Scratch {
  private bytes: Buffer = Buffer.alloc(0)

  /** At least `length` bytes; what an earlier fetch read there is overwritten. */
  take(length: number): Buffer {
    // 8 KiB at least (and alloc(0) first): never a slice of Node's shared pool, so `holds` is exact.
    if (this.bytes.length < length) this.bytes = Buffer.allocUnsafe(Math.max(length, this.bytes.length * 2, 8192))
    return this.bytes
  }

  /** Whether `view` lies in this scratch's buffer (so the next fetch may overwrite it). */
  holds(view: Uint8Array): boolean {
    return view.buffer === this.bytes.buffer
  }
}

/** Point reads: see the module comment. */
export const POINT_READ = 0
/** Scans: every block read is cached. */
export const FILL_CACHE = 1

/** How a fetch that misses the cache treats the block it reads. */
export type BlockUse = typeof POINT_READ | typeof FILL_CACHE | Scratch

/** A fetch's answer: the block now, a failure now, or the effect that reads the block. */
export type Fetched = Block | TableError | Effect.Effect<Block, TableError>

/**
 * Where a point read reads its block (copied out if the cache admits it). One for all tables: a
 * point read is synchronous from the fetch to the copy of its value, so no two use it at once.
 */
const pointScratch = new Scratch()

/** Where such a block is decompressed, when it is compressed (copied out if admitted, like the read). */
const pointContents = new Scratch()
const intoPointContents = (length: number): Buffer => pointContents.take(length).subarray(0, length)

export class BlockFetch {
  constructor(
    private readonly file: TableFile,
    readonly index: TableIndex,
    private readonly cache: BlockCache,
    private readonly counters: { blockReads: number }
  ) {}

  /** Data block `i` (an index position), for `use`. */
  fetch(i: number, use: BlockUse): Fetched {
    const offset = this.index.offsets[i]!
    const cached = this.cache.get(this.file.number, offset)
    if (cached !== undefined) return cached
    const size = this.index.sizes[i]!
    const length = size + BLOCK_TRAILER_SIZE
    const readAtSync = this.file.readAtSync
    if (readAtSync === undefined) {
      // Fibers may run between this read and the search of its block: no shared buffer here.
      return Effect.flatMap(this.file.readAt(offset, length), (raw) => {
        const block = this.parse(raw, offset, size, use)
        return block instanceof Block ? Effect.succeed(block) : Effect.fail(block)
      })
    }
    const into = use === FILL_CACHE ? undefined : use === POINT_READ ? pointScratch.take(length) : use.take(length)
    let raw: Uint8Array
    try {
      raw = readAtSync(offset, length, into)
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
    return this.parse(raw, offset, size, use, use === POINT_READ ? intoPointContents : undefined)
  }

  /**
   * Checks and parses a block read at `offset`, then caches it or not as `use` says: a scan's
   * always, a point read's when the cache admits it, asked with the bytes the cache would charge
   * (the contents as the read path uses them, decompressed), which are known only now. `into`:
   * where a compressed block is decompressed (else a new buffer); a block the cache keeps is
   * copied out of the reused buffers first.
   */
  private parse(
    raw: Uint8Array,
    offset: number,
    size: number,
    use: BlockUse,
    into?: (length: number) => Buffer
  ): Block | Corruption | NotSupported {
    this.counters.blockReads++
    let contents = unsealBlock(raw, size, this.file.name, offset, into)
    if (isTableError(contents)) return contents
    // A raw block is charged the read buffer its view keeps (contents and trailer).
    const charge = contents.byteLength === size ? size + BLOCK_TRAILER_SIZE : contents.byteLength
    const keep = use === FILL_CACHE || (use === POINT_READ && this.cache.admit(this.file.number, offset, charge))
    if (keep && (pointScratch.holds(contents) || pointContents.holds(contents))) contents = Buffer.from(contents)
    // Every entry is checked unless the block is searched once and dropped (see the module comment).
    const block = parseBlock(contents, this.file.name, offset, keep || use !== POINT_READ)
    if (block instanceof Corruption) return block
    if (keep) this.cache.set(this.file.number, offset, block, charge)
    return block
  }
}
