import { assert, describe, it } from "@effect/vitest"
import { allowedSeeks, SeekCharges } from "../../src/internal/state/seekCharges.js"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"

const table = (number: number, size: number): FileMeta => ({
  number,
  size,
  rawSize: size,
  smallestKey: "a",
  smallestSeq: 1,
  largestKey: "z",
  largestSeq: 1,
  entries: 1,
  tombstones: 0,
  minSeq: 1,
  maxSeq: 1
})

describe("SeekCharges", () => {
  it("allows max(100, size / 16 KiB) seeks", () => {
    assert.strictEqual(allowedSeeks(0), 100)
    assert.strictEqual(allowedSeeks(100 * 16384 - 1), 100)
    assert.strictEqual(allowedSeeks(2 * 1024 * 1024), 128)
    assert.strictEqual(allowedSeeks(64 * 1024 * 1024 + 5), 4096)
  })

  it("a table becomes due at its last allowed seek, and only one table is due at a time", () => {
    const seeks = new SeekCharges()
    const big = table(1, 2 * 1024 * 1024)
    const small = table(2, 1000)
    for (let i = 1; i < 128; i++) assert.isFalse(seeks.charge(big), `charge ${i}`)
    for (let i = 1; i < 100; i++) assert.isFalse(seeks.charge(small), `charge ${i}`)
    assert.isTrue(seeks.charge(small), "the 100th seek makes the small table due")
    // big's 128th seek does not replace the table already due.
    assert.strictEqual(seeks.due(), small)
    assert.isFalse(seeks.charge(big))
    assert.strictEqual(seeks.due(), small)
    // Clearing another table changes nothing; clearing the due one lets the next spent table in.
    seeks.clear(big)
    assert.strictEqual(seeks.due(), small)
    seeks.clear(small)
    assert.strictEqual(seeks.due(), undefined)
    assert.isTrue(seeks.charge(big), "big has no seeks left: its next charge makes it due")
    assert.strictEqual(seeks.due(), big)
  })

  it("charges are per table object: a copy (a table moved to another level) starts afresh", () => {
    const seeks = new SeekCharges()
    const t = table(3, 0)
    for (let i = 0; i < 100; i++) seeks.charge(t)
    assert.strictEqual(seeks.due(), t)
    seeks.clear(t)
    const moved = { ...t }
    for (let i = 1; i < 100; i++) assert.isFalse(seeks.charge(moved), `charge ${i}`)
    assert.isTrue(seeks.charge(moved))
  })
})
