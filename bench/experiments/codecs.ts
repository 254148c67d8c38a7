/**
 * An experiment (not the engine): the block codecs issue 14 compares, on the benchmark's own data
 * blocks. Blocks are built by the table's `BlockBuilder` (4 KiB target, restart interval 16) from
 * consecutive db_bench keys (a table of a loaded database holds every key of its range), and values (100 bytes: 50 pseudo-random
 * printable bytes twice, compressing to about half as db_bench's do). Each codec compresses and
 * decompresses every block one call at a time, as the table writer and the read path do.
 *
 * Reported per codec: ratio (compressed / raw bytes), compress MB/s (the flush and compaction
 * worker pays it) and decompress MB/s (the read path pays it on every block-cache miss), each
 * the median of 7 rounds over 2000 blocks (about 8 MiB), raw MB per second of CPU.
 *
 * Candidates: Node's zlib (deflate-raw at level 1, no dependency), brotli quality 1 (Node), the
 * native `snappy` and `lz4-napi` bindings (napi-rs, prebuilt binaries) and the pure-JS `snappyjs`
 * when installed (`npm install --no-save snappy lz4-napi snappyjs`), and stratadb's own LZ4 block
 * codec (src/internal/table/codec/lz4Block.ts, plain JavaScript).
 *
 * Run: `node --import tsx bench/experiments/codecs.ts`
 */
import { createRequire } from "node:module"
import * as zlib from "node:zlib"
import { BlockBuilder } from "../../src/internal/table/blockBuilder.js"
import * as lz4Block from "../../src/internal/table/codec/lz4Block.js"
import { KIND_PUT } from "../../src/internal/key/internalKey.js"
import { dbKey, fillDbValue } from "../keys.js"

const require = createRequire(import.meta.url)
const optional = (name: string): any => {
  try {
    return require(name)
  } catch {
    return undefined
  }
}

const BLOCKS = 2000
const ROUNDS = 7

const makeBlocks = (): Array<Buffer> => {
  const blocks: Array<Buffer> = []
  const value = Buffer.allocUnsafe(100)
  let next = 0
  for (let b = 0; b < BLOCKS; b++) {
    const builder = new BlockBuilder(16)
    while (builder.currentSizeEstimate < 4096) {
      const k = next++
      builder.add(dbKey(k).toString("latin1"), k + 1, KIND_PUT, fillDbValue(k, 0, value))
    }
    blocks.push(Buffer.from(builder.finish()))
  }
  return blocks
}

interface Codec {
  readonly name: string
  readonly compress: (raw: Buffer) => Uint8Array
  readonly decompress: (stored: Uint8Array, rawLength: number) => Uint8Array
}

const lz4Out = Buffer.allocUnsafe(1 << 16)
const codecs: Array<Codec> = [
  {
    name: "zlib deflate-raw L1 (node)",
    compress: (raw) => zlib.deflateRawSync(raw, { level: 1 }),
    decompress: (stored) => zlib.inflateRawSync(stored)
  },
  {
    name: "brotli q1 (node)",
    compress: (raw) =>
      zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
    decompress: (stored) => zlib.brotliDecompressSync(stored)
  },
  {
    name: "lz4 block (stratadb, pure JS)",
    compress: (raw) => {
      const n = lz4Block.compress(raw, lz4Out)
      return Buffer.from(lz4Out.subarray(0, n))
    },
    decompress: (stored, rawLength) => {
      const out = Buffer.allocUnsafe(rawLength)
      const error = lz4Block.decompress(stored, 0, stored.length, out)
      if (error !== undefined) throw new Error(error)
      return out
    }
  }
]
const snappy = optional("snappy")
if (snappy !== undefined) {
  codecs.push({
    name: "snappy (native, napi-rs)",
    compress: (raw) => snappy.compressSync(raw),
    decompress: (stored) => snappy.uncompressSync(stored)
  })
}
const lz4napi = optional("lz4-napi")
if (lz4napi !== undefined) {
  codecs.push({
    name: "lz4 (native lz4-napi)",
    compress: (raw) => lz4napi.compressSync(raw),
    decompress: (stored) => lz4napi.uncompressSync(stored)
  })
}
const snappyjs = optional("snappyjs")
if (snappyjs !== undefined) {
  codecs.push({
    name: "snappyjs (pure JS)",
    compress: (raw) => snappyjs.compress(raw),
    decompress: (stored) => snappyjs.uncompress(stored)
  })
}

const median = (xs: Array<number>) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!

const blocks = makeBlocks()
const rawBytes = blocks.reduce((s, b) => s + b.length, 0)
console.log(`${blocks.length} blocks, ${(rawBytes / 1048576).toFixed(1)} MiB raw, mean ${(rawBytes / blocks.length).toFixed(0)} B/block`)
console.log("codec | ratio | compress MB/s | decompress MB/s | decompress us/block")
for (const codec of codecs) {
  const stored = blocks.map((b) => codec.compress(b))
  const storedBytes = stored.reduce((s, b) => s + b.length, 0)
  for (let i = 0; i < blocks.length; i++) {
    if (Buffer.compare(Buffer.from(codec.decompress(stored[i]!, blocks[i]!.length)), blocks[i]!) !== 0) {
      throw new Error(`${codec.name}: block ${i} does not round-trip`)
    }
  }
  const c: Array<number> = []
  const d: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now()
    for (const b of blocks) codec.compress(b)
    c.push(performance.now() - t)
    t = performance.now()
    for (let i = 0; i < blocks.length; i++) codec.decompress(stored[i]!, blocks[i]!.length)
    d.push(performance.now() - t)
  }
  const mbs = (ms: number) => (rawBytes / 1e6 / (ms / 1000)).toFixed(0)
  console.log(
    `${codec.name} | ${(storedBytes / rawBytes).toFixed(3)} | ${mbs(median(c))} | ${mbs(median(d))} | ${((median(d) * 1000) / blocks.length).toFixed(2)}`
  )
}
