/**
 * Writes a table (doc/table_format.md) from entries given in internal-key order: a pure,
 * synchronous builder. Completed bytes accumulate as chunks the caller takes with `takeOutput()`
 * while it writes, so memory stays bounded by about one block plus the index and filter;
 * `finish()` returns the rest (last data block, filter, properties, index, footer).
 *
 * The index entry of a data block is written when the next block's first key is known, so it can
 * be a short separator (LevelDB's `pending_index_entry`).
 */
import { Buffer } from "node:buffer"
import { compareInternal, KIND_DELETE, KIND_PUT, type Kind, MAX_SEQUENCE } from "../key/internalKey.js"
import type { FileMeta } from "../version/fileMeta.js"
import { BlockBuilder } from "./blockBuilder.js"
import { type BlockHandle, putHandle } from "./blockHandle.js"
import { sealBlock } from "./blockTrailer.js"
import { type Compression, TYPE_OF } from "./compression.js"
import { FilterBuilder } from "./bloom.js"
import { encodeFooter } from "./footer.js"
import { encodeProperties, type TableProperties, toFileMeta } from "./properties.js"
import { shortestSeparator } from "./separator.js"
import { BLOCK_TRAILER_SIZE, MAX_HANDLE_SIZE } from "./tableFormat.js"

export interface TableBuilderOptions {
  /** Target uncompressed size of a data block (bytes). */
  readonly blockSize: number
  /** Entries between restart points in a data block. */
  readonly restartInterval: number
  /** Bloom filter bits per key; 0 writes no filter. */
  readonly bitsPerKey: number
  /** How data blocks are compressed (metadata blocks are stored raw). Default "none". */
  readonly compression?: Compression
}

const EMPTY = new Uint8Array(0)

export class TableBuilder {
  private readonly dataBlock: BlockBuilder
  private readonly indexBlock = new BlockBuilder(1, 1024)
  private readonly filter: FilterBuilder
  private readonly handleScratch = Buffer.allocUnsafe(MAX_HANDLE_SIZE)
  private output: Array<Uint8Array> = []
  private offset = 0
  private finished = false
  private _properties: TableProperties | undefined = undefined

  // The last entry added.
  private lastKey = ""
  private lastSeq = 0
  private lastKind: Kind = KIND_PUT
  // The handle of the last flushed data block, waiting for the next key to pick its separator.
  private pendingHandle: BlockHandle | undefined = undefined

  // Properties.
  private count = 0
  private tombstones = 0
  private dataBlocks = 0
  private rawDataSize = 0
  private rawKeyBytes = 0
  private rawValueBytes = 0
  private minSeq = Number.POSITIVE_INFINITY
  private maxSeq = 0
  private smallestKey = ""
  private smallestSeq = 0

  constructor(readonly options: TableBuilderOptions) {
    if (!(options.blockSize >= 1)) throw new RangeError(`blockSize must be >= 1, got ${options.blockSize}`)
    if (!(options.bitsPerKey >= 0)) throw new RangeError(`bitsPerKey must be >= 0, got ${options.bitsPerKey}`)
    this.dataBlock = new BlockBuilder(options.restartInterval, options.blockSize + (options.blockSize >>> 2))
    this.filter = new FilterBuilder(options.bitsPerKey)
  }

  /** Entries added so far. */
  get entries(): number {
    return this.count
  }

  /** Bytes produced so far (taken or not); after `finish`, the file's size. */
  get fileSize(): number {
    return this.offset
  }

  /** `fileSize` plus the data block being filled: where to cut compaction outputs. */
  get estimatedFileSize(): number {
    return this.offset + (this.dataBlock.empty ? 0 : this.dataBlock.currentSizeEstimate)
  }

  /** The table's properties; available after `finish`. */
  get properties(): TableProperties {
    if (this._properties === undefined) throw new Error("TableBuilder.properties before finish()")
    return this._properties
  }

  /** The manifest's record of the finished table, given its file number. */
  fileMeta(number: number): FileMeta {
    return toFileMeta(this.properties, number, this.offset)
  }

  /** Adds an entry; entries must come in strictly increasing internal order. */
  add(userKey: string, seq: number, kind: Kind, value: Uint8Array): void {
    if (this.finished) throw new Error("TableBuilder.add after finish()")
    if (!(seq >= 0 && seq <= MAX_SEQUENCE)) throw new RangeError(`sequence out of range: ${seq}`)
    if (kind !== KIND_PUT && kind !== KIND_DELETE) throw new RangeError(`unknown kind: ${String(kind)}`)
    const first = this.count === 0
    if (!first && compareInternal(this.lastKey, this.lastSeq, userKey, seq) >= 0) {
      throw new RangeError(
        `TableBuilder.add out of order: (${JSON.stringify(userKey)}, ${seq}) after (${JSON.stringify(this.lastKey)}, ${this.lastSeq})`
      )
    }
    if (this.pendingHandle !== undefined) this.addIndexEntry(userKey)
    if (first || userKey !== this.lastKey) this.filter.addKey(userKey)
    if (kind === KIND_DELETE) {
      value = EMPTY
      this.tombstones++
    }
    this.dataBlock.add(userKey, seq, kind, value)

    if (first) {
      this.smallestKey = userKey
      this.smallestSeq = seq
    }
    this.count++
    this.rawKeyBytes += userKey.length
    this.rawValueBytes += value.byteLength
    if (seq < this.minSeq) this.minSeq = seq
    if (seq > this.maxSeq) this.maxSeq = seq
    this.lastKey = userKey
    this.lastSeq = seq
    this.lastKind = kind

    if (this.dataBlock.currentSizeEstimate >= this.options.blockSize) this.flushDataBlock()
  }

  /** The completed bytes produced since the last call, in file order. */
  takeOutput(): Array<Uint8Array> {
    const out = this.output
    this.output = []
    return out
  }

  /** Completes the table: returns the bytes not yet taken (the file ends with them). */
  finish(): Array<Uint8Array> {
    if (this.finished) throw new Error("TableBuilder.finish called twice")
    this.finished = true
    if (!this.dataBlock.empty) this.flushDataBlock()
    if (this.pendingHandle !== undefined) this.addIndexEntry(undefined)
    const dataSize = this.offset

    const filter = this.writeBlock(this.filter.finish())
    const empty = this.count === 0
    this._properties = {
      entries: this.count,
      tombstones: this.tombstones,
      dataBlocks: this.dataBlocks,
      dataSize,
      rawDataSize: this.rawDataSize,
      compressionType: TYPE_OF[this.options.compression ?? "none"],
      rawKeyBytes: this.rawKeyBytes,
      rawValueBytes: this.rawValueBytes,
      minSeq: empty ? 0 : this.minSeq,
      maxSeq: this.maxSeq,
      smallestKey: this.smallestKey,
      smallestSeq: this.smallestSeq,
      largestKey: this.lastKey,
      largestSeq: this.lastSeq,
      bloomBitsPerKey: this.options.bitsPerKey
    }
    const properties = this.writeBlock(encodeProperties(this._properties))
    const index = this.writeBlock(this.indexBlock.finish())
    const footer = encodeFooter({ filter, properties, index })
    this.output.push(footer)
    this.offset += footer.length
    return this.takeOutput()
  }

  private writeBlock(contents: Uint8Array, compression: Compression = "none"): BlockHandle {
    const sealed = sealBlock(contents, compression)
    const handle = { offset: this.offset, size: sealed.length - BLOCK_TRAILER_SIZE }
    this.output.push(sealed)
    this.offset += sealed.length
    return handle
  }

  private flushDataBlock(): void {
    const contents = this.dataBlock.finish()
    this.rawDataSize += contents.byteLength + BLOCK_TRAILER_SIZE
    this.pendingHandle = this.writeBlock(contents, this.options.compression)
    this.dataBlocks++
    this.dataBlock.reset()
  }

  /** Indexes the pending block with a separator before `nextKey` (its exact last key at the end). */
  private addIndexEntry(nextKey: string | undefined): void {
    const handleBytes = this.handleScratch.subarray(0, putHandle(this.handleScratch, 0, this.pendingHandle!))
    const short = nextKey === undefined ? undefined : shortestSeparator(this.lastKey, nextKey)
    if (short !== undefined) this.indexBlock.add(short, MAX_SEQUENCE, KIND_PUT, handleBytes)
    else this.indexBlock.add(this.lastKey, this.lastSeq, this.lastKind, handleBytes)
    this.pendingHandle = undefined
  }
}
