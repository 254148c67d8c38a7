import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import {
  decodeFixed16,
  decodeFixed32,
  decodeFixed64,
  encodeFixed16,
  encodeFixed32,
  encodeFixed64,
  FIXED64_TOO_LARGE
} from "../../src/internal/format/fixed.js"
import {
  DecodeError,
  decodeVarint,
  encodeVarint,
  MAX_VARINT_LENGTH,
  VARINT_MALFORMED,
  VarintReader,
  varintLength
} from "../../src/internal/format/varint.js"

/** Reference LEB128 encoder on BigInt, independent of the code under test. */
const referenceEncode = (value: number): Array<number> => {
  let v = BigInt(value)
  const out: Array<number> = []
  do {
    const group = Number(v & 0x7fn)
    v >>= 7n
    out.push(v > 0n ? group | 0x80 : group)
  } while (v > 0n)
  return out
}

const encode = (value: number): Uint8Array => {
  const buf = new Uint8Array(MAX_VARINT_LENGTH + 2).fill(0xee)
  const end = encodeVarint(buf, 1, value)
  return buf.subarray(1, end)
}

const edges = [
  0,
  1,
  127,
  128,
  255,
  300,
  2 ** 14 - 1,
  2 ** 14,
  2 ** 21 - 1,
  2 ** 21,
  2 ** 28 - 1,
  2 ** 28,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 35 - 1,
  2 ** 35,
  2 ** 42,
  2 ** 49 - 1,
  2 ** 49,
  2 ** 52,
  Number.MAX_SAFE_INTEGER
]

describe("varint", () => {
  it("encodes known values to the LEB128 bytes", () => {
    assert.deepStrictEqual([...encode(0)], [0x00])
    assert.deepStrictEqual([...encode(127)], [0x7f])
    assert.deepStrictEqual([...encode(128)], [0x80, 0x01])
    assert.deepStrictEqual([...encode(300)], [0xac, 0x02])
    assert.deepStrictEqual([...encode(2 ** 32)], [0x80, 0x80, 0x80, 0x80, 0x10])
    assert.deepStrictEqual([...encode(Number.MAX_SAFE_INTEGER)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])
  })

  it("round-trips edge values, with the reference bytes and varintLength", () => {
    for (const value of edges) {
      const bytes = encode(value)
      assert.deepStrictEqual([...bytes], referenceEncode(value), `bytes of ${value}`)
      assert.strictEqual(varintLength(value), bytes.length, `length of ${value}`)
      assert.strictEqual(decodeVarint(bytes, 0), value)
    }
  })

  it.prop("round-trips random safe integers", [FastCheck.maxSafeNat()], ([value]) => {
    const bytes = encode(value)
    assert.deepStrictEqual([...bytes], referenceEncode(value))
    assert.strictEqual(varintLength(value), bytes.length)
    assert.strictEqual(decodeVarint(bytes, 0), value)
  })

  it.prop(
    "decodes a sequence of varints at their offsets",
    [FastCheck.array(FastCheck.oneof(FastCheck.nat(300), FastCheck.maxSafeNat()), { maxLength: 30 })],
    ([values]) => {
      const buf = new Uint8Array(values.length * MAX_VARINT_LENGTH)
      let end = 0
      for (const v of values) end = encodeVarint(buf, end, v)
      const decoded: Array<number> = []
      let pos = 0
      while (pos < end) {
        const v = decodeVarint(buf, pos, end)
        assert.isAtLeast(v, 0)
        decoded.push(v)
        pos += varintLength(v)
      }
      assert.deepStrictEqual(decoded, values)
    }
  )

  it("detects truncated input: every strict prefix of a multi-byte varint", () => {
    for (const value of edges) {
      const bytes = encode(value)
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.strictEqual(decodeVarint(bytes.subarray(0, cut), 0), VARINT_MALFORMED, `${value} cut at ${cut}`)
        // The same through an `end` bound inside a longer buffer.
        assert.strictEqual(decodeVarint(bytes, 0, cut), VARINT_MALFORMED)
      }
    }
  })

  it("rejects overlong, non-shortest and too-large encodings", () => {
    // 9 bytes of continuation.
    assert.strictEqual(decodeVarint(new Uint8Array(9).fill(0x80), 0), VARINT_MALFORMED)
    // 8 bytes all with the continuation bit: no terminator within the limit.
    assert.strictEqual(decodeVarint(Uint8Array.of(0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01), 0), VARINT_MALFORMED)
    // 0 written in two bytes, 1 written in three.
    assert.strictEqual(decodeVarint(Uint8Array.of(0x80, 0x00), 0), VARINT_MALFORMED)
    assert.strictEqual(decodeVarint(Uint8Array.of(0x81, 0x80, 0x00), 0), VARINT_MALFORMED)
    // 2^53: one past the largest safe integer.
    assert.strictEqual(decodeVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 0), VARINT_MALFORMED)
    assert.strictEqual(decodeVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 0), VARINT_MALFORMED)
    // Past the end of the buffer.
    assert.strictEqual(decodeVarint(Uint8Array.of(5), 1), VARINT_MALFORMED)
  })

  it("refuses to encode what is not a safe integer >= 0", () => {
    const buf = new Uint8Array(16)
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) {
      assert.throws(() => encodeVarint(buf, 0, bad), RangeError)
    }
  })
})

describe("VarintReader", () => {
  it("reads varints and length-prefixed strings, then is done", () => {
    const buf = Uint8Array.of(0xac, 0x02, 3, 0x61, 0x62, 0x63, 0)
    const r = new VarintReader(buf)
    assert.strictEqual(r.varint(), 300)
    assert.deepStrictEqual([...r.lengthPrefixed()], [0x61, 0x62, 0x63])
    assert.isFalse(r.done)
    assert.strictEqual(r.varint(), 0)
    assert.isTrue(r.done)
  })

  it("throws DecodeError with the offset on truncation", () => {
    const truncatedVarint = new VarintReader(Uint8Array.of(1, 0x80))
    truncatedVarint.varint()
    try {
      truncatedVarint.varint("tag")
      assert.fail("expected a DecodeError")
    } catch (e) {
      assert.instanceOf(e, DecodeError)
      assert.strictEqual((e as DecodeError).offset, 1)
      assert.include((e as DecodeError).description, "tag")
    }
    // A string announcing 5 bytes with 2 left.
    const shortString = new VarintReader(Uint8Array.of(5, 1, 2))
    assert.throws(() => shortString.lengthPrefixed(), DecodeError)
    // `end` bounds the reader inside a larger buffer.
    const bounded = new VarintReader(Uint8Array.of(2, 9, 9, 9), 0, 2)
    assert.throws(() => bounded.lengthPrefixed(), DecodeError)
  })
})

describe("fixed-width", () => {
  it("writes little-endian bytes", () => {
    const b = new Uint8Array(8)
    encodeFixed16(b, 0, 0x1234)
    assert.deepStrictEqual([...b.subarray(0, 2)], [0x34, 0x12])
    encodeFixed32(b, 0, 0xdeadbeef)
    assert.deepStrictEqual([...b.subarray(0, 4)], [0xef, 0xbe, 0xad, 0xde])
    encodeFixed64(b, 0, 2 ** 40 + 5)
    assert.deepStrictEqual([...b], [5, 0, 0, 0, 0, 1, 0, 0])
    assert.strictEqual(decodeFixed16(Uint8Array.of(0x34, 0x12), 0), 0x1234)
    assert.strictEqual(decodeFixed32(Uint8Array.of(0xef, 0xbe, 0xad, 0xde), 0), 0xdeadbeef)
  })

  it.prop("round-trips fixed64 safe integers", [FastCheck.maxSafeNat()], ([value]) => {
    const b = new Uint8Array(10)
    encodeFixed64(b, 1, value)
    assert.strictEqual(decodeFixed64(b, 1), value)
    // Compare with the platform's own 64-bit little-endian writer.
    const ref = new Uint8Array(8)
    new DataView(ref.buffer).setBigUint64(0, BigInt(value), true)
    assert.deepStrictEqual([...b.subarray(1, 9)], [...ref])
  })

  it("rejects a fixed64 above 2^53 - 1", () => {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setBigUint64(0, 2n ** 53n, true)
    assert.strictEqual(decodeFixed64(b, 0), FIXED64_TOO_LARGE)
    new DataView(b.buffer).setBigUint64(0, 2n ** 53n - 1n, true)
    assert.strictEqual(decodeFixed64(b, 0), Number.MAX_SAFE_INTEGER)
  })
})
