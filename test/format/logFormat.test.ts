import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { Buffer } from "node:buffer"
import { crc32 as zlibCrc32 } from "node:zlib"
import { maskCrc } from "../../src/internal/format/crc.js"
import { BLOCK_SIZE, FIRST, FULL, HEADER_SIZE, LAST, MIDDLE } from "../../src/internal/record/logFormat.js"
import { readLog } from "../../src/internal/record/logReader.js"
import { LogWriter, REUSED_FRAME_MAX } from "../../src/internal/record/logWriter.js"

/** Deterministic bytes; `alphabet` bytes keep the reader's resync scan cheap in the every-offset test. */
const payload = (n: number, seed: number, alphabet = false): Uint8Array => {
  const out = new Uint8Array(n)
  let x = (seed * 2654435761) | 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = alphabet ? 97 + ((x >>> 0) % 26) : x
  }
  return out
}

interface Log {
  readonly bytes: Uint8Array
  /** File offset of each record's first header, and offset just after its last fragment. */
  readonly starts: Array<number>
  readonly ends: Array<number>
}

const writeLog = (records: ReadonlyArray<Uint8Array>): Log => {
  const w = new LogWriter()
  const chunks: Array<Uint8Array> = []
  const starts: Array<number> = []
  const ends: Array<number> = []
  for (const r of records) {
    const before = w.offset
    const framed = w.frame(r)
    chunks.push(framed)
    assert.strictEqual(w.offset, before + framed.length)
    // The record's first header follows the padding, if the block had fewer than 7 bytes left.
    const leftover = BLOCK_SIZE - (before % BLOCK_SIZE)
    starts.push(leftover < HEADER_SIZE ? before + leftover : before)
    ends.push(w.offset)
  }
  return { bytes: Buffer.concat(chunks), starts, ends }
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

const assertRecords = (actual: ReadonlyArray<Uint8Array>, expected: ReadonlyArray<Uint8Array>, what = "") => {
  assert.strictEqual(actual.length, expected.length, `${what} record count`)
  for (let i = 0; i < expected.length; i++) assert.isTrue(same(actual[i]!, expected[i]!), `${what} record ${i}`)
}

/** A fragment built by hand (independent of LogWriter): header + payload. */
const fragment = (type: number, data: Uint8Array, crcOverride?: number): Uint8Array => {
  const out = new Uint8Array(HEADER_SIZE + data.length)
  const typed = new Uint8Array(data.length + 1)
  typed[0] = type
  typed.set(data, 1)
  const crc = crcOverride ?? maskCrc(zlibCrc32(typed))
  new DataView(out.buffer).setUint32(0, crc, true)
  new DataView(out.buffer).setUint16(4, data.length, true)
  out[6] = type
  out.set(data, HEADER_SIZE)
  return out
}

const concat = (...parts: Array<Uint8Array>): Uint8Array => Buffer.concat(parts)

describe("LogWriter", () => {
  it("frames a small record as one FULL fragment with a checksummed header", () => {
    const data = payload(60, 1)
    const framed = new LogWriter().frame(data)
    assert.isTrue(same(framed, fragment(FULL, data)))
  })

  it("lays out LevelDB's example: A 1000, B 97270, C 8000 bytes", () => {
    const a = payload(1000, 1)
    const b = payload(97270, 2)
    const c = payload(8000, 3)
    const log = writeLog([a, b, c])
    const bytes = log.bytes
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
    // A: FULL at 0.
    assert.strictEqual(bytes[6], FULL)
    assert.strictEqual(view.getUint16(4, true), 1000)
    // B: FIRST at 1007 filling block 0, MIDDLE filling block 1, LAST at the start of block 2.
    assert.strictEqual(bytes[1007 + 6], FIRST)
    assert.strictEqual(view.getUint16(1007 + 4, true), BLOCK_SIZE - 1007 - HEADER_SIZE)
    assert.strictEqual(bytes[BLOCK_SIZE + 6], MIDDLE)
    assert.strictEqual(view.getUint16(BLOCK_SIZE + 4, true), BLOCK_SIZE - HEADER_SIZE)
    assert.strictEqual(bytes[2 * BLOCK_SIZE + 6], LAST)
    assert.strictEqual(view.getUint16(2 * BLOCK_SIZE + 4, true), 97270 - (BLOCK_SIZE - 1007 - 7) - (BLOCK_SIZE - 7))
    // Six zero bytes of trailer, then C as a FULL fragment at the start of block 3.
    assert.deepStrictEqual([...bytes.subarray(3 * BLOCK_SIZE - 6, 3 * BLOCK_SIZE)], [0, 0, 0, 0, 0, 0])
    assert.strictEqual(bytes[3 * BLOCK_SIZE + 6], FULL)
    assert.strictEqual(bytes.length, 3 * BLOCK_SIZE + 7 + 8000)
    assert.isTrue(same(bytes.subarray(3 * BLOCK_SIZE), fragment(FULL, c)))
  })

  it("pads a block tail of fewer than 7 bytes with zeros, and uses an exact 7", () => {
    // A first record leaving 3 bytes in block 0: the next record starts at block 1 after 3 zeros.
    const first = payload(BLOCK_SIZE - HEADER_SIZE - 3, 1)
    const w = new LogWriter()
    w.frame(first)
    assert.strictEqual(w.offset, BLOCK_SIZE - 3)
    const next = w.frame(payload(10, 2))
    assert.deepStrictEqual([...next.subarray(0, 3)], [0, 0, 0])
    assert.isTrue(same(next.subarray(3), fragment(FULL, payload(10, 2))))
    // Leaving exactly 7 bytes: an empty record fits there as a zero-length FULL fragment...
    const w7 = new LogWriter(BLOCK_SIZE - 7)
    assert.isTrue(same(w7.frame(new Uint8Array(0)), fragment(FULL, new Uint8Array(0))))
    assert.strictEqual(w7.offset, BLOCK_SIZE)
    // ... and a longer record starts with a zero-length FIRST fragment.
    const w7b = new LogWriter(BLOCK_SIZE - 7)
    const data = payload(20, 3)
    const framed = w7b.frame(data)
    assert.isTrue(same(framed, concat(fragment(FIRST, new Uint8Array(0)), fragment(LAST, data))))
  })

  it("continues a file from an initial offset exactly as one writer would", () => {
    const records = [payload(30000, 1), payload(5000, 2), payload(40000, 3), payload(7, 4)]
    const whole = writeLog(records).bytes
    const head = writeLog(records.slice(0, 2)).bytes
    const w = new LogWriter(head.length)
    const tail = concat(...records.slice(2).map((r) => w.frame(r)))
    assert.isTrue(same(concat(head, tail), whole))
    assert.strictEqual(w.offset, whole.length)
  })
})

describe("LogWriter.frameReusing", () => {
  it.prop(
    "frames every record as frame does, in its one reused buffer up to REUSED_FRAME_MAX, in a fresh one beyond",
    [FastCheck.array(FastCheck.integer({ min: 0, max: 40 * BLOCK_SIZE }), { minLength: 1, maxLength: 12 }), FastCheck.integer({ min: 0, max: BLOCK_SIZE })],
    ([lengths, start]) => {
      const fresh = new LogWriter(start)
      const reusing = new LogWriter(start)
      let buffer: ArrayBufferLike | undefined = undefined
      lengths.forEach((length, i) => {
        const payload = Buffer.alloc(length, i + 1)
        const expected = Buffer.from(fresh.frame(payload))
        const got = reusing.frameReusing(payload)
        assert.isTrue(Buffer.from(got).equals(expected), `record ${i} of ${length} bytes`)
        // The same buffer while it is large enough (it grows, up to REUSED_FRAME_MAX).
        if (buffer !== undefined && got.byteLength <= buffer.byteLength) assert.strictEqual(got.buffer, buffer, "the same buffer")
        if (got.byteLength <= REUSED_FRAME_MAX) buffer = got.buffer
        else assert.isTrue(got.buffer !== buffer, "a record past REUSED_FRAME_MAX gets its own buffer")
      })
      assert.strictEqual(reusing.offset, fresh.offset)
    }
  )

  it("frames a record longer than REUSED_FRAME_MAX in a buffer of its own, and keeps the reused one small", () => {
    const w = new LogWriter(0)
    const small = w.frameReusing(Buffer.alloc(10, 1))
    const large = w.frameReusing(Buffer.alloc(REUSED_FRAME_MAX + 1, 2))
    assert.notStrictEqual(large.buffer, small.buffer)
    const again = w.frameReusing(Buffer.alloc(10, 3))
    assert.strictEqual(again.buffer, small.buffer)
    assert.isAtMost(again.buffer.byteLength, REUSED_FRAME_MAX)
  })
})

describe("readLog round trips", () => {
  const sizes = [
    0,
    1,
    60,
    BLOCK_SIZE - HEADER_SIZE, // exactly fills a block
    BLOCK_SIZE - HEADER_SIZE - 3, // leaves 3 bytes in the block
    BLOCK_SIZE - 2 * HEADER_SIZE, // leaves exactly 7
    0,
    100_000, // four blocks
    3 * BLOCK_SIZE, // spans 4+ blocks
    BLOCK_SIZE - 2, // leaves <7 wherever it lands
    5,
    0
  ]

  it("returns every record of many sizes, clean", () => {
    const records = sizes.map((n, i) => payload(n, i + 1))
    const log = writeLog(records)
    const result = readLog(log.bytes)
    assert.strictEqual(result.end, "clean")
    assert.strictEqual(result.validBytes, log.bytes.length)
    assert.deepStrictEqual(result.recordOffsets, log.starts)
    assertRecords(result.records, records)
  })

  it("reads an empty file as clean with no records", () => {
    const result = readLog(new Uint8Array(0))
    assert.deepStrictEqual({ end: result.end, validBytes: result.validBytes, n: result.records.length }, {
      end: "clean",
      validBytes: 0,
      n: 0
    })
  })

  it.prop(
    "round-trips random records",
    [FastCheck.array(FastCheck.oneof(FastCheck.nat(200), FastCheck.nat(80_000)), { maxLength: 12 }), FastCheck.nat()],
    ([lengths, seed]) => {
      const records = lengths.map((n, i) => payload(n, seed + i))
      const log = writeLog(records)
      const result = readLog(log.bytes)
      assert.strictEqual(result.end, "clean")
      assert.strictEqual(result.validBytes, log.bytes.length)
      assertRecords(result.records, records)
    },
    { fastCheck: { numRuns: 40 } }
  )
})

describe("readLog on torn logs", () => {
  it("a log cut at every byte offset gives exactly the whole records before the cut", () => {
    // 0, 1071: small records; 1071: a record over blocks 0..2 ending 4 bytes before the end of
    // block 2 (a 4-byte trailer); then two small records in block 3.
    const sizes = [50, 0, 1000, 3 * BLOCK_SIZE - 4 - 1071 - 3 * HEADER_SIZE, 3, 9]
    const records = sizes.map((n, i) => payload(n, i + 1, true))
    const log = writeLog(records)
    const n = log.bytes.length
    assert.strictEqual(log.ends[3], 3 * BLOCK_SIZE - 4)
    assert.isAbove(n, 3 * BLOCK_SIZE)
    let whole = 0
    for (let cut = 0; cut <= n; cut++) {
      while (whole < records.length && log.ends[whole]! <= cut) whole++
      const result = readLog(log.bytes.subarray(0, cut))
      const validBytes = whole === 0 ? 0 : log.ends[whole - 1]!
      if (result.records.length !== whole || result.validBytes !== validBytes) {
        assert.fail(`cut at ${cut}: ${result.records.length} records, validBytes ${result.validBytes}, end ${result.end}`)
      }
      const expectedEnd = cut === validBytes ? "clean" : "torn"
      if (result.end !== expectedEnd) assert.fail(`cut at ${cut}: ${result.end}, expected ${expectedEnd}`)
      // Payloads: the last returned record is the one most at risk of being a partial one.
      if (whole > 0 && !same(result.records[whole - 1]!, records[whole - 1]!)) assert.fail(`cut at ${cut}: bad payload`)
    }
    assertRecords(readLog(log.bytes.subarray(0, n - 1)).records, records.slice(0, -1))
  })

  it("zeros after the last record are a torn tail (a file extended by a crash, never written)", () => {
    const records = [payload(100, 1), payload(40_000, 2), payload(10, 3)]
    const log = writeLog(records)
    for (const tail of [new Uint8Array(3), new Uint8Array(100), new Uint8Array(BLOCK_SIZE * 2)]) {
      const result = readLog(concat(log.bytes, tail))
      assert.strictEqual(result.end, "torn")
      assert.strictEqual(result.validBytes, log.bytes.length)
      assertRecords(result.records, records)
    }
  })

  it("garbage after the last record is corrupt, not a torn tail", () => {
    const records = [payload(100, 1), payload(40_000, 2), payload(10, 3)]
    const log = writeLog(records)
    const garbage = payload(5000, 9)
    garbage[6] = 7 // not a fragment type
    for (const tail of [garbage, concat(new Uint8Array(20), Uint8Array.of(1))]) {
      const result = readLog(concat(log.bytes, tail))
      assert.strictEqual(result.end, "corrupt")
      assert.strictEqual(result.corruptOffset, log.bytes.length)
      assert.strictEqual(result.validBytes, log.bytes.length)
      assertRecords(result.records, records)
    }
  })

  it("a FIRST or MIDDLE fragment without its LAST at the end is torn", () => {
    const a = payload(10, 1)
    const x = payload(10, 2)
    for (const tail of [fragment(FIRST, x), concat(fragment(FIRST, x), fragment(MIDDLE, x))]) {
      const result = readLog(concat(fragment(FULL, a), tail))
      assert.strictEqual(result.end, "torn")
      assert.strictEqual(result.validBytes, 17)
      assertRecords(result.records, [a])
    }
  })
})

describe("readLog on corrupt logs", () => {
  const a = payload(100, 1)
  const b = payload(300, 2)
  const c = payload(50, 3)
  const d = payload(70, 4)

  it("a flipped byte anywhere in a middle record is corrupt at that record, never a wrong payload", () => {
    const log = writeLog([a, b, c, d])
    for (let pos = log.starts[1]!; pos < log.ends[1]!; pos++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bytes = Uint8Array.from(log.bytes)
        bytes[pos]! ^= flip
        const result = readLog(bytes)
        assert.strictEqual(result.end, "corrupt", `flip ${flip} at ${pos}`)
        assert.strictEqual(result.corruptOffset, log.starts[1], `flip ${flip} at ${pos}`)
        assert.strictEqual(result.validBytes, log.ends[0])
        assertRecords(result.records, [a])
      }
    }
  })

  it("a flipped byte in a multi-block middle record names the damaged fragment", () => {
    const big = payload(80_000, 5)
    const log = writeLog([a, big, c])
    const start = log.starts[1]!
    const positions = [start, start + 3, start + 6, start + 7, start + 500, BLOCK_SIZE - 1]
    for (let block = 1; block * BLOCK_SIZE < log.ends[1]!; block++) {
      const at = block * BLOCK_SIZE
      positions.push(at, at + 4, at + 6, at + 7, at + 1234, Math.min(at + BLOCK_SIZE, log.ends[1]!) - 1)
    }
    for (const pos of positions) {
      const bytes = Uint8Array.from(log.bytes)
      bytes[pos]! ^= 0x10
      const result = readLog(bytes)
      // The fragment holding `pos`: the record's FIRST in block 0, else the one starting its block.
      const fragmentStart = pos < BLOCK_SIZE ? start : pos - (pos % BLOCK_SIZE)
      assert.strictEqual(result.end, "corrupt", `flip at ${pos}`)
      assert.strictEqual(result.corruptOffset, fragmentStart, `flip at ${pos}`)
      assertRecords(result.records, [a])
    }
  })

  it("a flipped bit anywhere in the last record is corrupt, with the records before it", () => {
    for (const last of [d, payload(80_000, 6)]) {
      const log = writeLog([a, b, c, last])
      const start = log.starts[3]!
      const end = log.ends[3]!
      const positions = last === d ? Array.from({ length: end - start }, (_, i) => start + i) : [start, start + 4, start + 5, start + 6, start + 7, end - 1, start + ((end - start) >> 1), BLOCK_SIZE * 2 + 4, BLOCK_SIZE * 2 + 5]
      for (const pos of positions) {
        for (let bit = 0; bit < 8; bit++) {
          const bytes = Uint8Array.from(log.bytes)
          bytes[pos]! ^= 1 << bit
          const result = readLog(bytes)
          assert.strictEqual(result.end, "corrupt", `flip of bit ${bit} at ${pos}`)
          assert.strictEqual(result.validBytes, log.ends[2])
          assertRecords(result.records, [a, b, c])
        }
      }
    }
  })

  it("fragments out of order followed by a valid record are corrupt", () => {
    const x = payload(20, 7)
    const head = fragment(FULL, a)
    const cases: Array<[Uint8Array, number]> = [
      // FIRST then FULL: the record opened at 107 has no LAST.
      [concat(head, fragment(FIRST, x), fragment(FULL, c)), 107],
      // FIRST then FIRST..LAST.
      [concat(head, fragment(FIRST, x), fragment(FIRST, x), fragment(LAST, x)), 107],
      // A MIDDLE or LAST continuing nothing.
      [concat(head, fragment(MIDDLE, x), fragment(FULL, c)), 107],
      [concat(head, fragment(LAST, x), fragment(FULL, c)), 107],
      // An unknown type, a zero header, a bad checksum, each before a valid record.
      [concat(head, fragment(5, x), fragment(FULL, c)), 107],
      [concat(head, new Uint8Array(HEADER_SIZE), fragment(FULL, c)), 107],
      [concat(head, fragment(FULL, x, 12345), fragment(FULL, c)), 107]
    ]
    for (const [bytes, offset] of cases) {
      const result = readLog(bytes)
      assert.strictEqual(result.end, "corrupt")
      assert.strictEqual(result.corruptOffset, offset)
      assert.strictEqual(result.validBytes, 107)
      assertRecords(result.records, [a])
    }
  })

  it("damage at the end of the log, with nothing whole after it, is corrupt", () => {
    const x = payload(20, 7)
    // A stray LAST at the end; a bad FIRST followed by its (valid) LAST; an unknown type.
    for (const tail of [fragment(LAST, x), concat(fragment(FIRST, x, 1), fragment(LAST, x)), fragment(5, x)]) {
      const result = readLog(concat(fragment(FULL, a), tail))
      assert.strictEqual(result.end, "corrupt")
      assert.strictEqual(result.corruptOffset, 107)
      assertRecords(result.records, [a])
    }
  })

  it("a length running past its block, followed by valid records in later blocks, is corrupt", () => {
    const log = writeLog([a, b, payload(BLOCK_SIZE, 8), c])
    const bytes = Uint8Array.from(log.bytes)
    const at = log.starts[1]!
    new DataView(bytes.buffer).setUint16(at + 4, BLOCK_SIZE, true)
    const result = readLog(bytes)
    assert.strictEqual(result.end, "corrupt")
    assert.strictEqual(result.corruptOffset, at)
    assertRecords(result.records, [a])
  })

  it.prop(
    "a random byte flip returns only a prefix of the records, and never the damaged one",
    [
      FastCheck.array(FastCheck.oneof(FastCheck.nat(300), FastCheck.nat(70_000)), { minLength: 1, maxLength: 8 }),
      FastCheck.nat(),
      FastCheck.integer({ min: 1, max: 255 })
    ],
    ([lengths, where, flip]) => {
      const records = lengths.map((n, i) => payload(n, where + i))
      const log = writeLog(records)
      const bytes = Uint8Array.from(log.bytes)
      const pos = where % bytes.length
      bytes[pos]! ^= flip
      const result = readLog(bytes)
      const damaged = log.starts.findIndex((s, i) => s <= pos && pos < log.ends[i]!)
      if (damaged < 0) {
        // The flip hit a block trailer, which readers skip.
        assert.strictEqual(result.end, "clean")
        assertRecords(result.records, records)
        return
      }
      assertRecords(result.records, records.slice(0, damaged))
      // Only a flip of several bits in the length of the last fragment of the file can pass for a
      // cut (a torn write); every other flip is damage.
      const inLength = (pos - log.starts[damaged]! === 4 || pos - log.starts[damaged]! === 5 || pos % BLOCK_SIZE === 4 || pos % BLOCK_SIZE === 5)
      const severalBits = (flip & (flip - 1)) !== 0
      if (!(damaged === records.length - 1 && inLength && severalBits && result.end === "torn")) {
        assert.strictEqual(result.end, "corrupt")
      }
      assert.strictEqual(result.validBytes, damaged === 0 ? 0 : log.ends[damaged - 1])
    },
    { fastCheck: { numRuns: 100 } }
  )
})
