/**
 * A parsed block (doc/table_format.md, "the block format") and its `BlockIterator`.
 *
 * `parseBlock` walks the whole block once and checks every entry, the restart array and every
 * key trailer, so the iterator afterwards never meets malformed bytes and never fails (it is
 * never pending: the block is in memory). Seeking is a binary search over restart points, then a
 * linear scan; `prev` goes back to the previous restart point and scans forward, as in LevelDB.
 * Keys are compared on the block's bytes against the target's latin1 string, and decoded to a
 * string only when `key()` asks; values are `subarray`s of the block (no copy).
 */
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { Corruption } from "../../errors.js"
import type { Kind } from "../key/internalKey.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import { readTrailerKind, readTrailerSeq, validTrailer } from "./keyTrailer.js"
import { KEY_TRAILER_SIZE } from "./tableFormat.js"

/** A block's contents with the position of its restart array. Immutable; shared via the cache. */
export class Block {
  constructor(
    readonly data: Buffer,
    /** Offset of the restart array = end of the entries. */
    readonly restartsOffset: number,
    readonly numRestarts: number
  ) {}

  get byteLength(): number {
    return this.data.length
  }

  /** Offset of the entry at restart point `i`. */
  restart(i: number): number {
    const d = this.data
    const p = this.restartsOffset + 4 * i
    return (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16)) + d[p + 3]! * 16777216
  }
}

// Varint decoding of in-block lengths (< 2^32): the value is returned, the position after it is
// left in `varintEnd` (no allocation). Returns -1 when the varint runs past `limit` or is too long.
export let varintEnd = 0
export const readLength = (d: Uint8Array, p: number, limit: number): number => {
  let result = 0
  let scale = 1
  for (let i = 0; i < 5 && p < limit; i++) {
    const b = d[p++]!
    result += (b & 127) * scale
    if (b < 128) {
      varintEnd = p
      return result
    }
    scale *= 128
  }
  return -1
}

/** Bytewise comparison of `len` bytes of `d` at `start` with a latin1 key string. */
export const compareBytesToKey = (d: Uint8Array, start: number, len: number, key: string): number => {
  const klen = key.length
  const n = len < klen ? len : klen
  for (let i = 0; i < n; i++) {
    const a = d[start + i]!
    const b = key.charCodeAt(i)
    if (a !== b) return a - b
  }
  return len - klen
}

const badBlock = (file: string, offset: number, description: string) =>
  new Corruption({ file, offset, description: `bad block: ${description}` })

/**
 * Parses and checks block `contents` read at `offset` of `file`: the block, or the `Corruption`
 * describing the first problem found. With `checkEntries` false only the restart array is checked
 * (in order, inside the entries), which is enough for one bounded seek: point reads use that for
 * blocks they do not cache, whose bytes the block checksum has already vouched for.
 */
export const parseBlock = (contents: Buffer, file: string, offset: number, checkEntries = true): Block | Corruption => {
  const len = contents.length
  if (len < 4) return badBlock(file, offset, "shorter than its restart count")
  const numRestarts = contents.readUInt32LE(len - 4)
  if (numRestarts > (len - 4) / 4) return badBlock(file, offset, `restart count ${numRestarts} does not fit`)
  const restartsOffset = len - 4 - 4 * numRestarts
  const block = new Block(contents, restartsOffset, numRestarts)
  if (numRestarts === 0) return restartsOffset === 0 ? block : badBlock(file, offset, "entries without restart points")
  if (block.restart(0) !== 0) return badBlock(file, offset, "first restart point is not at offset 0")
  if (!checkEntries) {
    let previous = 0
    for (let r = 1; r < numRestarts; r++) {
      const at = block.restart(r)
      if (at <= previous || at >= restartsOffset) return badBlock(file, offset, `restart point ${r} out of order`)
      previous = at
    }
    return block
  }
  let keyBuf = Buffer.allocUnsafe(64)
  let keyLen = 0
  let nextRestart = 0
  let p = 0
  while (p < restartsOffset) {
    const isRestart = nextRestart < numRestarts && block.restart(nextRestart) === p
    if (isRestart) nextRestart++
    // The three lengths: one-byte varints in the common case, read inline.
    let keyStart: number
    let shared: number
    let unshared: number
    let vlen: number
    if (p + 3 <= restartsOffset && (contents[p]! | contents[p + 1]! | contents[p + 2]!) < 128) {
      shared = contents[p]!
      unshared = contents[p + 1]!
      vlen = contents[p + 2]!
      keyStart = p + 3
    } else {
      shared = readLength(contents, p, restartsOffset)
      if (shared < 0) return badBlock(file, offset, `bad entry header at ${p}`)
      unshared = readLength(contents, varintEnd, restartsOffset)
      if (unshared < 0) return badBlock(file, offset, `bad entry header at ${p}`)
      vlen = readLength(contents, varintEnd, restartsOffset)
      if (vlen < 0) return badBlock(file, offset, `bad entry header at ${p}`)
      keyStart = varintEnd
    }
    if (isRestart && shared !== 0) return badBlock(file, offset, `restart point at ${p} shares a prefix`)
    if (shared > keyLen) return badBlock(file, offset, `entry at ${p} shares more than the previous key`)
    if (keyStart + unshared + vlen > restartsOffset) return badBlock(file, offset, `entry at ${p} runs past the entries`)
    const klen = shared + unshared
    if (klen < KEY_TRAILER_SIZE) return badBlock(file, offset, `key at ${p} is shorter than its trailer`)
    if (keyBuf.length < klen) {
      const grown = Buffer.allocUnsafe(Math.max(klen, keyBuf.length * 2))
      keyBuf.copy(grown, 0, 0, keyLen)
      keyBuf = grown
    }
    // Short runs in a plain loop: Buffer.copy's native call costs more than a few bytes.
    if (unshared <= 16) {
      for (let j = 0; j < unshared; j++) keyBuf[shared + j] = contents[keyStart + j]!
    } else {
      contents.copy(keyBuf, shared, keyStart, keyStart + unshared)
    }
    keyLen = klen
    if (!validTrailer(keyBuf, klen - KEY_TRAILER_SIZE)) return badBlock(file, offset, `key at ${p} has an invalid trailer`)
    p = keyStart + unshared + vlen
  }
  if (nextRestart !== numRestarts) return badBlock(file, offset, "restart point not at an entry boundary")
  return block
}

const EMPTY_BLOCK = new Block(Buffer.alloc(4), 0, 0)

export class BlockIterator implements InternalIterator {
  private block: Block = EMPTY_BLOCK
  private data: Buffer = EMPTY_BLOCK.data
  private restartsOffset = 0
  private numRestarts = 0
  /** Offset of the current entry; `restartsOffset` when not valid. */
  private current = 0
  private nextOffset = 0
  private restartIndex = 0
  /** Offset of restart point `restartIndex + 1` (past the entries when there is none). */
  private nextRestartAt = 0
  /** The current internal key's bytes (prefix decompression needs the previous key). */
  private keyBuf: Buffer = Buffer.allocUnsafe(64)
  private keyLen = 0
  /** Bytes the current key shares with the previous one. */
  private shared = 0
  private userKeyLen = 0
  /** The current user key as a string, decoded on demand. */
  private userKey: string | undefined = ""
  private valueOffset = 0
  private valueLength = 0

  constructor(block?: Block) {
    if (block !== undefined) this.reset(block)
  }

  /** Moves the iterator onto another block (unpositioned). */
  reset(block: Block): void {
    this.block = block
    this.data = block.data
    this.restartsOffset = block.restartsOffset
    this.numRestarts = block.numRestarts
    this.invalidate()
  }

  /** The block the iterator walks. */
  currentBlock(): Block {
    return this.block
  }

  valid(): boolean {
    return this.current < this.restartsOffset
  }
  key(): string {
    if (this.userKey === undefined) this.userKey = this.keyBuf.latin1Slice(0, this.userKeyLen)
    return this.userKey
  }
  seq(): number {
    return readTrailerSeq(this.keyBuf, this.userKeyLen)
  }
  kind(): Kind {
    return readTrailerKind(this.keyBuf, this.userKeyLen)
  }
  value(): Uint8Array {
    return this.data.subarray(this.valueOffset, this.valueOffset + this.valueLength)
  }
  pending(): boolean {
    return false
  }
  load(): Effect.Effect<void> {
    return Effect.void
  }

  /** True when valid and the current user key is `key` (no string decoded). */
  userKeyIs(key: string): boolean {
    return this.userKeyLen === key.length && compareBytesToKey(this.keyBuf, 0, this.userKeyLen, key) === 0
  }

  /** Compares the current entry with (key, seq) in internal order. */
  private compareCurrent(key: string, seq: number): number {
    const c = compareBytesToKey(this.keyBuf, 0, this.userKeyLen, key)
    if (c !== 0) return c
    const s = readTrailerSeq(this.keyBuf, this.userKeyLen)
    return s > seq ? -1 : s < seq ? 1 : 0
  }

  private invalidate(): void {
    this.current = this.restartsOffset
    this.nextOffset = this.restartsOffset
    this.restartIndex = this.numRestarts
    this.nextRestartAt = this.restartsOffset
  }

  private seekToRestartPoint(i: number): void {
    this.restartIndex = i
    this.nextRestartAt = i + 1 < this.numRestarts ? this.block.restart(i + 1) : this.restartsOffset
    this.keyLen = 0
    this.nextOffset = this.block.restart(i)
  }

  /** Decodes the entry at `nextOffset` (or becomes invalid at the end of the entries). */
  private parseNext(): boolean {
    const p = this.nextOffset
    this.current = p
    if (p >= this.restartsOffset) {
      this.invalidate()
      return false
    }
    const d = this.data
    const limit = this.restartsOffset
    // Lengths are almost always one-byte varints; the block was checked when parsed.
    let q = p
    let shared = d[q]!
    if (shared < 128) q++
    else {
      shared = readLength(d, q, limit)
      q = varintEnd
    }
    let unshared = d[q]!
    if (unshared < 128) q++
    else {
      unshared = readLength(d, q, limit)
      q = varintEnd
    }
    let vlen = d[q]!
    if (vlen < 128) q++
    else {
      vlen = readLength(d, q, limit)
      q = varintEnd
    }
    const keyStart = q
    const klen = shared + unshared
    let buf = this.keyBuf
    if (buf.length < klen) {
      const grown = Buffer.allocUnsafe(Math.max(klen, buf.length * 2))
      buf.copy(grown, 0, 0, this.keyLen)
      this.keyBuf = buf = grown
    }
    if (unshared <= 16) {
      for (let i = 0; i < unshared; i++) buf[shared + i] = d[keyStart + i]!
    } else {
      d.copy(buf, shared, keyStart, keyStart + unshared)
    }
    const ulen = klen - KEY_TRAILER_SIZE
    // The same user key as the previous entry keeps its decoded string.
    if (!(ulen === this.userKeyLen && shared >= ulen && this.keyLen > 0)) this.userKey = undefined
    this.keyLen = klen
    this.userKeyLen = ulen
    this.shared = shared
    this.valueOffset = keyStart + unshared
    this.valueLength = vlen
    this.nextOffset = keyStart + unshared + vlen
    if (p >= this.nextRestartAt) {
      const n = this.numRestarts
      let r = this.restartIndex + 1
      while (r + 1 < n && this.block.restart(r + 1) <= p) r++
      this.restartIndex = r
      this.nextRestartAt = r + 1 < n ? this.block.restart(r + 1) : this.restartsOffset
    }
    return true
  }

  seekToFirst(): void {
    if (this.numRestarts === 0) return this.invalidate()
    this.seekToRestartPoint(0)
    this.parseNext()
  }

  seekToLast(): void {
    if (this.numRestarts === 0) return this.invalidate()
    this.seekToRestartPoint(this.numRestarts - 1)
    while (this.parseNext() && this.nextOffset < this.restartsOffset) {
      // keep scanning to the last entry
    }
  }

  seek(key: string, seq: number): void {
    if (this.numRestarts === 0) return this.invalidate()
    const d = this.data
    const limit = this.restartsOffset
    let left = 0
    let right = this.numRestarts - 1
    while (left < right) {
      const mid = (left + right + 1) >>> 1
      // A restart entry: shared (a single 0 byte), unshared, value length, then the whole key.
      let q = this.block.restart(mid) + 1
      let unshared = d[q]!
      if (unshared < 128) q++
      else {
        unshared = readLength(d, q, limit)
        q = varintEnd
      }
      while (d[q++]! >= 128) {
        // skip the value length
      }
      const keyStart = q
      const ulen = unshared - KEY_TRAILER_SIZE
      let c = compareBytesToKey(d, keyStart, ulen, key)
      if (c === 0) {
        const s = readTrailerSeq(d, keyStart + ulen)
        c = s > seq ? -1 : s < seq ? 1 : 0
      }
      if (c < 0) left = mid
      else right = mid - 1
    }
    this.seekToRestartPoint(left)
    // Linear scan. Bytes the previous key shared with the target and the current key shares with
    // the previous one are equal to the target's: the comparison starts after them.
    const klen = key.length
    let matched = 0
    while (this.parseNext()) {
      const buf = this.keyBuf
      const ulen = this.userKeyLen
      const n = ulen < klen ? ulen : klen
      let i = this.shared < matched ? this.shared : matched
      while (i < n && buf[i] === key.charCodeAt(i)) i++
      matched = i
      let c = i < n ? buf[i]! - key.charCodeAt(i) : ulen - klen
      if (c === 0) {
        const s = readTrailerSeq(buf, ulen)
        c = s > seq ? -1 : s < seq ? 1 : 0
      }
      if (c >= 0) return
    }
  }

  seekForPrev(key: string, seq: number): void {
    this.seek(key, seq)
    if (!this.valid()) this.seekToLast()
    else if (this.compareCurrent(key, seq) !== 0) this.prev()
  }

  next(): void {
    this.parseNext()
  }

  prev(): void {
    const original = this.current
    while (this.block.restart(this.restartIndex) >= original) {
      if (this.restartIndex === 0) return this.invalidate()
      this.restartIndex--
    }
    this.seekToRestartPoint(this.restartIndex)
    while (this.parseNext() && this.nextOffset < original) {
      // scan forward to the entry just before the original one
    }
  }
}
