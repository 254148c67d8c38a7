/**
 * A log-linear latency histogram in the spirit of HdrHistogram: values below 256 are counted
 * exactly; above, every power of two is split into 128 equal sub-buckets, so a reported
 * percentile is at most 1/128 (< 0.8%) above the true sample. Values are non-negative integers
 * (nanoseconds here) up to 2^42 (~73 minutes); larger ones are clamped. Recording is a few
 * arithmetic operations and one array increment: no allocation.
 */

const SUB_BITS = 7
const SUB_COUNT = 1 << SUB_BITS // 128 sub-buckets per power of two
const MAX_BITS = 42
const MAX_VALUE = 2 ** MAX_BITS - 1
const BUCKETS = (MAX_BITS - SUB_BITS + 1) * SUB_COUNT

/** The bucket of a non-negative integer value. */
const indexOf = (value: number): number => {
  if (value < 2 * SUB_COUNT) return value
  const msb = value < 4294967296 ? 31 - Math.clz32(value) : Math.floor(Math.log2(value))
  const shift = msb - SUB_BITS
  return shift * SUB_COUNT + Math.floor(value / 2 ** shift)
}

/** The largest value that lands in bucket `index`. */
const highestOf = (index: number): number => {
  if (index < 2 * SUB_COUNT) return index
  const shift = Math.floor(index / SUB_COUNT) - 1
  const sub = index - shift * SUB_COUNT // in [SUB_COUNT, 2 * SUB_COUNT)
  return (sub + 1) * 2 ** shift - 1
}

/** The smallest value that lands in bucket `index`. */
const lowestOf = (index: number): number => {
  if (index < 2 * SUB_COUNT) return index
  const shift = Math.floor(index / SUB_COUNT) - 1
  return (index - shift * SUB_COUNT) * 2 ** shift
}

/** Percentiles, mean and extremes of recorded latencies (nanoseconds). */
export interface LatencySummary {
  readonly count: number
  readonly min: number
  readonly mean: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS)
  private _count = 0
  private _sum = 0
  private _min = Number.POSITIVE_INFINITY
  private _max = 0

  /** Records one value; fractions are rounded, negatives count as 0. */
  record(value: number): void {
    let v = value > 0 ? Math.round(value) : 0
    if (v > MAX_VALUE) v = MAX_VALUE
    this.counts[indexOf(v)]! += 1
    this._count += 1
    this._sum += v
    if (v < this._min) this._min = v
    if (v > this._max) this._max = v
  }

  get count(): number {
    return this._count
  }

  get min(): number {
    return this._count === 0 ? 0 : this._min
  }

  get max(): number {
    return this._max
  }

  get mean(): number {
    return this._count === 0 ? 0 : this._sum / this._count
  }

  /**
   * The value at percentile `p` (0..100): the smallest recorded value v such that at least p% of
   * the samples are <= v, reported as the top of v's bucket (never above the maximum, never below
   * the minimum). 0 when empty.
   */
  percentile(p: number): number {
    if (this._count === 0) return 0
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this._count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.max(this._min, Math.min(this._max, highestOf(i)))
    }
    return this._max
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: Histogram): this {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!
    this._count += other._count
    this._sum += other._sum
    if (other._count > 0) {
      if (other._min < this._min) this._min = other._min
      if (other._max > this._max) this._max = other._max
    }
    return this
  }

  summary(): LatencySummary {
    return {
      count: this._count,
      min: this.min,
      mean: Math.round(this.mean),
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.max
    }
  }
}

/** The relative width of a bucket: a percentile is within this fraction above its true sample. */
export const relativePrecision = 1 / SUB_COUNT

/** Exposed for tests: bucket bounds of a value. */
export const bucketBounds = (value: number): readonly [low: number, high: number] => {
  const i = indexOf(value)
  return [lowestOf(i), highestOf(i)]
}
