/**
 * The streamed point lookup in an LZ4 block (internal/table/streamedBlock.ts) against the parsed
 * block's iterator, on random blocks; that it stops decoding at the entry it answers with; and
 * that damaged input is `Corruption` or an answer, never a throw.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { Buffer } from "node:buffer"
import { Corruption } from "../../src/errors.js"
import { KIND_DELETE, KIND_PUT, type Kind, MAX_SEQUENCE } from "../../src/internal/key/internalKey.js"
import { Block, BlockIterator, parseBlock } from "../../src/internal/table/block.js"
import { BlockBuilder } from "../../src/internal/table/blockBuilder.js"
import { type Entry, sortEntries } from "./blockEntries.js"
import * as lz4Block from "../../src/internal/table/codec/lz4Block.js"
import * as lz4Wasm from "../../src/internal/table/codec/lz4Wasm.js"
import { StreamedBlock } from "../../src/internal/table/streamedBlock.js"

const contentsOf = (entries: ReadonlyArray<Entry>, restartInterval: number): Buffer => {
  const builder = new BlockBuilder(restartInterval, 16)
  for (const e of entries) builder.add(e.key, e.seq, e.kind, e.value)
  return Buffer.from(builder.finish())
}

/** The LZ4 payload of `contents` (no length prefix). */
const lz4 = (contents: Buffer): Buffer => {
  const out = Buffer.alloc(contents.length + (contents.length >> 7) + 64)
  return out.subarray(0, lz4Block.compress(contents, out))
}

const streamed = (payload: Uint8Array, length: number) =>
  new StreamedBlock().start(payload, 0, payload.length, length, "000012.sst", 4096)

/** What the parsed block's iterator answers for a point lookup. */
const expected = (it: BlockIterator, key: string, seq: number) => {
  it.seek(key, seq)
  if (!it.valid() || !it.userKeyIs(key)) return undefined
  return { kind: it.kind(), value: Buffer.from(it.value()).toString("hex") }
}

const answer = (block: StreamedBlock, key: string, seq: number) => {
  const found = block.seek(key, seq)
  if (found instanceof Corruption) return found
  if (!found) return undefined
  return {
    kind: block.kind,
    value: block.contents().subarray(block.valueOffset, block.valueOffset + block.valueLength).toString("hex")
  }
}

// Keys over a tiny alphabet share long prefixes (0x00 bytes too, next to the restart array's);
// some are long enough that their lengths take two varint bytes. Values repeat, so LZ4 finds matches.
const keyArb = fc
  .tuple(fc.array(fc.constantFrom("a", "b", "\u0000", "\u00ff"), { maxLength: 6 }), fc.nat({ max: 9 }))
  .map(([chars, long]) => (long === 0 ? "k".repeat(150) : "") + chars.join(""))
const seqArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(MAX_SEQUENCE))
const valueArb = fc
  .tuple(fc.uint8Array({ maxLength: 24 }), fc.nat({ max: 12 }))
  .map(([bytes, times]) => Buffer.concat(Array.from({ length: times }, () => bytes)))
const entryArb: fc.Arbitrary<Entry> = fc.record({
  key: keyArb,
  seq: seqArb,
  kind: fc.constantFrom(KIND_PUT, KIND_DELETE) as fc.Arbitrary<Kind>,
  value: valueArb
})

for (const decoder of ["WebAssembly", "JavaScript"] as const) describe(`streamed LZ4 block (${decoder} decoder)`, () => {
  beforeAll(() => lz4Wasm.setEnabledForTesting(decoder === "WebAssembly"))
  afterAll(() => lz4Wasm.setEnabledForTesting(true))

  it.prop(
    "answers every point lookup as the parsed block does",
    {
      raw: fc.array(entryArb, { maxLength: 120 }),
      interval: fc.integer({ min: 1, max: 16 }),
      targets: fc.array(fc.tuple(keyArb, seqArb), { maxLength: 30 })
    },
    ({ interval, raw, targets }) => {
      const entries = sortEntries(raw)
      const contents = contentsOf(entries, interval)
      const block = parseBlock(contents, "t", 0)
      assert.instanceOf(block, Block)
      const it = new BlockIterator(block as Block)
      const payload = lz4(contents)
      const probe = streamed(payload, contents.length)
      const lookups = [...targets, ...entries.flatMap((e) => [[e.key, e.seq], [e.key, e.seq + 1], [e.key, Math.max(0, e.seq - 1)]] as const)]
      for (const [key, seq] of lookups) {
        // A fresh start each time, and one block reused across lookups (as the point reads do).
        const want = expected(it, key, seq)
        assert.deepStrictEqual(answer(streamed(payload, contents.length), key, seq), want, `${JSON.stringify(key)}@${seq}`)
        probe.start(payload, 0, payload.length, contents.length, "t", 0)
        assert.deepStrictEqual(answer(probe, key, seq), want, `${JSON.stringify(key)}@${seq}, reused`)
      }
    }
  )

  it("an empty block answers nothing", () => {
    const contents = contentsOf([], 16)
    assert.isUndefined(answer(streamed(lz4(contents), contents.length), "a", 1))
  })

  it("decodes only as far as the entry it answers with", () => {
    const entries: Array<Entry> = Array.from({ length: 200 }, (_, i) => ({
      key: `key:${String(i).padStart(6, "0")}`,
      seq: 7,
      kind: KIND_PUT,
      value: Buffer.from(`value ${i} `.repeat(4))
    }))
    const contents = contentsOf(entries, 16)
    const payload = lz4(contents)
    assert.isBelow(payload.length, contents.length * 0.7, "the block compresses")
    // The first third of the input: the early keys are answered from it, the last ones are not.
    const head = payload.subarray(0, Math.floor(payload.length / 3))
    for (const e of entries.slice(0, 20)) {
      assert.deepStrictEqual(answer(streamed(head, contents.length), e.key, MAX_SEQUENCE), { kind: KIND_PUT, value: Buffer.from(e.value).toString("hex") })
    }
    const last = answer(streamed(head, contents.length), entries[199]!.key, MAX_SEQUENCE)
    assert.instanceOf(last, Corruption)
    assert.match((last as Corruption).message, /bad lz4 block: lz4: /)
    assert.strictEqual((last as Corruption).file, "000012.sst")
    assert.strictEqual((last as Corruption).offset, 4096)
  })

  it.prop(
    "damaged input is Corruption or an answer, never a throw",
    { flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), cut: fc.nat(), target: fc.nat({ max: 99 }) },
    ({ cut, flips, target }) => {
      const entries: Array<Entry> = Array.from({ length: 100 }, (_, i) => ({
        key: `key:${String(i).padStart(4, "0")}`,
        seq: i + 1,
        kind: i % 5 === 0 ? KIND_DELETE : KIND_PUT,
        value: Buffer.from(`v${i}`.repeat(1 + (i % 9)))
      }))
      const contents = contentsOf(entries, 4)
      const payload = Buffer.from(lz4(contents))
      for (const [at, xor] of flips) payload[at % payload.length]! ^= xor
      const input = payload.subarray(0, payload.length - (cut % 4))
      const out = answer(streamed(input, contents.length), entries[target]!.key, MAX_SEQUENCE)
      assert.isTrue(out === undefined || out instanceof Corruption || typeof out.value === "string")
    }
  )
})
