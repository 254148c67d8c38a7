/**
 * One open database's metrics (`Metrics.ts`): its labelled series, and the timers the hot paths
 * call. A point operation asks its `Latency` for a start time: one call in `latencySampling` gets
 * `performance.now()`, the others -1 (a decrement and a compare, no clock read); `record` with -1
 * does nothing. Disabled metrics time nothing.
 */
import { Context, Duration, Effect, Option } from "effect"
import { InvalidArgument } from "../../errors.js"
import { defaults, type DatabaseMetrics, forDatabase, MetricsConfig, type MetricsOptions } from "../../Metrics.js"
import type { Metric } from "effect"

const NO_TAGS: ReadonlyArray<never> = []

/**
 * A histogram of times, one call in `every` timed (1: each one), recorded in microseconds (point
 * operations) or milliseconds (flushes and compactions).
 */
export class Latency {
  private countdown: number
  private readonly scale: number
  constructor(
    private readonly histogram: Metric.Metric.Histogram<number> | undefined,
    private readonly every: number,
    unit: "micros" | "millis" = "micros"
  ) {
    this.countdown = histogram === undefined ? Infinity : every
    this.scale = unit === "micros" ? 1000 : 1
  }

  /** `performance.now()` when this call is to be timed, else -1. */
  start(): number {
    if (--this.countdown !== 0) return -1
    this.countdown = this.every
    return performance.now()
  }

  /** Records the time since `start` (nothing when `start` is -1). */
  record(start: number): void {
    if (start >= 0) this.histogram!.unsafeUpdate((performance.now() - start) * this.scale, NO_TAGS)
  }
}

export interface DbMetrics {
  /** The series; undefined when metrics are disabled. */
  readonly series: DatabaseMetrics | undefined
  /** How often the publisher runs, in milliseconds. */
  readonly intervalMillis: number
  readonly get: Latency
  readonly put: Latency
  readonly delete: Latency
  readonly write: Latency
  /** Each flush and each compaction, in milliseconds. */
  readonly flush: Latency
  readonly compaction: Latency
}

export class DbMetricsTag extends Context.Tag("stratadb/DbMetrics")<DbMetricsTag, DbMetrics>() {}

/** The metrics of the database in `directory`, as the `MetricsConfig` in the context (if any) says. */
export const make = (directory: string): Effect.Effect<DbMetrics, InvalidArgument> =>
  Effect.gen(function* () {
    const provided = yield* Effect.serviceOption(MetricsConfig)
    const options: MetricsOptions = Option.getOrElse(provided, () => ({}))
    const problems: Array<string> = []
    const enabled = options.enabled ?? defaults.enabled
    if (typeof enabled !== "boolean") problems.push(`enabled: expected a boolean, got ${String(enabled)}`)
    const database = options.database ?? directory
    if (typeof database !== "string" || database.length === 0) problems.push(`database: expected a non-empty string, got ${String(database)}`)
    const sampling = options.latencySampling ?? defaults.latencySampling
    if (!Number.isSafeInteger(sampling) || sampling < 1) problems.push(`latencySampling: expected an integer >= 1, got ${String(sampling)}`)
    const interval = options.interval === undefined ? Option.some(Duration.millis(defaults.intervalMillis)) : Duration.decodeUnknown(options.interval)
    const intervalMillis = Option.isSome(interval) ? Duration.toMillis(interval.value) : NaN
    if (!(intervalMillis > 0 && Number.isFinite(intervalMillis))) problems.push(`interval: expected a positive finite duration, got ${String(options.interval)}`)
    if (problems.length > 0) return yield* new InvalidArgument({ method: "open", description: `Metrics: ${problems.join("; ")}` })
    const series = enabled ? forDatabase(database) : undefined
    return {
      series,
      intervalMillis,
      get: new Latency(series?.getLatency, sampling),
      put: new Latency(series?.putLatency, sampling),
      delete: new Latency(series?.deleteLatency, sampling),
      write: new Latency(series?.writeLatency, sampling),
      flush: new Latency(series?.flushDuration, 1, "millis"),
      compaction: new Latency(series?.compactionDuration, 1, "millis")
    }
  })
