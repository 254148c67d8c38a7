/**
 * Block compression (doc/table_format.md, "Compressed blocks"): the codecs a table block may be
 * stored with, by block type, and the rule that keeps a block raw when compressing does not save
 * at least an eighth of it (LevelDB's).
 *
 * A compressed block's stored contents are its uncompressed length (u32 little-endian) followed
 * by the codec's output:
 * - `lz4` (type 4): an LZ4 block. Written by the native `lz4-napi` binding when it is installed
 *   (an optional dependency: its output is exactly this layout; it compresses 2.3x faster, in the
 *   background), else by stratadb's plain-JavaScript codec (codec/lz4Block.ts); read by
 *   stratadb's WebAssembly decoder (codec/lz4Wasm.ts: 5x the JavaScript decoder, 3x lz4-napi's,
 *   which pays a native call and a new buffer per block), or the JavaScript one for a block too
 *   large for its arena. The same bytes either way, so an LZ4 table opens everywhere.
 * - `zlib` (type 2): a raw deflate stream (Node's zlib, level 1): the best ratio, and the slowest
 *   to read back.
 * - `snappy` (type 1): a raw Snappy stream, through the native `snappy` binding only (an optional
 *   dependency). Without it a table holding Snappy blocks still opens; reading such a block fails
 *   with `NotSupported` naming the package, and choosing `compression: "snappy"` is refused at open.
 *
 * Which codecs, and why these: bench/experiments/codecs.ts measures them on the benchmark's blocks.
 */
import { Buffer } from "node:buffer"
import { createRequire } from "node:module"
import * as zlib from "node:zlib"
import { Corruption, NotSupported } from "../../errors.js"
import * as lz4Block from "./codec/lz4Block.js"
import * as lz4Wasm from "./codec/lz4Wasm.js"
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_LZ4,
  BLOCK_TYPE_SNAPPY,
  BLOCK_TYPE_UNCOMPRESSED,
  BLOCK_TYPE_ZLIB,
  COMPRESSED_LENGTH_SIZE,
  MAX_UNCOMPRESSED_BLOCK
} from "./tableFormat.js"

import type { Compression } from "../../Options.js"

export type { Compression }

/** The optional native packages, by codec. */
const NATIVE_PACKAGE = { lz4: "lz4-napi", snappy: "snappy" } as const

interface NativeLz4 {
  readonly compressSync: (data: Uint8Array) => Buffer
}
interface NativeSnappy {
  readonly compressSync: (data: Uint8Array) => Buffer
  readonly uncompressSync: (data: Uint8Array, options?: { asBuffer?: boolean }) => Buffer | string
}

const require = createRequire(import.meta.url)

/** Loaded native modules (null: not installed or failed to load). */
const natives = new Map<string, unknown>()

const native = <A>(pkg: string): A | undefined => {
  let module = natives.get(pkg)
  if (module === undefined) {
    try {
      module = require(pkg) as unknown
    } catch {
      module = null
    }
    natives.set(pkg, module)
  }
  return module === null ? undefined : (module as A)
}

/**
 * For tests: makes the native package `pkg` look absent (`null`) or present as `module`, or, with
 * `undefined`, loads it for real again.
 */
export const setNativeForTesting = (pkg: "lz4-napi" | "snappy", module: unknown): void => {
  if (module === undefined) natives.delete(pkg)
  else natives.set(pkg, module)
}

/** Whether blocks of `compression` can be written here; else why not (for `InvalidArgument`). */
export const unavailable = (compression: Compression): string | undefined =>
  compression === "snappy" && native<NativeSnappy>(NATIVE_PACKAGE.snappy) === undefined
    ? `compression "snappy" needs the optional package "snappy" (npm install snappy), which is not installed here`
    : undefined

/** The block type of each compression. */
export const TYPE_OF: Record<Compression, number> = {
  none: BLOCK_TYPE_UNCOMPRESSED,
  snappy: BLOCK_TYPE_SNAPPY,
  zlib: BLOCK_TYPE_ZLIB,
  lz4: BLOCK_TYPE_LZ4
}

/** The compression of each block type (`TYPE_OF` inverted); absent for a type no version writes. */
const TYPE_NAMES: Partial<Record<number, Compression>> = Object.fromEntries(
  Object.entries(TYPE_OF).map(([compression, type]) => [type, compression as Compression])
)

/**
 * The most stored bytes a compressed block of `n` raw bytes may take: less than `n - n/8`
 * (LevelDB's rule), length prefix included.
 */
const keepLimit = (n: number): number => n - Math.floor(n / 8) - 1

/** Seals `stored` (the contents, `storedLength` of them already written at 0) with `type`'s trailer. */
type Trailer = (out: Buffer, storedLength: number, type: number) => Buffer

/** Where the plain-JS LZ4 compressor writes (one table is built at a time per thread). */
let lz4Scratch = Buffer.allocUnsafe(0)

/**
 * `contents` compressed with `compression` and sealed by `trailer`, or undefined when the codec
 * does not save an eighth (the caller stores the block raw).
 */
export const compressBlock = (contents: Uint8Array, compression: Compression, trailer: Trailer): Buffer | undefined => {
  const n = contents.byteLength
  if (n === 0 || n > MAX_UNCOMPRESSED_BLOCK) return undefined
  const limit = keepLimit(n)
  if (limit <= COMPRESSED_LENGTH_SIZE) return undefined
  const type = TYPE_OF[compression]
  switch (compression) {
    case "none":
      return undefined
    case "lz4": {
      const lz4 = native<NativeLz4>(NATIVE_PACKAGE.lz4)
      if (lz4 !== undefined) return sealCopy(lz4.compressSync(contents), limit, type, trailer, false)
      // The payload may take what the length prefix leaves of the limit; past it, the codec stops.
      const room = limit - COMPRESSED_LENGTH_SIZE
      if (lz4Scratch.length < room) lz4Scratch = Buffer.allocUnsafe(Math.max(room, 2 * lz4Scratch.length))
      const payload = lz4Block.compress(contents, lz4Scratch.subarray(0, room))
      return payload < 0 ? undefined : sealCopy(lz4Scratch.subarray(0, payload), limit, type, trailer, true, n)
    }
    case "zlib":
      return sealCopy(zlib.deflateRawSync(contents, { level: 1 }), limit, type, trailer, true, n)
    case "snappy": {
      const snappy = native<NativeSnappy>(NATIVE_PACKAGE.snappy)
      if (snappy === undefined) throw new Error(unavailable("snappy"))
      return sealCopy(snappy.compressSync(contents), limit, type, trailer, true, n)
    }
  }
}

/** Copies a codec's output into a sealed block: after a length prefix when `prefix` (else it has one). */
const sealCopy = (payload: Uint8Array, limit: number, type: number, trailer: Trailer, prefix: boolean, n = 0): Buffer | undefined => {
  const stored = payload.byteLength + (prefix ? COMPRESSED_LENGTH_SIZE : 0)
  if (stored > limit) return undefined
  const out = Buffer.allocUnsafe(stored + BLOCK_TRAILER_SIZE)
  if (prefix) {
    out.writeUInt32LE(n, 0)
    out.set(payload, COMPRESSED_LENGTH_SIZE)
  } else out.set(payload, 0)
  return trailer(out, stored, type)
}

/**
 * The contents of a block stored with `type` (checksum already verified): a new buffer (for LZ4, a
 * view of `into` when given and long enough), or the `Corruption` (named by `file` and `offset`)
 * when the stored bytes do not decode to their recorded length, or `NotSupported` when the codec
 * is not installed.
 */
export const decompressBlock = (
  stored: Buffer,
  type: number,
  file: string,
  offset: number,
  into?: Buffer
): Buffer | Corruption | NotSupported => {
  const compression = TYPE_NAMES[type]
  if (compression === undefined || compression === "none") {
    return new Corruption({ file, offset, description: `unknown block type ${type}` })
  }
  const bad = (what: string) => new Corruption({ file, offset, description: `bad ${compression} block: ${what}` })
  if (stored.byteLength < COMPRESSED_LENGTH_SIZE) return bad("shorter than its length prefix")
  const n = stored.readUInt32LE(0)
  if (n > MAX_UNCOMPRESSED_BLOCK) return bad(`uncompressed length ${n} is over ${MAX_UNCOMPRESSED_BLOCK}`)
  const payload = stored.subarray(COMPRESSED_LENGTH_SIZE)
  let out: Buffer
  try {
    switch (compression) {
      case "lz4": {
        // Never the native codec (see the module comment): WebAssembly, else JavaScript.
        out = into !== undefined && into.length >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n)
        const arena = lz4Wasm.load(payload, 0, payload.byteLength, n)
        if (arena !== undefined && lz4Wasm.decodeUntil(0, n) === n && lz4Wasm.inputDone()) {
          out.set(arena)
          return out
        }
        // Too large for the arena, or damaged: the JavaScript decoder says what is wrong.
        const error = lz4Block.decompress(payload, 0, payload.byteLength, out)
        if (error !== undefined) return bad(error)
        return out
      }
      case "zlib":
        out = zlib.inflateRawSync(payload, { maxOutputLength: Math.max(n, 1) })
        break
      case "snappy": {
        const snappy = native<NativeSnappy>(NATIVE_PACKAGE.snappy)
        if (snappy === undefined) {
          return new NotSupported({
            method: `read ${file} at ${offset}`,
            description: `the block is compressed with snappy, and the optional package "snappy" is not installed (npm install snappy)`
          })
        }
        out = snappy.uncompressSync(payload, { asBuffer: true }) as Buffer
        break
      }
    }
  } catch (error) {
    return bad(error instanceof Error ? error.message : String(error))
  }
  if (out.byteLength !== n) return bad(`decoded ${out.byteLength} bytes, its prefix says ${n}`)
  return out
}
