/**
 * A point read's LZ4 data block, searched while it is decoded (doc/table_format.md, "Reading"):
 * the entries are walked from the first as the LZ4 sequences that hold them are decoded, and the
 * walk stops at the first entry >= the target, so a lookup decodes on average half the block and
 * never the restart array (which is at the block's end, so a binary search would need it all).
 *
 * Used for a block the block cache does not admit (searched once, then dropped): its stored bytes
 * have passed the block checksum, so, as for a raw block searched once, the entries are not
 * checked beforehand; the walk still checks every length it follows against the block and the
 * decoder every sequence it decodes, and reports what it cannot follow as `Corruption`.
 *
 * The entries end where the restart array begins, whose first word is restart point 0, offset 0:
 * the bytes 00 00 00 00. No entry starts with two zero bytes (shared 0 and unshared 0 would be an
 * empty key, and every key has its 8-byte trailer), so the walk knows the end when it meets them
 * (a block's restart count is in its last word, which the walk would otherwise have to decode to).
 */
import { Buffer } from "node:buffer"
import { Corruption } from "../../errors.js"
import type { Kind } from "../key/internalKey.js"
import { decodeUntil, failure, inputEnd } from "./codec/lz4Block.js"
import * as lz4Wasm from "./codec/lz4Wasm.js"
import { readTrailerKind, readTrailerSeq, validTrailer } from "./keyTrailer.js"
import { readLength, varintEnd } from "./block.js"
import { grown } from "./scratch.js"
import { KEY_TRAILER_SIZE } from "./tableFormat.js"

/** The most bytes an entry's three length varints take (5 each). */
const MAX_ENTRY_HEADER = 15
/** The restart count ends every block: entries end at least this far from the end. */
const MIN_RESTART_ARRAY = 4

export class StreamedBlock {
  private src: Uint8Array = Buffer.alloc(0)
  /** Where the input starts, where its undecoded part starts (JavaScript decoding), where it ends. */
  private from = 0
  private ip = 0
  private to = 0
  /** Whether the WebAssembly decoder has the block (else the JavaScript one decodes it into `own`). */
  private wasm = false
  private own: Buffer = Buffer.alloc(0)
  /** The block's contents, `decoded` bytes of them so far. */
  private out: Buffer = Buffer.alloc(0)
  private decoded = 0
  private file = ""
  private offset = 0
  private keyBuf: Buffer = Buffer.allocUnsafe(64)

  /** After a `seek` that found an entry: its kind and where its value lies in `contents()`. */
  kind: Kind = 0
  valueOffset = 0
  valueLength = 0

  /**
   * Starts on the LZ4 block `src[from, to)` (stored at `offset` of `file`), of `length` bytes
   * uncompressed: decoded in the WebAssembly decoder's arena, or, too large for it, by the
   * JavaScript decoder into a buffer this block reuses.
   */
  start(src: Uint8Array, from: number, to: number, length: number, file: string, offset: number): this {
    this.src = src
    this.from = from
    this.ip = from
    this.to = to
    const arena = lz4Wasm.load(src, from, to, length)
    this.wasm = arena !== undefined
    this.out = arena ?? this.jsOutput(length)
    this.decoded = 0
    this.file = file
    this.offset = offset
    return this
  }

  /** The block's contents as far as decoded (a value found lies in them). */
  contents(): Buffer {
    return this.out
  }

  /**
   * Walks to the first entry >= (key, seq): true when there is one in this block with user key
   * `key` (then `kind` and the value are set; the value is decoded), false when there is none, or
   * the `Corruption` met on the way.
   */
  seek(key: string, seq: number): boolean | Corruption {
    const n = this.out.length
    // Entries lie before the restart array, which ends with the restart count.
    const entriesLimit = n - MIN_RESTART_ARRAY
    const klen = key.length
    let buf = this.keyBuf
    let keyLen = 0
    /** Bytes of the previous key equal to the target's. */
    let matched = 0
    let p = 0
    for (;;) {
      if (p > entriesLimit) return this.bad(`entries run into the restart array at ${p}`)
      const headerEnd = p + MAX_ENTRY_HEADER < n ? p + MAX_ENTRY_HEADER : n
      if (headerEnd > this.decoded) {
        const error = this.decodeTo(headerEnd)
        if (error !== undefined) return error
      }
      const d = this.out
      if (d[p] === 0 && d[p + 1] === 0) return false // the restart array: no entry >= the target here
      // The three lengths: one-byte varints in the common case, read inline.
      let shared: number
      let unshared: number
      let vlen: number
      let keyStart: number
      if (p + 3 <= headerEnd && (d[p]! | d[p + 1]! | d[p + 2]!) < 128) {
        shared = d[p]!
        unshared = d[p + 1]!
        vlen = d[p + 2]!
        keyStart = p + 3
      } else {
        shared = readLength(d, p, headerEnd)
        if (shared < 0) return this.bad(`bad entry header at ${p}`)
        unshared = readLength(d, varintEnd, headerEnd)
        if (unshared < 0) return this.bad(`bad entry header at ${p}`)
        vlen = readLength(d, varintEnd, headerEnd)
        if (vlen < 0) return this.bad(`bad entry header at ${p}`)
        keyStart = varintEnd
      }
      const valueStart = keyStart + unshared
      const next = valueStart + vlen
      if (shared > keyLen) return this.bad(`entry at ${p} shares more than the previous key`)
      if (next > entriesLimit) return this.bad(`entry at ${p} runs past the entries`)
      const length = shared + unshared
      if (length < KEY_TRAILER_SIZE) return this.bad(`key at ${p} is shorter than its trailer`)
      if (valueStart > this.decoded) {
        const error = this.decodeTo(valueStart)
        if (error !== undefined) return error
      }
      if (buf.length < length) {
        const grown = Buffer.allocUnsafe(Math.max(length, buf.length * 2))
        buf.copy(grown, 0, 0, keyLen)
        this.keyBuf = buf = grown
      }
      if (unshared <= 16) {
        for (let j = 0; j < unshared; j++) buf[shared + j] = d[keyStart + j]!
      } else d.copy(buf, shared, keyStart, valueStart)
      keyLen = length
      // Compare with the target. The previous key's first `matched` bytes are the target's, and
      // this key's first `shared` are the previous key's: the comparison starts after both.
      const ulen = length - KEY_TRAILER_SIZE
      const common = ulen < klen ? ulen : klen
      let i = shared < matched ? shared : matched
      while (i < common && buf[i] === key.charCodeAt(i)) i++
      matched = i
      let c = i < common ? buf[i]! - key.charCodeAt(i) : ulen - klen
      if (c === 0) {
        const s = readTrailerSeq(buf, ulen)
        c = s > seq ? -1 : s < seq ? 1 : 0
      }
      if (c >= 0) {
        if (ulen !== klen || i !== klen) return false
        if (!validTrailer(buf, ulen)) return this.bad(`key at ${p} has an invalid trailer`)
        if (next > this.decoded) {
          const error = this.decodeTo(next)
          if (error !== undefined) return error
        }
        this.kind = readTrailerKind(buf, ulen)
        this.valueOffset = valueStart
        this.valueLength = vlen
        return true
      }
      p = next
    }
  }

  /** Decodes at least up to `end` of the contents. */
  private decodeTo(end: number): Corruption | undefined {
    let decoded: number
    if (this.wasm) {
      decoded = lz4Wasm.decodeUntil(this.decoded, end)
      if (decoded < 0) return this.bad(this.damage(end))
    } else {
      decoded = decodeUntil(this.src, this.ip, this.to, this.out, this.decoded, end)
      if (decoded < 0) return this.bad(failure)
      this.ip = inputEnd
    }
    this.decoded = decoded
    if (decoded < end) return this.bad(`lz4: input ends after ${decoded} of ${this.out.length} bytes`)
    return undefined
  }

  /** What the JavaScript decoder finds wrong with the input the WebAssembly one rejected. */
  private damage(end: number): string {
    const out = this.jsOutput(this.out.length)
    return decodeUntil(this.src, this.from, this.to, out, 0, end) < 0 ? failure : "lz4: the WebAssembly decoder rejects the input"
  }

  /** The reused buffer the JavaScript decoder decodes into, `length` bytes of it. */
  private jsOutput(length: number): Buffer {
    this.own = grown(this.own, length)
    return this.own.subarray(0, length)
  }

  private bad(description: string): Corruption {
    return new Corruption({ file: this.file, offset: this.offset, description: `bad lz4 block: ${description}` })
  }
}
