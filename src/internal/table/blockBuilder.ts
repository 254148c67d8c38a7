/**
 * Builds one block in the format of doc/table_format.md ("the block format"): entries
 * `shared | unshared | value length | key delta | value` with the internal key (user key + 8-byte
 * trailer) prefix-compressed against the previous one, a full key every `restartInterval`
 * entries, and the restart array at the end. Entries must be added in internal-key order (the
 * table builder checks it).
 */
import { Buffer } from "node:buffer"
import type { Kind } from "../key/internalKey.js"
import { writeKeyTrailer } from "./keyTrailer.js"
import { putVarint } from "./tableCoding.js"
import { KEY_TRAILER_SIZE } from "./tableFormat.js"

const grow = (buf: Buffer, used: number, needed: number): Buffer => {
  let size = buf.length * 2
  while (size < needed) size *= 2
  const out = Buffer.allocUnsafe(size)
  buf.copy(out, 0, 0, used)
  return out
}

export class BlockBuilder {
  private buf: Buffer
  private pos = 0
  private restarts: Array<number> = []
  private counter = 0
  private count = 0
  /** The previous entry's internal key bytes, and a scratch buffer for the next one (swapped). */
  private last: Buffer = Buffer.allocUnsafe(64)
  private lastLen = 0
  private next: Buffer = Buffer.allocUnsafe(64)

  constructor(
    readonly restartInterval: number,
    initialCapacity = 4096
  ) {
    if (!(restartInterval >= 1)) throw new RangeError(`restartInterval must be >= 1, got ${restartInterval}`)
    this.buf = Buffer.allocUnsafe(Math.max(64, initialCapacity))
  }

  /** Entries added since the last reset. */
  get entries(): number {
    return this.count
  }

  get empty(): boolean {
    return this.count === 0
  }

  /** Bytes `finish()` would return now: entries, restart array and its length. */
  get currentSizeEstimate(): number {
    return this.pos + 4 * this.restarts.length + 4
  }

  add(userKey: string, seq: number, kind: Kind, value: Uint8Array): void {
    const ulen = userKey.length
    const klen = ulen + KEY_TRAILER_SIZE
    if (this.next.length < klen) this.next = Buffer.allocUnsafe(Math.max(klen, this.next.length * 2))
    const key = this.next
    key.latin1Write(userKey, 0, ulen)
    writeKeyTrailer(key, ulen, seq, kind)

    let shared = 0
    if (this.count === 0 || this.counter >= this.restartInterval) {
      this.restarts.push(this.pos)
      this.counter = 0
    } else {
      const last = this.last
      const min = this.lastLen < klen ? this.lastLen : klen
      while (shared < min && last[shared] === key[shared]) shared++
    }
    const unshared = klen - shared
    const vlen = value.byteLength
    const needed = this.pos + 15 + unshared + vlen
    if (needed > this.buf.length) this.buf = grow(this.buf, this.pos, needed)
    const buf = this.buf
    let pos = this.pos
    if (shared < 128) buf[pos++] = shared
    else pos = putVarint(buf, pos, shared)
    if (unshared < 128) buf[pos++] = unshared
    else pos = putVarint(buf, pos, unshared)
    if (vlen < 128) buf[pos++] = vlen
    else pos = putVarint(buf, pos, vlen)
    if (unshared <= 16) {
      for (let i = shared; i < klen; i++) buf[pos++] = key[i]!
    } else {
      key.copy(buf, pos, shared, klen)
      pos += unshared
    }
    if (vlen > 0) {
      buf.set(value, pos)
      pos += vlen
    }
    this.pos = pos

    this.next = this.last
    this.last = key
    this.lastLen = klen
    this.counter++
    this.count++
  }

  /**
   * Appends the restart array and returns the block contents: a view of the builder's buffer,
   * valid until the next `reset` (copy or write it out before).
   */
  finish(): Buffer {
    const needed = this.pos + 4 * this.restarts.length + 4
    if (needed > this.buf.length) this.buf = grow(this.buf, this.pos, needed)
    let pos = this.pos
    for (const r of this.restarts) {
      this.buf.writeUInt32LE(r, pos)
      pos += 4
    }
    this.buf.writeUInt32LE(this.restarts.length, pos)
    pos += 4
    return this.buf.subarray(0, pos)
  }

  /** Starts a new, empty block (the buffer is reused). */
  reset(): void {
    this.pos = 0
    this.restarts.length = 0
    this.counter = 0
    this.count = 0
    this.lastLen = 0
  }
}
