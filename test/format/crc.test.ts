import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { crc32 as zlibCrc32 } from "node:zlib"
import {
  crc32,
  crc32Js,
  crc32Range,
  maskCrc,
  maskedCrcOfTyped,
  NATIVE_THRESHOLD,
  unmaskCrc
} from "../../src/internal/format/crc.js"

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Bit-at-a-time CRC-32 (reflected 0xEDB88320), independent of both implementations. */
const bitwiseCrc32 = (data: Uint8Array): number => {
  let c = 0xffffffff
  for (const byte of data) {
    c ^= byte
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}

const randomBytes = (n: number, seed: number): Uint8Array => {
  const out = new Uint8Array(n)
  let x = seed | 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x
  }
  return out
}

describe("crc32", () => {
  it("matches the standard check value: crc32('123456789') = 0xCBF43926", () => {
    const check = ascii("123456789")
    assert.strictEqual(crc32(check), 0xcbf43926)
    assert.strictEqual(crc32Js(check), 0xcbf43926)
    assert.strictEqual(bitwiseCrc32(check), 0xcbf43926)
    // Long input on the native path: the check string repeated past the threshold.
    const long = new Uint8Array(9 * 50)
    for (let i = 0; i < 50; i++) long.set(check, i * 9)
    assert.isAtLeast(long.length, NATIVE_THRESHOLD)
    assert.strictEqual(crc32(long), bitwiseCrc32(long))
  })

  it("the empty input has CRC 0", () => {
    assert.strictEqual(crc32(new Uint8Array(0)), 0)
  })

  it("JavaScript and native paths agree with a bitwise reference on every length to 600", () => {
    const data = randomBytes(600, 7)
    for (let n = 0; n <= 600; n++) {
      const slice = data.subarray(0, n)
      const expected = bitwiseCrc32(slice)
      assert.strictEqual(crc32Js(slice), expected, `js at ${n}`)
      assert.strictEqual(zlibCrc32(slice), expected, `zlib at ${n}`)
      assert.strictEqual(crc32(slice), expected, `crc32 at ${n}`)
    }
  })

  it.prop(
    "continues from an initial CRC: crc32(b, crc32(a)) = crc32(a ++ b)",
    [FastCheck.uint8Array({ maxLength: 400 }), FastCheck.uint8Array({ maxLength: 400 })],
    ([a, b]) => {
      const ab = new Uint8Array(a.length + b.length)
      ab.set(a)
      ab.set(b, a.length)
      const expected = bitwiseCrc32(ab)
      assert.strictEqual(crc32(b, crc32(a)), expected)
      assert.strictEqual(crc32Js(b, crc32Js(a)), expected)
    }
  )

  it.prop(
    "crc32Range is the CRC of the range",
    [FastCheck.uint8Array({ minLength: 1, maxLength: 700 }), FastCheck.nat(), FastCheck.nat()],
    ([data, x, y]) => {
      const start = x % data.length
      const end = start + (y % (data.length - start + 1))
      assert.strictEqual(crc32Range(data, start, end), bitwiseCrc32(data.subarray(start, end)))
    }
  )
})

describe("masking", () => {
  it("matches hand-computed values", () => {
    // mask(c) = rotate-right(c, 15) + 0xa282ead8
    assert.strictEqual(maskCrc(0), 0xa282ead8)
    assert.strictEqual(maskCrc(1), (0x20000 + 0xa282ead8) >>> 0)
    assert.strictEqual(maskCrc(0x8000), (1 + 0xa282ead8) >>> 0)
    assert.strictEqual(maskCrc(0xffffffff), (0xffffffff + 0xa282ead8) >>> 0)
  })

  it("masking changes a CRC, and masking twice too", () => {
    const c = crc32(ascii("123456789"))
    assert.notStrictEqual(maskCrc(c), c)
    assert.notStrictEqual(maskCrc(maskCrc(c)), c)
  })

  it.prop("unmask(mask(c)) = c", [FastCheck.nat({ max: 0xffffffff })], ([c]) => {
    const m = maskCrc(c)
    assert.isAtLeast(m, 0)
    assert.isAtMost(m, 0xffffffff)
    assert.strictEqual(unmaskCrc(m), c)
    assert.strictEqual(unmaskCrc(unmaskCrc(maskCrc(m))), c)
  })

  it("maskedCrcOfTyped is the masked CRC of the type byte followed by the range", () => {
    const data = randomBytes(1000, 3)
    for (const [type, start, end] of [
      [1, 0, 0],
      [1, 0, 60],
      [4, 10, 250],
      [2, 100, 1000],
      [255, 5, 6]
    ] as const) {
      const withType = new Uint8Array(end - start + 1)
      withType[0] = type
      withType.set(data.subarray(start, end), 1)
      assert.strictEqual(maskedCrcOfTyped(type, data, start, end), maskCrc(bitwiseCrc32(withType)))
    }
  })
})
