/**
 * Reused buffers for reading table blocks: what a fetch reads or decodes there is valid until the
 * next fetch that uses them. Allocating a 4 KiB Node buffer costs about 3 us on the development
 * machine, as much as decoding an LZ4 block.
 */
import { Buffer } from "node:buffer"

/**
 * Reused buffers: one blocks are read into (a block to be cached is copied out of it), one a
 * compressed block that is not cached is decoded into.
 */
export class Scratch {
  private bytes: Buffer = Buffer.alloc(0)
  private decoded: Buffer = Buffer.alloc(0)

  /** At least `length` bytes to read into; what an earlier fetch read there is overwritten. */
  take(length: number): Buffer {
    this.bytes = grown(this.bytes, length)
    return this.bytes
  }

  /** At least `length` bytes to decode into; what an earlier fetch decoded there is overwritten. */
  takeDecoded(length: number): Buffer {
    this.decoded = grown(this.decoded, length)
    return this.decoded
  }
}

/**
 * `bytes`, or, when it holds fewer than `length`, a new buffer of at least `length` (twice the old
 * one, 8 KiB at least: never a slice of Node's shared pool). What `bytes` held is not kept.
 */
export const grown = (bytes: Buffer, length: number): Buffer =>
  bytes.length >= length ? bytes : Buffer.allocUnsafe(Math.max(length, bytes.length * 2, 8192))
