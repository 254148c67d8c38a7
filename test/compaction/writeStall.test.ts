/**
 * The write-stall rule is a pure function of the tree's shape: each decision at its boundary.
 */
import { assert, describe, it } from "@effect/vitest"
import { stallDecision, stallThresholds, type WriteRoom } from "../../src/internal/compaction/writeStall.js"
import { defaults } from "../../src/Options.js"

const room = (over: Partial<WriteRoom> = {}): WriteRoom => ({ level0Tables: 0, memtableBytes: 0, immutableMemtables: 0, slowed: false, ...over })

describe("write stalls", () => {
  it("thresholds: the triggers; tiered raises both by twice the merge width; no background compaction, no stalls", () => {
    assert.deepStrictEqual(stallThresholds(defaults), { slowdownAt: 8, stopAt: 12 })
    assert.deepStrictEqual(stallThresholds({ ...defaults, compaction: "tiered" }), { slowdownAt: 16, stopAt: 20 })
    const off = stallThresholds({ ...defaults, backgroundCompaction: false })
    assert.strictEqual(off.slowdownAt, Number.POSITIVE_INFINITY)
    assert.strictEqual(off.stopAt, Number.POSITIVE_INFINITY)
  })

  it("decisions at each boundary", () => {
    const t = stallThresholds(defaults)
    const full = defaults.writeBufferSize
    const decide = (r: Partial<WriteRoom>) => stallDecision(room(r), t, defaults)
    assert.strictEqual(decide({}), "proceed")
    assert.strictEqual(decide({ level0Tables: 7 }), "proceed")
    assert.strictEqual(decide({ level0Tables: 8 }), "slowdown")
    assert.strictEqual(decide({ level0Tables: 8, slowed: true }), "proceed")
    assert.strictEqual(decide({ memtableBytes: full - 1 }), "proceed")
    assert.strictEqual(decide({ memtableBytes: full }), "rotate")
    assert.strictEqual(decide({ memtableBytes: full, immutableMemtables: 2 }), "wait")
    assert.strictEqual(decide({ memtableBytes: full, immutableMemtables: 1, level0Tables: 12, slowed: true }), "wait")
    assert.strictEqual(decide({ memtableBytes: full, immutableMemtables: 1, level0Tables: 11, slowed: true }), "rotate")
    // L0 at the stop trigger only stops a write that must switch memtables.
    assert.strictEqual(decide({ level0Tables: 12, slowed: true }), "proceed")
  })
})
