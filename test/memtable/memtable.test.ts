/**
 * The memtable decodes large committed batches into its map only when a read needs them (small
 * ones at once, `EAGER_BATCH_MAX`; batches here straddle it): every read
 * (point reads at any sequence, version chains, the sorted and unsorted key lists, the distinct key
 * count) sees every batch added before it, whether it came as a committed batch, as a logged record
 * (recovery) or on its own, and reads interleaved with adds see what a model of all versions sees.
 */
import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { FastCheck as fc } from "effect"
import { KIND_DELETE, KIND_PUT, type Kind } from "../../src/internal/key/internalKey.js"
import { EAGER_BATCH_MAX, ENTRY_OVERHEAD, Memtable } from "../../src/internal/memtable/memtable.js"
import { encodeBatch, setSequence } from "../../src/internal/wal/batchCodec.js"

interface Version {
  readonly key: string
  readonly seq: number
  readonly kind: Kind
  readonly value: string
}

const stepArb = fc.oneof(
  fc.record({
    _tag: fc.constantFrom("batch" as const, "record" as const, "single" as const),
    ops: fc.array(fc.record({ key: fc.constantFrom("a", "b", "c", "d", "\u00ff", ""), put: fc.boolean(), value: fc.string({ maxLength: 8 }) }), { minLength: 1, maxLength: 2 * EAGER_BATCH_MAX })
  }),
  fc.record({ _tag: fc.constant("read" as const), at: fc.nat({ max: 60 }) })
)

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1")

describe("memtable", () => {
  it.prop("reads see every batch added before them, decoded on demand, as a model of all versions does", [fc.array(stepArb, { maxLength: 40 })], ([steps]) => {
    const table = new Memtable(1)
    const model: Array<Version> = []
    let seq = 0
    let userBytes = 0
    for (const step of steps) {
      if (step._tag === "read") {
        const keys = [...new Set(model.map((v) => v.key))].sort()
        assert.deepStrictEqual([...table.sortedKeys()], keys)
        assert.deepStrictEqual([...table.unsortedKeys()].sort(), keys)
        assert.strictEqual(table.distinctKeys, keys.length)
        for (const key of keys) {
          const newestFirst = model.filter((v) => v.key === key).reverse()
          const chain: Array<Version> = []
          for (let e = table.chain(key); e !== undefined; e = e.older) chain.push({ key, seq: e.seq, kind: e.kind, value: latin1(e.value) })
          assert.deepStrictEqual(chain, newestFirst)
          const visible = newestFirst.find((v) => v.seq <= step.at)
          const got = table.get(key, step.at)
          assert.strictEqual(got?.seq, visible?.seq)
          if (got !== undefined) assert.strictEqual(latin1(got.value), visible!.value)
        }
        continue
      }
      const ops = step._tag === "single" ? step.ops.slice(0, 1) : step.ops
      const first = seq + 1
      const versions = ops.map((op, i): Version => ({ key: op.key, seq: first + i, kind: op.put ? KIND_PUT : KIND_DELETE, value: op.put ? op.value : "" }))
      if (step._tag === "single") {
        table.add(versions[0]!.key, first, versions[0]!.kind, Buffer.from(versions[0]!.value, "latin1"))
      } else {
        const batch = encodeBatch(versions.map((v) =>
          v.kind === KIND_PUT
            ? { kind: KIND_PUT, key: v.key, value: Buffer.from(v.value, "latin1"), valueLength: v.value.length }
            : { kind: KIND_DELETE, key: v.key, value: undefined, valueLength: 0 }
        ))
        setSequence(batch.payload, first)
        if (step._tag === "record") assert.strictEqual(table.addRecord(Uint8Array.from(batch.payload)), first + ops.length - 1)
        else table.addBatch(batch, first)
      }
      seq += ops.length
      model.push(...versions)
      for (const v of versions) userBytes += v.key.length + v.value.length
      // Counted when added, before any read decodes them.
      assert.strictEqual(table.entries, model.length)
      assert.strictEqual(table.approximateBytes, userBytes + model.length * ENTRY_OVERHEAD)
      assert.strictEqual(table.maxSeq, seq)
      assert.strictEqual(table.minSeq, 1)
    }
  })
})
