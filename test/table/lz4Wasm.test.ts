/**
 * The WebAssembly LZ4 decoder (internal/table/codec/lz4Wasm.ts): its embedded bytes are what
 * lz4Decode.wat compiles to; it decodes what the JavaScript codec and lz4-napi write, whole or a
 * prefix at a time; damaged input is -1, never a trap; blocks too large for its arena go to the
 * JavaScript decoder.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { Buffer } from "node:buffer"
import { createRequire } from "node:module"
import { compileLz4Wat } from "../../scripts/build-lz4-wasm.js"
import { sealBlock, unsealBlock } from "../../src/internal/table/blockTrailer.js"
import * as lz4Block from "../../src/internal/table/codec/lz4Block.js"
import { WASM_BASE64 } from "../../src/internal/table/codec/lz4DecodeWasm.js"
import * as lz4Wasm from "../../src/internal/table/codec/lz4Wasm.js"
import { BLOCK_TRAILER_SIZE } from "../../src/internal/table/tableFormat.js"

const lz4Napi = createRequire(import.meta.url)("lz4-napi") as { compressSync: (b: Uint8Array) => Buffer }

const compressJs = (raw: Uint8Array): Buffer => {
  const out = Buffer.alloc(raw.length + (raw.length >> 7) + 64)
  return out.subarray(0, lz4Block.compress(raw, out))
}

/** Bytes with runs and repeats (so LZ4 finds long and short, near and overlapping matches). */
const rawArb = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.integer({ min: 1, max: 60 })).map(([b, n]) =>
        Buffer.concat(Array.from({ length: n }, () => b))
      )
    ),
    { maxLength: 60 }
  )
  .map((parts) => Buffer.concat(parts))

/** Decodes `payload` (of a `length`-byte block) in steps of `step` bytes of output. */
const decodeInSteps = (payload: Uint8Array, length: number, step: number): Buffer | number => {
  const view = lz4Wasm.load(payload, 0, payload.length, length)
  assert.isDefined(view)
  let decoded = 0
  while (decoded < length) {
    const next = lz4Wasm.decodeUntil(decoded, Math.min(length, decoded + step))
    if (next < 0) return next
    assert.isAtLeast(next, Math.min(length, decoded + step))
    decoded = next
  }
  assert.isTrue(lz4Wasm.inputDone())
  return Buffer.from(view!)
}

describe("WebAssembly LZ4 decoder", () => {
  it.effect("its embedded bytes are what lz4Decode.wat compiles to (npm run build:wasm)", () =>
    Effect.promise(async () => {
      assert.strictEqual(Buffer.from(await compileLz4Wat()).toString("base64"), WASM_BASE64)
    })
  )

  it.prop("decodes the JavaScript codec's and lz4-napi's output, whole or a prefix at a time", { raw: rawArb, step: fc.integer({ min: 1, max: 300 }) }, ({ raw, step }) => {
    if (raw.length === 0) return
    for (const payload of [compressJs(raw), lz4Napi.compressSync(raw).subarray(4)]) {
      assert.deepStrictEqual(decodeInSteps(payload, raw.length, raw.length), raw)
      assert.deepStrictEqual(decodeInSteps(payload, raw.length, step), raw)
    }
  })

  it.prop(
    "damaged input is -1 or a decoded prefix, never a trap, and the JavaScript decoder agrees it is damaged",
    { raw: rawArb, flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), cut: fc.nat({ max: 5 }) },
    ({ cut, flips, raw }) => {
      if (raw.length === 0) return
      const payload = Buffer.from(compressJs(raw))
      for (const [at, xor] of flips) payload[at % payload.length]! ^= xor
      const input = payload.subarray(0, Math.max(1, payload.length - cut))
      lz4Wasm.load(input, 0, input.length, raw.length)
      const end = lz4Wasm.decodeUntil(0, raw.length)
      assert.isAtMost(end, raw.length)
      const js = lz4Block.decompress(input, 0, input.length, Buffer.alloc(raw.length))
      if (end < 0 || end < raw.length || !lz4Wasm.inputDone()) assert.isDefined(js, "the JavaScript decoder finds it damaged too")
      else assert.isUndefined(js, "both decode it")
    }
  )

  it("a block larger than the arena is decoded in JavaScript", () => {
    const raw = Buffer.concat(Array.from({ length: 40_000 }, (_, i) => Buffer.from(`entry ${i % 977} `)))
    assert.isAbove(raw.length, lz4Wasm.MAX_ARENA_BLOCK)
    assert.isUndefined(lz4Wasm.load(compressJs(raw), 0, 10, raw.length))
    const sealed = sealBlock(raw, "lz4")
    assert.isBelow(sealed.length, raw.length / 2, "stored compressed")
    assert.deepStrictEqual(unsealBlock(sealed, sealed.length - BLOCK_TRAILER_SIZE, "000005.sst", 0), raw)
  })
})
