import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { bloomHash, bloomProbes, buildFilter, FilterBuilder, mayContain, validFilter } from "../../src/internal/table/bloom.js"
import { seededRandom } from "../../src/internal/seededRandom.js"

/** A deterministic PRNG (mulberry32) so failures reproduce. */
const rng = seededRandom

const latin1 = (bytes: ReadonlyArray<number>) => Buffer.from(bytes).latin1Slice()

/** Random latin1 keys (bytes 0..255, lengths 1..24) with a distinguishing prefix. */
const randomKeys = (n: number, prefix: string, seed: number): Array<string> => {
  const next = rng(seed)
  const keys: Array<string> = []
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(next() * 24)
    const bytes: Array<number> = []
    for (let j = 0; j < len; j++) bytes.push(Math.floor(next() * 256))
    keys.push(prefix + i + ":" + latin1(bytes))
  }
  return keys
}

describe("bloom", () => {
  it("hashes like LevelDB's Hash with seed 0xbc9f1d34 (util/hash_test.cc vectors)", () => {
    assert.strictEqual(bloomHash(""), 0xbc9f1d34)
    assert.strictEqual(bloomHash(latin1([0x62])), 0xef1345c4)
    assert.strictEqual(bloomHash(latin1([0xc3, 0x97])), 0x5b663814)
    assert.strictEqual(bloomHash(latin1([0xe2, 0x99, 0xa5])), 0x323c078f)
    assert.strictEqual(bloomHash(latin1([0xe1, 0x80, 0xb9, 0x32])), 0xed21633a)
  })

  it("uses round(bitsPerKey * ln 2) probes clamped to [1, 30]", () => {
    assert.strictEqual(bloomProbes(10), 7)
    assert.strictEqual(bloomProbes(1), 1)
    assert.strictEqual(bloomProbes(5), 3)
    assert.strictEqual(bloomProbes(64), 30)
    const filter = buildFilter(["a", "b"], 10)
    assert.strictEqual(filter[filter.length - 1], 7)
  })

  it("sizes the filter at bitsPerKey bits per key, at least 64 bits", () => {
    assert.strictEqual(buildFilter(randomKeys(10_000, "k", 1), 10).length, 10_000 * 10 / 8 + 1)
    assert.strictEqual(buildFilter(["x"], 10).length, 8 + 1)
    assert.strictEqual(buildFilter([], 10).length, 8 + 1)
  })

  it("has no false negatives for 10k keys", () => {
    const keys = randomKeys(10_000, "present", 2)
    const filter = buildFilter(keys, 10)
    let missing = 0
    for (const key of keys) if (!mayContain(filter, key)) missing++
    assert.strictEqual(missing, 0)
  })

  it("has a false positive rate near theory at 10 bits/key", () => {
    const filter = buildFilter(randomKeys(10_000, "present", 3), 10)
    const absent = randomKeys(10_000, "absent", 4)
    let positives = 0
    for (const key of absent) if (mayContain(filter, key)) positives++
    const rate = positives / absent.length
    assert.isBelow(rate, 0.02, `false positive rate ${rate}`)
  })

  it("answers 'may contain' for every key when disabled (0 bits/key)", () => {
    const filter = buildFilter(randomKeys(1000, "present", 5), 0)
    assert.strictEqual(filter.length, 0)
    for (const key of randomKeys(1000, "absent", 6)) assert.isTrue(mayContain(filter, key))
  })

  it("FilterBuilder builds the same filter as buildFilter", () => {
    const keys = randomKeys(3000, "k", 7)
    const builder = new FilterBuilder(10)
    for (const key of keys) builder.addKey(key)
    assert.deepStrictEqual(builder.finish(), buildFilter(keys, 10))
    const disabled = new FilterBuilder(0)
    disabled.addKey("x")
    assert.strictEqual(disabled.finish().length, 0)
  })

  it("validates the filter's shape", () => {
    assert.isTrue(validFilter(new Uint8Array(0)))
    assert.isTrue(validFilter(buildFilter(["a"], 10)))
    assert.isFalse(validFilter(Uint8Array.of(0xff, 7)))
    const badK = buildFilter(["a"], 10)
    badK[badK.length - 1] = 31
    assert.isFalse(validFilter(badK))
    badK[badK.length - 1] = 0
    assert.isFalse(validFilter(badK))
  })
})
