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

describe("packed run", () => {
  it.effect.prop(
    "replays a memtable's entries in internal-key order, keeping the versions snapshots need, as an inline flush does",
    [writeArb, fc.array(fc.integer({ min: 0, max: 220 }), { maxLength: 6 })],
    ([writes, rawSnapshots]) =>
      Effect.gen(function* () {
        const table = new Memtable(1)
        writes.forEach((w, i) => table.add(w.key, i + 1, w.put ? KIND_PUT : KIND_DELETE, w.put ? Buffer.from(w.value, "latin1") : new Uint8Array(0)))
        const snapshots = [...new Set(rawSnapshots)].sort((a, b) => a - b)
        assert.deepStrictEqual(yield* packedOrder(table, snapshots), inlineOrder(table, snapshots))
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("packs values into one buffer no larger than twice what they hold", () =>
    Effect.gen(function* () {
      const table = new Memtable(1)
      for (let i = 0; i < 1000; i++) table.add(`k${i}`, i + 1, KIND_PUT, new Uint8Array(100).fill(i & 255))
      const run = yield* packMemtable(table)
      assert.strictEqual(run.seqs.length, 1000)
      assert.strictEqual(run.valueEnds[999], 100_000)
      assert.isAtMost(run.values.byteLength, 200_000)
      let n = 0
      forEachSorted(run, [], (key, _seq, _kind, value) => {
        const i = Number(key.slice(1))
        assert.strictEqual(value.byteLength, 100)
        assert.strictEqual(value[0], i & 255)
        n++
      })
      assert.strictEqual(n, 1000)
    }))
})
