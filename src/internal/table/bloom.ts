/**
 * The table's bloom filter (doc/table_format.md, "Filter block"): a bit array plus a probe-count
 * byte, probed by double hashing from LevelDB's 32-bit `Hash` (seed 0xbc9f1d34), as in LevelDB's
 * `util/bloom.cc`. Keys are latin1 strings, hashed through `charCodeAt` (each code unit is a byte).
 * An empty filter means "no filter": every key may be present.
 */
import { Buffer } from "node:buffer"
import { BLOOM_MAX_PROBES, BLOOM_MIN_PROBES } from "./tableFormat.js"

const SEED = 0xbc9f1d34
const M = 0xc6a4a793 | 0

/** LevelDB's `Hash(key bytes, seed 0xbc9f1d34)` over a latin1 key string; unsigned 32-bit. */
export const bloomHash = (key: string): number => {
  const n = key.length
  let h = SEED ^ Math.imul(n, M)
  let i = 0
  const whole = n & ~3
  for (; i < whole; i += 4) {
    const w =
      key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24)
    h = Math.imul((h + w) | 0, M)
    h ^= h >>> 16
  }
  const rest = n - i
  if (rest > 0) {
    if (rest === 3) h = (h + (key.charCodeAt(i + 2) << 16)) | 0
    if (rest >= 2) h = (h + (key.charCodeAt(i + 1) << 8)) | 0
    h = Math.imul((h + key.charCodeAt(i)) | 0, M)
    h ^= h >>> 24
  }
  return h >>> 0
}

/** Probes per key for `bitsPerKey`: round(bitsPerKey * ln 2) clamped to [1, 30]. */
export const bloomProbes = (bitsPerKey: number): number =>
  Math.min(BLOOM_MAX_PROBES, Math.max(BLOOM_MIN_PROBES, Math.round(bitsPerKey * Math.LN2)))

/** Builds the filter contents over `count` key hashes (empty when `bitsPerKey` is 0). */
export const buildFilterFromHashes = (hashes: ArrayLike<number>, count: number, bitsPerKey: number): Buffer => {
  if (bitsPerKey <= 0) return Buffer.alloc(0)
  const k = bloomProbes(bitsPerKey)
  const bytes = Math.ceil(Math.max(64, count * bitsPerKey) / 8)
  const bits = bytes * 8
  const out = Buffer.alloc(bytes + 1)
  out[bytes] = k
  for (let i = 0; i < count; i++) {
    let h = hashes[i]!
    const delta = ((h >>> 17) | (h << 15)) >>> 0
    for (let j = 0; j < k; j++) {
      const bit = h % bits
      out[bit >>> 3]! |= 1 << (bit & 7)
      h = (h + delta) >>> 0
    }
  }
  return out
}

/** Builds the filter contents over `keys` (latin1 strings; duplicates are harmless). */
export const buildFilter = (keys: ReadonlyArray<string>, bitsPerKey: number): Buffer => {
  const hashes = new Uint32Array(keys.length)
  for (let i = 0; i < keys.length; i++) hashes[i] = bloomHash(keys[i]!)
  return buildFilterFromHashes(hashes, keys.length, bitsPerKey)
}

/** False only when `key` is certainly not among the filter's keys. */
export const mayContainHash = (filter: Uint8Array, hash: number): boolean => {
  const len = filter.length
  if (len < 2) return true
  const k = filter[len - 1]!
  if (k > BLOOM_MAX_PROBES) return true
  const bits = (len - 1) * 8
  let h = hash
  const delta = ((h >>> 17) | (h << 15)) >>> 0
  for (let j = 0; j < k; j++) {
    const bit = h % bits
    if ((filter[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
    h = (h + delta) >>> 0
  }
  return true
}

/** False only when `key` is certainly not among the filter's keys. */
export const mayContain = (filter: Uint8Array, key: string): boolean =>
  filter.length < 2 ? true : mayContainHash(filter, bloomHash(key))

/** True when `filter` is well formed: empty (no filter), or >= 8 bit bytes and k in [1, 30]. */
export const validFilter = (filter: Uint8Array): boolean => {
  if (filter.length === 0) return true
  const k = filter[filter.length - 1]!
  return filter.length >= 9 && k >= BLOOM_MIN_PROBES && k <= BLOOM_MAX_PROBES
}

/** Collects key hashes while a table is built (in a growing `Uint32Array`). */
export class FilterBuilder {
  private hashes = new Uint32Array(1024)
  private count = 0

  constructor(readonly bitsPerKey: number) {}

  /** Adds a key (the table builder calls this once per distinct user key). */
  addKey(key: string): void {
    if (this.bitsPerKey <= 0) return
    if (this.count === this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2)
      grown.set(this.hashes)
      this.hashes = grown
    }
    this.hashes[this.count++] = bloomHash(key)
  }

  finish(): Buffer {
    return buildFilterFromHashes(this.hashes, this.count, this.bitsPerKey)
  }
}
