/**
 * A flush through the worker writes the same table as a flush inline: a memtable packed
 * (internal/background/packedRun.ts) and replayed with `forEachSorted` gives the table builder the
 * same entries in the same order as `writeMemtable` does, with the same versions kept for snapshots.
 */
import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { FastCheck as fc } from "effect"
import { forEachSorted, packMemtable } from "../../src/internal/background/packedRun.js"
import { KIND_DELETE, KIND_PUT, type Kind } from "../../src/internal/key/internalKey.js"
import { Memtable } from "../../src/internal/memtable/memtable.js"
import { neededBySnapshot } from "../../src/internal/snapshotRetention.js"
import { encodeBatch, type ResolvedOp, setSequence } from "../../src/internal/wal/batchCodec.js"
import { SHARED_MIN } from "../../src/internal/wal/payloadArena.js"

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

  it.effect("packs where batch payloads lie in shared memory, copying none; smaller or unshared payloads are copied into one shared buffer", () =>
    Effect.gen(function* () {
      const table = new Memtable(1)
      // 10 batches of 100 entries (12 KiB payloads: shared memory), then 2 payloads as recovery
      // adds them (read from a log: not shared) and 3 single entries (small payloads: ordinary memory).
      const put = (i: number): ResolvedOp => ({ kind: KIND_PUT, key: `k${i}`, value: new Uint8Array(100).fill(i & 255), valueLength: 100 })
      for (let b = 0; b < 10; b++) {
        const batch = encodeBatch(Array.from({ length: 100 }, (_, j) => put(b * 100 + j)))
        assert.isAtLeast(batch.payload.byteLength, SHARED_MIN)
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
      assert.strictEqual(run.records.length, 3 * 15)
      for (let i = 0; i < 15; i++) {
        const buffer = run.buffers[run.records[3 * i]!]!
        assert.instanceOf(buffer, SharedArrayBuffer)
        if (i < 10) {
          assert.strictEqual(buffer, payloads[i]!.buffer, "the payload's own chunk")
          assert.strictEqual(run.records[3 * i + 1], payloads[i]!.byteOffset)
        } else {
          assert.notStrictEqual(buffer, payloads[i]!.buffer, "a copy")
        }
        assert.isTrue(Buffer.from(buffer, run.records[3 * i + 1], run.records[3 * i + 2]).equals(payloads[i]!), `payload ${i}`)
      }
      assert.isAtMost(run.buffers.length, 3, "a chunk or two, plus the copy")
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
