/**
 * Block compression (doc/table_format.md, "Compressed blocks"): each codec round-trips through the
 * block trailer, a block that does not save an eighth is stored raw, LZ4's JavaScript and native
 * codecs read each other's blocks, damaged compressed contents are `Corruption` (never a throw or
 * a wrong length), a missing native codec is `NotSupported` naming its package, and the options
 * (`compression`, `compressionPerLevel`) reach the tables of each level.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck, Option } from "effect"
import { Buffer } from "node:buffer"
import { createRequire } from "node:module"
import * as zlib from "node:zlib"
import { Corruption, InvalidArgument, NotSupported } from "../../src/errors.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { type Compression, resolve } from "../../src/Options.js"
import { KIND_PUT } from "../../src/internal/key/internalKey.js"
import { BlockBuilder } from "../../src/internal/table/blockBuilder.js"
import { sealBlock, unsealBlock } from "../../src/internal/table/blockTrailer.js"
import * as lz4Block from "../../src/internal/table/codec/lz4Block.js"
import { setNativeForTesting, TYPE_OF } from "../../src/internal/table/compression.js"
import { maskedCrc32 } from "../../src/internal/table/tableCoding.js"
import { BLOCK_TRAILER_SIZE, BLOCK_TYPE_UNCOMPRESSED } from "../../src/internal/table/tableFormat.js"
import { text, withDb } from "../support.js"

const require = createRequire(import.meta.url)
const installed = (pkg: string) => {
  try {
    require(pkg)
    return true
  } catch {
    return false
  }
}
const HAS_LZ4_NAPI = installed("lz4-napi")
const HAS_SNAPPY = installed("snappy")

/** A data block as the table writes them: db_bench-like keys and half-compressible values. */
const dataBlock = (seed: number, size = 4096): Buffer => {
  const b = new BlockBuilder(16)
  for (let i = 0; b.currentSizeEstimate < size; i++) {
    const half = Buffer.from(Array.from({ length: 50 }, (_, j) => 32 + ((seed * 7919 + i * 131 + j * 31) % 95)))
    b.add(`key${String(seed * 1000 + i).padStart(12, "0")}`, i + 1, KIND_PUT, Buffer.concat([half, half]))
  }
  return Buffer.from(b.finish())
}

/** What the codec itself makes of `block` (no length prefix, no rule). */
const codecOutputSize = (compression: Compression, block: Buffer): number => {
  switch (compression) {
    case "lz4":
      return lz4Block.compress(block, Buffer.allocUnsafe(2 * block.length + 64))
    case "zlib":
      return zlib.deflateRawSync(block, { level: 1 }).length
    case "snappy":
      return require("snappy").compressSync(block).length
    case "none":
      return block.length
  }
}

const typeOf = (sealed: Buffer) => sealed[sealed.length - BLOCK_TRAILER_SIZE]!
const sizeOf = (sealed: Buffer) => sealed.length - BLOCK_TRAILER_SIZE

/** Re-seals `stored` (as it would be stored) under its type with a valid checksum. */
const reseal = (stored: Buffer, type: number): Buffer => {
  const out = Buffer.allocUnsafe(stored.length + BLOCK_TRAILER_SIZE)
  stored.copy(out)
  out[stored.length] = type
  out.writeUInt32LE(maskedCrc32(out.subarray(0, stored.length + 1)), stored.length + 1)
  return out
}

/** Runs `f` with the native package looking absent, then restores it. */
const without = <A>(pkg: "lz4-napi" | "snappy", f: () => A): A => {
  setNativeForTesting(pkg, null)
  try {
    return f()
  } finally {
    setNativeForTesting(pkg, undefined)
  }
}

const CODECS: ReadonlyArray<{ name: string; compression: Compression; run: <A>(f: () => A) => A; available: boolean }> = [
  { name: "lz4 (JavaScript)", compression: "lz4", run: (f) => without("lz4-napi", f), available: true },
  { name: "lz4 (lz4-napi)", compression: "lz4", run: (f) => f(), available: HAS_LZ4_NAPI },
  { name: "zlib", compression: "zlib", run: (f) => f(), available: true },
  { name: "snappy", compression: "snappy", run: (f) => f(), available: HAS_SNAPPY }
]

describe("block compression", () => {
  it("the optional native codecs are installed here (CI runs every case below)", () => {
    // npm ci installs optionalDependencies; their absence would skip the native cases silently.
    assert.isTrue(HAS_LZ4_NAPI, "lz4-napi")
    assert.isTrue(HAS_SNAPPY, "snappy")
  })

  for (const codec of CODECS) {
    describe(codec.name, () => {
      it.runIf(codec.available)("round-trips data blocks, stored compressed with its type", () =>
        codec.run(() => {
          for (let seed = 0; seed < 20; seed++) {
            const block = dataBlock(seed, 256 + seed * 500)
            const sealed = sealBlock(block, codec.compression)
            assert.strictEqual(typeOf(sealed), TYPE_OF[codec.compression])
            assert.isBelow(sizeOf(sealed), block.length - block.length / 8)
            const back = unsealBlock(sealed, sizeOf(sealed), "t.sst", 0)
            assert.instanceOf(back, Buffer)
            assert.isTrue(Buffer.from(back as Buffer).equals(block))
          }
        }))

      it.runIf(codec.available)("stores raw a block that does not shrink by an eighth", () =>
        codec.run(() => {
          const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24 ^ (i * 40503) & 0xff))
          // Saves about a tenth: under the eighth the rule asks for.
          const tenth = Buffer.concat([random.subarray(0, 3700), random.subarray(0, 400)])
          const saved = 1 - codecOutputSize(codec.compression, tenth) / tenth.length
          assert.isTrue(saved > 0.02 && saved < 0.125, `the codec saves ${saved}`)
          for (const block of [random, tenth, Buffer.alloc(0), Buffer.from("x")]) {
            const sealed = sealBlock(block, codec.compression)
            assert.strictEqual(typeOf(sealed), BLOCK_TYPE_UNCOMPRESSED)
            assert.strictEqual(sizeOf(sealed), block.length)
            assert.isTrue(Buffer.from(unsealBlock(sealed, block.length, "t.sst", 0) as Buffer).equals(block))
          }
        }))

      it.runIf(codec.available)("damaged contents under a valid checksum are Corruption naming file and offset, never a throw", () =>
        codec.run(() => {
          const sealed = sealBlock(dataBlock(3), codec.compression)
          const stored = sealed.subarray(0, sizeOf(sealed))
          const type = typeOf(sealed)
          const rawLength = stored.readUInt32LE(0)
          const check = (damaged: Buffer) => {
            const out = unsealBlock(reseal(damaged, type), damaged.length, "000042.sst", 1234)
            if (out instanceof Corruption) {
              assert.strictEqual(out.file, "000042.sst")
              assert.strictEqual(out.offset, 1234)
              return "corruption"
            }
            // A change the codec cannot see (a literal byte): the length still holds.
            assert.instanceOf(out, Buffer)
            assert.strictEqual((out as Buffer).length, rawLength)
            return "decoded"
          }
          // Cut short, a wrong recorded length, zeroed payload: each is Corruption.
          assert.strictEqual(check(stored.subarray(0, stored.length - 3)), "corruption")
          assert.strictEqual(check(stored.subarray(0, 2)), "corruption")
          const longer = Buffer.from(stored)
          longer.writeUInt32LE(rawLength + 1, 0)
          assert.strictEqual(check(longer), "corruption")
          const huge = Buffer.from(stored)
          huge.writeUInt32LE(0xffffffff, 0)
          assert.strictEqual(check(huge), "corruption")
          FastCheck.assert(
            FastCheck.property(FastCheck.array(FastCheck.tuple(FastCheck.nat(), FastCheck.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
              const damaged = Buffer.from(stored)
              for (const [at, byte] of edits) damaged[4 + (at % (damaged.length - 4))] = byte
              check(damaged)
            }),
            { numRuns: 300 }
          )
        }))
    })
  }

  it.runIf(HAS_LZ4_NAPI)("LZ4 blocks are the same format written by JavaScript and by lz4-napi", () => {
    for (let seed = 0; seed < 10; seed++) {
      const block = dataBlock(seed)
      const byJs = without("lz4-napi", () => sealBlock(block, "lz4"))
      const byNative = sealBlock(block, "lz4")
      // The stored contents (length prefix, then the LZ4 block) are lz4-napi's own layout.
      const napi = require("lz4-napi") as { uncompressSync: (data: Uint8Array) => Buffer }
      assert.isTrue(napi.uncompressSync(byJs.subarray(0, sizeOf(byJs))).equals(block), "native reads JS")
      const read = unsealBlock(byNative, sizeOf(byNative), "t", 0)
      assert.isTrue(Buffer.from(read as Buffer).equals(block), "JS reads native")
    }
  })

  it("the LZ4 decoder never reads or writes out of bounds on arbitrary input", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.uint8Array({ maxLength: 300 }), FastCheck.integer({ min: 0, max: 2000 }), (input, length) => {
        const out = new Uint8Array(length)
        const error = lz4Block.decompress(input, 0, input.length, out)
        assert.isTrue(error === undefined || typeof error === "string")
      }),
      { numRuns: 2000 }
    )
  })

  it.runIf(HAS_SNAPPY)("a missing native codec: NotSupported naming the package when read, InvalidArgument when chosen", () =>
    Effect.gen(function* () {
      const sealed = sealBlock(dataBlock(1), "snappy")
      const read = without("snappy", () => unsealBlock(sealed, sizeOf(sealed), "000009.sst", 77))
      assert.instanceOf(read, NotSupported)
      assert.include((read as NotSupported).message, `"snappy"`)
      assert.include((read as NotSupported).message, "000009.sst")
      setNativeForTesting("snappy", null)
      const chosen = yield* Effect.either(resolve({ directory: "/x", compressionPerLevel: ["none", "snappy"] }))
      setNativeForTesting("snappy", undefined)
      assert.isTrue(Either.isLeft(chosen))
      const error = (chosen as Either.Left<InvalidArgument, unknown>).left
      assert.instanceOf(error, InvalidArgument)
      assert.include(error.message, "compressionPerLevel.1")
      assert.include(error.message, "npm install snappy")
    }))

  it.runIf(HAS_SNAPPY)("a database whose tables need a missing codec opens; reads of those tables fail with NotSupported", () =>
    Effect.gen(function* () {
      const directory = "/snappy"
      const value = (i: number) => `value ${i} ${"abcdefghij".repeat(10)}`
      yield* withDb({ directory, compression: "snappy" }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 500; i++) yield* db.put(`k${String(i).padStart(4, "0")}`, value(i))
          yield* db.flush
        }))
      setNativeForTesting("snappy", null)
      yield* withDb({ directory }, (db) =>
        Effect.gen(function* () {
          yield* db.put("later", "in the memtable")
          assert.strictEqual(text(Option.getOrThrow(yield* db.get("later"))), "in the memtable")
          const failed = yield* Effect.flip(db.get("k0007"))
          assert.strictEqual(failed._tag, "stratadb/NotSupported")
          assert.include(failed.message, "npm install snappy")
        })).pipe(Effect.ensuring(Effect.sync(() => setNativeForTesting("snappy", undefined))))
      yield* withDb({ directory }, (db) =>
        Effect.map(db.get("k0007"), (v) => assert.strictEqual(text(Option.getOrThrow(v)), value(7))))
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("compressionPerLevel: raw L0 tables, zlib below; stats report stored and raw bytes per level; the cache holds blocks decompressed", () =>
    Effect.gen(function* () {
      const directory = "/perlevel"
      const value = (i: number) => `value ${i} ${"the quick brown fox ".repeat(4)}`
      yield* withDb({ directory, compressionPerLevel: ["none", "zlib"], blockCacheSize: 1 << 24 }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 3000; i++) yield* db.put(`k${String(i).padStart(5, "0")}`, value(i))
          yield* db.flush
          const flushed = yield* db.stats
          assert.isAbove(flushed.levels[0]!.tables, 0)
          assert.strictEqual(flushed.levels[0]!.bytes, flushed.levels[0]!.rawBytes, "L0 is stored raw")
          yield* db.compactRange()
          const compacted = yield* db.stats
          assert.strictEqual(compacted.levels[0]!.tables, 0)
          const deeper = compacted.levels.slice(1)
          const bytes = deeper.reduce((s, l) => s + l.bytes, 0)
          const raw = deeper.reduce((s, l) => s + l.rawBytes, 0)
          assert.isBelow(bytes, raw * 0.6, `zlib below L0: ${bytes} of ${raw} raw bytes`)
          for (let i = 0; i < 3000; i += 97) {
            assert.strictEqual(text(Option.getOrThrow(yield* db.get(`k${String(i).padStart(5, "0")}`))), value(i))
          }
          // A scan fills the cache with every block: what it holds is the blocks decompressed.
          yield* db.cursor().pipe(Effect.flatMap((c) => c.next(100_000)), Effect.scoped)
          const cached = (yield* db.stats).blockCache.usage
          assert.isAbove(cached, bytes, `cache ${cached} bytes > ${bytes} stored`)
        }))
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
})
