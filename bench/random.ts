/**
 * Fast deterministic randomness for the workloads: a seeded xorshift128 generator and a 32-bit
 * integer hash (murmur3's finalizer) for values derived from an index, so a reader can rebuild
 * the key and value a loader wrote without keeping them in memory.
 */

/** murmur3's 32-bit finalizer: a bijective mix of `x` (as u32). */
export const mix32 = (x: number): number => {
  let h = x | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A hash of (a, b) as u32. */
export const hash2 = (a: number, b: number): number => mix32(mix32(a) ^ Math.imul(b | 0, 0x9e3779b1) ^ 0x5bd1e995)

export class Rng {
  private x: number
  private y: number
  private z: number
  private w: number

  constructor(seed: number) {
    this.x = mix32(seed) | 1
    this.y = mix32(seed + 1)
    this.z = mix32(seed + 2)
    this.w = mix32(seed + 3)
  }

  /** A uniform u32. */
  next(): number {
    const t = this.x ^ (this.x << 11)
    this.x = this.y
    this.y = this.z
    this.z = this.w
    this.w = this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))
    return this.w >>> 0
  }

  /** A uniform integer in [0, n) for n <= 2^32. */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n)
  }

  /** The integers 0..n-1 in a uniformly random order (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n)
    for (let i = 0; i < n; i++) out[i] = i
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1)
      const t = out[i]!
      out[i] = out[j]!
      out[j] = t
    }
    return out
  }
}

/**
 * The decimal text of a random u64 built from three u32 draws: uniform over
 * [0, 1844674407 * 10^10), i.e. all u64 values but the top 0.00000002%. No BigInt: this runs
 * once per operation in the keylite workload.
 */
export const u64Text = (a: number, b: number, c: number): string => {
  const high = Math.floor((a / 4294967296) * 1844674407)
  const low = (b % 100000) * 100000 + (c % 100000)
  if (high === 0) return String(low)
  const lowText = String(low)
  return String(high) + "0000000000".slice(lowText.length) + lowText
}
