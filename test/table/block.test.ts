import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { Buffer } from "node:buffer"
import { Corruption } from "../../src/errors.js"
import { compareInternal, KIND_DELETE, KIND_PUT, type Kind, MAX_SEQUENCE } from "../../src/internal/key/internalKey.js"
import { Block, BlockIterator, parseBlock } from "../../src/internal/table/block.js"
import { BlockBuilder } from "../../src/internal/table/blockBuilder.js"
import { type Entry, sortEntries } from "./blockEntries.js"

const build = (entries: ReadonlyArray<Entry>, restartInterval: number): Block => {
  const builder = new BlockBuilder(restartInterval, 16)
  for (const e of entries) builder.add(e.key, e.seq, e.kind, e.value)
  const estimate = builder.currentSizeEstimate
  const contents = Buffer.from(builder.finish())
  assert.strictEqual(contents.length, estimate)
  const block = parseBlock(contents, "test.sst", 0)
  if (block instanceof Corruption) throw new Error(block.message)
  return block
}

const current = (it: BlockIterator): Entry => ({ key: it.key(), seq: it.seq(), kind: it.kind(), value: it.value() })

const assertAt = (it: BlockIterator, entries: ReadonlyArray<Entry>, index: number, context: string): void => {
  if (index < 0 || index >= entries.length) {
    assert.isFalse(it.valid(), `${context}: expected invalid`)
    return
  }
  assert.isTrue(it.valid(), `${context}: expected entry ${index}`)
  const e = entries[index]!
  assert.strictEqual(it.key(), e.key, context)
  assert.strictEqual(it.seq(), e.seq, context)
  assert.strictEqual(it.kind(), e.kind, context)
  assert.deepStrictEqual(Buffer.from(it.value()), Buffer.from(e.value), context)
}

/** First index at or after (key, seq), and last index at or before it, in the model. */
const lowerBound = (entries: ReadonlyArray<Entry>, key: string, seq: number): number => {
  let i = 0
  while (i < entries.length && compareInternal(entries[i]!.key, entries[i]!.seq, key, seq) < 0) i++
  return i
}
const floorIndex = (entries: ReadonlyArray<Entry>, key: string, seq: number): number => {
  let i = entries.length - 1
  while (i >= 0 && compareInternal(entries[i]!.key, entries[i]!.seq, key, seq) > 0) i--
  return i
}

// Keys over a tiny alphabet share long prefixes; 0x00 and 0xff exercise the byte order.
const keyArb = fc
  .array(fc.constantFrom("a", "b", "\u0000", "\u00ff", "\u0080"), { maxLength: 6 })
  .map((chars) => "pre" + chars.join(""))
const seqArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: MAX_SEQUENCE }))
const entryArb: fc.Arbitrary<Entry> = fc.record({
  key: keyArb,
  seq: seqArb,
  kind: fc.constantFrom(KIND_PUT, KIND_DELETE) as fc.Arbitrary<Kind>,
  value: fc.uint8Array({ maxLength: 12 })
})

describe("block", () => {
  it("round-trips sorted entries with shared prefixes, forward and backward", () => {
    const entries: Array<Entry> = []
    for (let i = 0; i < 500; i++) {
      const key = `user/${String(Math.floor(i / 3)).padStart(6, "0")}`
      entries.push({ key, seq: 1000 - i, kind: i % 7 === 0 ? KIND_DELETE : KIND_PUT, value: Buffer.from(`value-${i}`) })
    }
    const sorted = sortEntries(entries)
    for (const interval of [1, 2, 16, 1000]) {
      const it = new BlockIterator(build(sorted, interval))
      const forward: Array<Entry> = []
      for (it.seekToFirst(); it.valid(); it.next()) forward.push(current(it))
      assert.strictEqual(forward.length, sorted.length)
      forward.forEach((_, i) => {
        it.seekToFirst()
        for (let j = 0; j < i; j++) it.next()
        assertAt(it, sorted, i, `forward ${i}`)
      })
      const backward: Array<string> = []
      for (it.seekToLast(); it.valid() && backward.length <= sorted.length; it.prev()) backward.push(`${it.key()}@${it.seq()}`)
      assert.deepStrictEqual(backward, sorted.map((e) => `${e.key}@${e.seq}`).reverse())
    }
  })

  it("compresses shared prefixes", () => {
    const entries = sortEntries(
      Array.from({ length: 100 }, (_, i) => ({
        key: `a-long-common-prefix-for-every-key/${String(i).padStart(4, "0")}`,
        seq: 1,
        kind: KIND_PUT as Kind,
        value: new Uint8Array(0)
      }))
    )
    const fullKeys = entries.reduce((n, e) => n + e.key.length + 8, 0)
    assert.isBelow(build(entries, 16).byteLength, fullKeys / 2)
  })

  it("handles empty values, long keys and large values", () => {
    const long = "k".repeat(70_000)
    const entries = sortEntries([
      { key: "", seq: 5, kind: KIND_PUT, value: new Uint8Array(0) },
      { key: "a", seq: 1, kind: KIND_DELETE, value: new Uint8Array(0) },
      { key: long, seq: 9, kind: KIND_PUT, value: Buffer.alloc(300, 7) },
      { key: long + "x", seq: MAX_SEQUENCE, kind: KIND_PUT, value: Buffer.alloc(200_000, 9) },
      { key: long + "x", seq: 0, kind: KIND_PUT, value: new Uint8Array(0) }
    ])
    for (const interval of [1, 3]) {
      const it = new BlockIterator(build(entries, interval))
      let i = 0
      for (it.seekToFirst(); it.valid(); it.next()) assertAt(it, entries, i++, `entry ${i}`)
      assert.strictEqual(i, entries.length)
      it.seek(long + "x", 5)
      assertAt(it, entries, 4, "seek into the long key's versions")
      it.seekForPrev(long, 0)
      assertAt(it, entries, 2, "seekForPrev onto the long key")
      it.prev()
      assertAt(it, entries, 1, "prev from the long key")
    }
  })

  it("an empty block has no entries", () => {
    const builder = new BlockBuilder(16)
    const contents = Buffer.from(builder.finish())
    assert.strictEqual(contents.length, 4)
    const block = parseBlock(contents, "t", 0)
    assert.instanceOf(block, Block)
    const it = new BlockIterator(block as Block)
    it.seekToFirst()
    assert.isFalse(it.valid())
    it.seekToLast()
    assert.isFalse(it.valid())
    it.seek("a", 1)
    assert.isFalse(it.valid())
    it.seekForPrev("a", 1)
    assert.isFalse(it.valid())
  })

  it.prop(
    "seek, seekForPrev, next and prev agree with a sorted array",
    {
      raw: fc.array(entryArb, { minLength: 1, maxLength: 80 }),
      interval: fc.integer({ min: 1, max: 8 }),
      targets: fc.array(fc.tuple(keyArb, seqArb), { maxLength: 20 }),
      walks: fc.array(fc.boolean(), { maxLength: 30 })
    },
    ({ interval, raw, targets, walks }) => {
      const entries = sortEntries(raw)
      const it = new BlockIterator(build(entries, interval))
      const all = [...targets, ...entries.map((e) => [e.key, e.seq] as const)]
      for (const [key, seq] of all) {
        const lb = lowerBound(entries, key, seq)
        it.seek(key, seq)
        assertAt(it, entries, lb, `seek(${JSON.stringify(key)}, ${seq})`)
        const fl = floorIndex(entries, key, seq)
        it.seekForPrev(key, seq)
        assertAt(it, entries, fl, `seekForPrev(${JSON.stringify(key)}, ${seq})`)
        // A walk of next/prev from the seek position.
        let pos = lb
        it.seek(key, seq)
        for (const forward of walks) {
          if (pos < 0 || pos >= entries.length) break
          if (forward) {
            it.next()
            pos++
          } else {
            it.prev()
            pos--
          }
          assertAt(it, entries, pos, `walk after seek(${JSON.stringify(key)}, ${seq})`)
        }
      }
    },
    { fastCheck: { numRuns: 150 } }
  )

  describe("parseBlock rejects malformed contents", () => {
    const good = (): Buffer => {
      const builder = new BlockBuilder(2)
      for (let i = 0; i < 6; i++) builder.add(`key${i}`, 10 - i, KIND_PUT, Buffer.from(`v${i}`))
      return Buffer.from(builder.finish())
    }
    const rejects = (contents: Buffer, what: string) => {
      const result = parseBlock(contents, "bad.sst", 4096)
      assert.instanceOf(result, Corruption, what)
      assert.strictEqual((result as Corruption).file, "bad.sst")
      assert.strictEqual((result as Corruption).offset, 4096)
    }

    it("accepts the well-formed block", () => {
      assert.instanceOf(parseBlock(good(), "ok.sst", 0), Block)
    })
    it("too short", () => rejects(Buffer.from([1, 0]), "2 bytes"))
    it("restart count too large", () => {
      const b = good()
      b.writeUInt32LE(1000, b.length - 4)
      rejects(b, "restart count")
    })
    it("restart point not at an entry", () => {
      const b = good()
      const n = b.readUInt32LE(b.length - 4)
      const last = b.length - 4 - 4
      b.writeUInt32LE(b.readUInt32LE(last) + 1, last)
      assert.isAbove(n, 1)
      rejects(b, "restart offset")
    })
    it("entries without restart points", () => {
      const b = good()
      const n = b.readUInt32LE(b.length - 4)
      const trimmed = Buffer.concat([b.subarray(0, b.length - 4 - 4 * n), Buffer.from([0, 0, 0, 0])])
      rejects(trimmed, "count 0 with entries")
    })
    it("entry running past the entries", () => {
      const b = good()
      b[2] = 100 // the first entry's value length
      rejects(b, "value length")
    })
    it("a length varint that never ends", () => {
      const b = good()
      // The first entry's header: shared, unshared, value length, each continued into the next.
      b[0] = 0x80
      b[1] = 0x80
      b[2] = 0x80
      rejects(b, "unterminated varint")
    })
    it("restart points out of order, also when only the restarts are checked (point probes)", () => {
      const b = good()
      const n = b.readUInt32LE(b.length - 4)
      assert.isAbove(n, 2)
      const first = b.length - 4 - 4 * n
      // Restart 1 moved past restart 2.
      b.writeUInt32LE(b.readUInt32LE(first + 8) + 1, first + 4)
      rejects(b, "restart order")
      const probe = parseBlock(b, "bad.sst", 4096, false)
      assert.instanceOf(probe, Corruption)
    })
    it("accepts long keys and values (lengths of more than one varint byte)", () => {
      const builder = new BlockBuilder(4)
      const keys = Array.from({ length: 10 }, (_, i) => "k".repeat(200) + String(i))
      keys.forEach((k, i) => builder.add(k, 5, KIND_PUT, Buffer.alloc(300, i)))
      const block = parseBlock(Buffer.from(builder.finish()), "long.sst", 0)
      assert.instanceOf(block, Block)
      const it = new BlockIterator(block as Block)
      it.seek(keys[7]!, 5)
      assert.isTrue(it.valid())
      assert.strictEqual(it.key(), keys[7])
      assert.deepStrictEqual(Buffer.from(it.value()), Buffer.alloc(300, 7))
    })
    it("invalid kind in a key trailer", () => {
      const b = good()
      // First entry: shared 0, unshared 12, value 2, key "key0" + trailer; trailer byte 0 is the kind.
      assert.deepStrictEqual([b[0], b[1], b[2]], [0, 12, 2])
      b[3 + 4] = 7
      rejects(b, "kind 7")
    })
  })
})
