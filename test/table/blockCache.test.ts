import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { BlockCache } from "../../src/internal/table/blockCache.js"

/** A plain LRU model: an array of [file, offset, value, charge], most recent last. */
class ModelLru {
  items: Array<{ file: number; offset: number; value: string; charge: number }> = []
  hits = 0
  misses = 0
  constructor(readonly capacity: number) {}
  get usage() {
    return this.items.reduce((s, i) => s + i.charge, 0)
  }
  get(file: number, offset: number) {
    const at = this.items.findIndex((i) => i.file === file && i.offset === offset)
    if (at < 0) {
      this.misses++
      return undefined
    }
    this.hits++
    const [item] = this.items.splice(at, 1)
    this.items.push(item!)
    return item!.value
  }
  set(file: number, offset: number, value: string, charge: number) {
    this.items = this.items.filter((i) => !(i.file === file && i.offset === offset))
    if (charge > this.capacity) return
    while (this.usage + charge > this.capacity) this.items.shift()
    this.items.push({ file, offset, value, charge })
  }
  evictFile(file: number) {
    this.items = this.items.filter((i) => i.file !== file)
  }
}

describe("BlockCache", () => {
  it("evicts the least recently used block", () => {
    const cache = new BlockCache<string>(300)
    cache.set(1, 0, "a", 100)
    cache.set(1, 100, "b", 100)
    cache.set(2, 0, "c", 100)
    assert.strictEqual(cache.get(1, 0), "a") // a is now the most recent; b the least
    cache.set(2, 100, "d", 100) // evicts b; recency is now c, a, d
    assert.strictEqual(cache.entries, 3)
    assert.isFalse(cache.has(1, 100))
    assert.isTrue(cache.has(1, 0))
    cache.set(3, 0, "e", 150) // evicts c then a (the least recent) to fit
    assert.strictEqual(cache.usage, 250)
    assert.isUndefined(cache.get(1, 100))
    assert.isUndefined(cache.get(2, 0))
    assert.isUndefined(cache.get(1, 0))
    assert.strictEqual(cache.get(2, 100), "d")
    assert.strictEqual(cache.get(3, 0), "e")
  })

  it("counts hits and misses", () => {
    const cache = new BlockCache<string>(1000)
    assert.isUndefined(cache.get(1, 0))
    cache.set(1, 0, "x", 10)
    cache.get(1, 0)
    cache.get(1, 0)
    cache.get(1, 10)
    assert.strictEqual(cache.hits, 2)
    assert.strictEqual(cache.misses, 2)
    assert.isTrue(cache.has(1, 0))
    assert.strictEqual(cache.hits, 2) // has() does not count
  })

  it("does not cache a block larger than the capacity, nor anything at capacity 0", () => {
    const cache = new BlockCache<string>(100)
    cache.set(1, 0, "small", 60)
    cache.set(1, 100, "huge", 101)
    assert.isUndefined(cache.get(1, 100))
    assert.strictEqual(cache.get(1, 0), "small")
    assert.strictEqual(cache.usage, 60)
    const none = new BlockCache<string>(0)
    none.set(1, 0, "x", 1)
    none.set(1, 1, "y", 0)
    assert.strictEqual(none.usage, 0)
    assert.isUndefined(none.get(1, 0))
    assert.strictEqual(none.capacity, 0)
  })

  it("replaces a block set twice and re-charges it", () => {
    const cache = new BlockCache<string>(100)
    cache.set(1, 0, "old", 40)
    cache.set(1, 0, "new", 70)
    assert.strictEqual(cache.usage, 70)
    assert.strictEqual(cache.entries, 1)
    assert.strictEqual(cache.get(1, 0), "new")
    cache.set(1, 0, "too big", 200) // replaced by nothing: the old one must not linger
    assert.isUndefined(cache.get(1, 0))
    assert.strictEqual(cache.usage, 0)
  })

  it("evictFile drops exactly that file's blocks", () => {
    const cache = new BlockCache<string>(10_000)
    for (let f = 1; f <= 3; f++) for (let o = 0; o < 5; o++) cache.set(f, o * 4096, `${f}:${o}`, 100)
    assert.strictEqual(cache.usage, 1500)
    cache.evictFile(2)
    assert.strictEqual(cache.usage, 1000)
    assert.strictEqual(cache.entries, 10)
    for (let o = 0; o < 5; o++) {
      assert.isUndefined(cache.get(2, o * 4096))
      assert.strictEqual(cache.get(1, o * 4096), `1:${o}`)
      assert.strictEqual(cache.get(3, o * 4096), `3:${o}`)
    }
    cache.evictFile(42) // unknown file: nothing happens
    assert.strictEqual(cache.usage, 1000)
    // The LRU list is intact after eviction: filling up evicts the oldest of the survivors.
    cache.set(4, 0, "big", 9001) // needs one block's room: the least recently used, 1:0
    assert.strictEqual(cache.usage, 9901)
    assert.isTrue(cache.has(3, 0))
    assert.isFalse(cache.has(1, 0))
  })

  it.prop(
    "never exceeds its capacity and behaves like a model LRU",
    {
      capacity: fc.integer({ min: 0, max: 500 }),
      ops: fc.array(
        fc.oneof(
          fc.record({
            op: fc.constant("set" as const),
            file: fc.integer({ min: 1, max: 4 }),
            offset: fc.integer({ min: 0, max: 6 }),
            charge: fc.integer({ min: 0, max: 200 })
          }),
          fc.record({ op: fc.constant("get" as const), file: fc.integer({ min: 1, max: 4 }), offset: fc.integer({ min: 0, max: 6 }) }),
          fc.record({ op: fc.constant("evict" as const), file: fc.integer({ min: 1, max: 4 }) })
        ),
        { maxLength: 200 }
      )
    },
    ({ capacity, ops }) => {
      const cache = new BlockCache<string>(capacity)
      const model = new ModelLru(capacity)
      ops.forEach((o, step) => {
        if (o.op === "set") {
          cache.set(o.file, o.offset, `v${step}`, o.charge)
          model.set(o.file, o.offset, `v${step}`, o.charge)
        } else if (o.op === "get") {
          assert.strictEqual(cache.get(o.file, o.offset), model.get(o.file, o.offset), `step ${step}`)
        } else {
          cache.evictFile(o.file)
          model.evictFile(o.file)
        }
        assert.isAtMost(cache.usage, capacity)
        assert.strictEqual(cache.usage, model.usage, `usage at step ${step}`)
        assert.strictEqual(cache.entries, model.items.length)
      })
      assert.strictEqual(cache.hits, model.hits)
      assert.strictEqual(cache.misses, model.misses)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("admits every block while there is room, then only blocks missed twice in a while", () => {
    const cache = new BlockCache<string>(100)
    assert.isTrue(cache.admit(1, 0, 40))
    cache.set(1, 0, "a", 40)
    assert.isTrue(cache.admit(1, 40, 40))
    cache.set(1, 40, "b", 40)
    // Full: a first miss is not admitted, the second is.
    assert.isFalse(cache.admit(1, 80, 40))
    assert.isFalse(cache.admit(2, 0, 40))
    assert.isTrue(cache.admit(1, 80, 40))
    assert.isTrue(cache.admit(2, 0, 40))
    // The ghost is used up by the admission.
    assert.isFalse(cache.admit(1, 80, 40))
    // A block larger than the whole cache is never admitted.
    assert.isFalse(cache.admit(3, 0, 101))
    assert.isFalse(new BlockCache<string>(0).admit(1, 0, 1))
  })

  it("remembers a bounded number of first misses", () => {
    const cache = new BlockCache<string>(10)
    cache.set(9, 0, "x", 10)
    assert.isFalse(cache.admit(1, 0, 10))
    // Enough other first misses push the first one out of memory: it counts as a first miss again.
    for (let i = 1; i <= 5000; i++) cache.admit(2, i, 10)
    assert.isFalse(cache.admit(1, 0, 10))
    assert.isTrue(cache.admit(1, 0, 10))
  })

  it("forgets a first miss by its newest memory, not an older one", () => {
    const cache = new BlockCache<string>(10)
    cache.set(9, 0, "x", 10)
    // Remembered (oldest memory), admitted, remembered again one memory later.
    assert.isFalse(cache.admit(1, 0, 10))
    assert.isTrue(cache.admit(1, 0, 10))
    assert.isFalse(cache.admit(1, 0, 10))
    // 1,023 other first misses: the oldest memory is overwritten, the newer one is still there.
    for (let i = 1; i <= 1023; i++) assert.isFalse(cache.admit(2, i, 10))
    assert.isTrue(cache.admit(1, 0, 10))
  })
})
