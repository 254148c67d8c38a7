/**
 * A flush through the worker writes the same table as a flush inline: a memtable packed
 * (internal/background/packedRun.ts) and replayed with `forEachSorted` gives the table builder the
 * same entries in the same order as `writeMemtable` does, with the same versions kept for snapshots.
 */
import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { FastCheck as fc } from "effect"
import { forEachSorted, packMemtable, transferList } from "../../src/internal/background/packedRun.js"
import { KIND_DELETE, KIND_PUT, type Kind } from "../../src/internal/key/internalKey.js"
import { Memtable } from "../../src/internal/memtable/memtable.js"
import { neededBySnapshot } from "../../src/internal/snapshotRetention.js"
import { encodeBatch, type ResolvedOp, setSequence } from "../../src/internal/wal/batchCodec.js"

type Row = readonly [key: string, seq: number, kind: Kind, value: string]

/** What an inline flush adds to the table builder (flush.ts's loop over sorted keys and chains). */
const inlineOrder = (table: Memtable, snapshots: ReadonlyArray<number>): Array<Row> => {
  const rows: Array<Row> = []
  for (const key of table.sortedKeys()) {
    let newer = Number.POSITIVE_INFINITY
    for (let e = table.chain(key); e !== undefined; e = e.older) {
      if (newer === Number.POSITIVE_INFINITY || neededBySnapshot(e.seq, newer, snapshots)) {
        rows.push([key, e.seq, e.kind, Buffer.from(e.value).toString("latin1")])
      }
      newer = e.seq
    }
  }
  return rows
}

const packedOrder = (table: Memtable, snapshots: ReadonlyArray<number>) =>
  Effect.map(packMemtable(table), (run) => {
    const rows: Array<Row> = []
    forEachSorted(run, snapshots, (key, seq, kind, value) => rows.push([key, seq, kind, Buffer.from(value).toString("latin1")]))
    return rows
  })

const writeArb = fc.array(
  fc.record({
    key: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
    put: fc.boolean(),
    value: fc.string({ maxLength: 40 })
  }),
  { maxLength: 200 }
)

/**
 * `writes` into a memtable as the writer adds them: in batches (sizes from `cuts`, each at least
 * one write), sequences 1, 2, ... in order. A batch whose cut is odd arrives as recovery adds a
 * logged record instead: a payload outside the shared payload arena.
 */
const memtableOf = (writes: ReadonlyArray<{ key: string; put: boolean; value: string }>, cuts: ReadonlyArray<number>) => {
  const table = new Memtable(1)
  let at = 0
  for (let c = 0; at < writes.length; c++) {
    const cut = cuts[c % Math.max(1, cuts.length)] ?? 0
    const size = Math.min(writes.length - at, 1 + cut)
    const batch = encodeBatch(writes.slice(at, at + size).map((w) =>
      w.put
        ? { kind: KIND_PUT, key: w.key, value: Buffer.from(w.value, "latin1"), valueLength: w.value.length }
        : { kind: KIND_DELETE, key: w.key, value: undefined, valueLength: 0 }
    ))
    setSequence(batch.payload, at + 1)
    if (cut % 2 === 1) table.addRecord(Uint8Array.from(batch.payload))
    else table.addBatch(batch, at + 1)
    at += size
  }
  return table
}

describe("packed run", () => {
  it.effect.prop(
    "replays a memtable's entries in internal-key order, keeping the versions snapshots need, as an inline flush does",
    [writeArb, fc.array(fc.integer({ min: 0, max: 220 }), { maxLength: 6 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 8 })],
    ([writes, rawSnapshots, cuts]) =>
      Effect.gen(function* () {
        const table = memtableOf(writes, cuts)
        assert.strictEqual(table.entries, writes.length)
        const snapshots = [...new Set(rawSnapshots)].sort((a, b) => a - b)
        assert.deepStrictEqual(yield* packedOrder(table, snapshots), inlineOrder(table, snapshots))
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("packs every payload, end to end in arrival order, into one buffer that the message moves to the worker", () =>
    Effect.gen(function* () {
      const table = new Memtable(1)
      // 10 batches of 100 entries, then 2 payloads as recovery adds them (read from a log) and 3 single entries.
      const put = (i: number): ResolvedOp => ({ kind: KIND_PUT, key: `k${i}`, value: new Uint8Array(100).fill(i & 255), valueLength: 100 })
      for (let b = 0; b < 10; b++) {
        const batch = encodeBatch(Array.from({ length: 100 }, (_, j) => put(b * 100 + j)))
        setSequence(batch.payload, b * 100 + 1)
        table.addBatch(batch, b * 100 + 1)
      }
      for (const i of [1000, 1001]) {
        const batch = encodeBatch([put(i)])
        setSequence(batch.payload, i + 1)
        table.addRecord(Uint8Array.from(batch.payload))
      }
      for (const i of [1002, 1003, 1004]) table.add(`k${i}`, i + 1, KIND_PUT, new Uint8Array(100).fill(i & 255))
      const run = yield* packMemtable(table)
      const payloads = table.records()
      assert.strictEqual(payloads.length, 15)
      assert.strictEqual(run.records.length, 2 * 15)
      let offset = 0
      for (let i = 0; i < 15; i++) {
        assert.strictEqual(run.records[2 * i], offset, `payload ${i} follows the one before`)
        assert.strictEqual(run.records[2 * i + 1], payloads[i]!.byteLength)
        assert.notStrictEqual(run.buffer, payloads[i]!.buffer, "a copy: the memtable keeps its own")
        assert.isTrue(Buffer.from(run.buffer, offset, payloads[i]!.byteLength).equals(payloads[i]!), `payload ${i}`)
        offset += payloads[i]!.byteLength
      }
      assert.strictEqual(run.buffer.byteLength, offset)
      assert.deepStrictEqual(transferList(run), [run.buffer, run.records.buffer])
      let n = 0
      forEachSorted(run, [], (key, _seq, _kind, value) => {
        const i = Number(key.slice(1))
        assert.strictEqual(value.byteLength, 100)
        assert.strictEqual(value[0], i & 255)
        n++
      })
      assert.strictEqual(n, 1005)
    }))
})
