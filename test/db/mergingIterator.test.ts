/**
 * The merging iterator against a sorted model: many children (some empty), forward and backward
 * from random seeks, with children that go pending (need I/O) at random steps.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import type { InternalIterator } from "../../src/internal/iter/internalIterator.js"
import { MergingIterator } from "../../src/internal/iter/mergingIterator.js"
import { compareInternal, KIND_PUT, type Kind } from "../../src/internal/key/internalKey.js"

type Entry = readonly [key: string, seq: number]

/** An array-backed child that goes pending after a positioning step when `flaky` says so. */
class ArrayIterator implements InternalIterator {
  private i = -1
  private waiting = false
  constructor(private readonly entries: ReadonlyArray<Entry>, private readonly flaky: () => boolean) {}
  private step(i: number) {
    this.i = i
    this.waiting = this.flaky()
  }
  valid() {
    return this.i >= 0 && this.i < this.entries.length
  }
  key() {
    return this.entries[this.i]![0]
  }
  seq() {
    return this.entries[this.i]![1]
  }
  kind(): Kind {
    return KIND_PUT
  }
  value() {
    return new Uint8Array(0)
  }
  pending() {
    return this.waiting
  }
  load() {
    return Effect.sync(() => {
      this.waiting = false
    })
  }
  seekToFirst() {
    this.step(0)
  }
  seekToLast() {
    this.step(this.entries.length - 1)
  }
  seek(key: string, seq: number) {
    let j = 0
    while (j < this.entries.length && compareInternal(this.entries[j]![0], this.entries[j]![1], key, seq) < 0) j++
    this.step(j)
  }
  seekForPrev(key: string, seq: number) {
    let j = this.entries.length - 1
    while (j >= 0 && compareInternal(this.entries[j]![0], this.entries[j]![1], key, seq) > 0) j--
    this.step(j)
  }
  next() {
    this.step(this.i + 1)
  }
  prev() {
    this.step(this.i - 1)
  }
}

const order = (a: Entry, b: Entry) => compareInternal(a[0], a[1], b[0], b[1])

const drain = (it: MergingIterator, forward: boolean) =>
  Effect.gen(function* () {
    const out: Array<Entry> = []
    for (;;) {
      if (it.pending()) yield* it.load()
      if (!it.valid()) return out
      out.push([it.key(), it.seq()])
      if (forward) it.next()
      else it.prev()
    }
  })

describe("MergingIterator", () => {
  it.effect.prop(
    "walks the union of its children in internal-key order, both ways, from any seek",
    [
      fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 40 }), {
        minLength: 1,
        maxLength: 12
      }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 1001 }),
      fc.integer()
    ],
    ([lists, seekKey, seekSeq, seed]) =>
      Effect.gen(function* () {
        // Distinct (key, seq) pairs across children, as in the engine (sequences are unique).
        const seen = new Set<string>()
        const children = lists.map((list) => {
          const entries: Array<Entry> = []
          for (const [k, s] of list) {
            const entry: Entry = [`k${String(k).padStart(3, "0")}`, s]
            if (seen.has(`${entry[0]}/${s}`)) continue
            seen.add(`${entry[0]}/${s}`)
            entries.push(entry)
          }
          return entries.sort(order)
        })
        const all = children.flat().sort(order)
        let state = seed | 1
        const flaky = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) & 3) === 0
        const make = () => new MergingIterator(children.map((c) => new ArrayIterator(c, flaky)))
        const key = `k${String(seekKey).padStart(3, "0")}`

        let it = make()
        it.seekToFirst()
        assert.deepStrictEqual(yield* drain(it, true), all)
        it = make()
        it.seekToLast()
        assert.deepStrictEqual(yield* drain(it, false), [...all].reverse())
        it = make()
        it.seek(key, seekSeq)
        assert.deepStrictEqual(yield* drain(it, true), all.filter((e) => order(e, [key, seekSeq]) >= 0))
        it = make()
        it.seekForPrev(key, seekSeq)
        assert.deepStrictEqual(
          yield* drain(it, false),
          all.filter((e) => order(e, [key, seekSeq]) <= 0).reverse()
        )
      }),
    { fastCheck: { numRuns: 300 } }
  )
})
