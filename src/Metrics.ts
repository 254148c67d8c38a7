/**
 * The engine's Effect `Metric`s: counters, histograms and gauges in Effect's global metric
 * registry, each series labelled `database` (the database's absolute directory, or the name given
 * to `Metrics.layer`), so databases in one process keep separate series. Read them with
 * `Metric.value` (through `forDatabase`, which applies the labels in the order the engine does),
 * or export them from the registry (`Metric.snapshot`, or `@effect/opentelemetry`'s metrics layer).
 *
 * Cost: the engine keeps plain-number counters on its hot paths anyway (`Db.stats`); a fiber in
 * the database's scope adds what they grew by into the counters below, and sets the gauges, every
 * `interval` (default 1 second) and once more at close. The latency histograms time one point
 * operation in `latencySampling` (default 16) with `performance.now()`: timing one costs about
 * 0.2 us (two clock reads and the histogram's update), so timing every put would cost one in the
 * hundreds of thousands per second a put runs at; one in 16 costs ~5 ns an operation on average
 * (bench/experiments/metricsCost.ts). Flushes and compactions are each timed.
 *
 * | metric | type | unit | what |
 * |---|---|---|---|
 * | `stratadb_puts` | counter | operations | puts applied (alone or in a batch) |
 * | `stratadb_deletes` | counter | operations | deletes applied (alone, in a batch, or by `deleteRange`) |
 * | `stratadb_gets` | counter | operations | point reads (`get`, `getSync`, `has`, each key of `getMany`/`hasMany`) |
 * | `stratadb_table_reads` | counter | tables | tables point reads searched (`DbStats.tableReads`) |
 * | `stratadb_user_bytes_written` | counter | bytes | keys and values handed in |
 * | `stratadb_wal_bytes_written` | counter | bytes | bytes appended to write-ahead logs |
 * | `stratadb_flush_bytes_written` | counter | bytes | bytes of the tables flushes wrote |
 * | `stratadb_compaction_bytes_read` | counter | bytes | bytes of tables compactions read |
 * | `stratadb_compaction_bytes_written` | counter | bytes | bytes of tables compactions wrote |
 * | `stratadb_flushes` | counter | flushes | memtables flushed |
 * | `stratadb_compactions` | counter | compactions | compactions done (trivial moves included) |
 * | `stratadb_write_slowdowns` | counter | writes | writes (or commit groups) delayed 1 ms because L0 piled up |
 * | `stratadb_write_stops` | counter | writes | writes (or commit groups) that waited for a flush or a compaction |
 * | `stratadb_stall_micros` | counter | microseconds | time writers spent slowed down or stopped |
 * | `stratadb_block_cache_hits` | counter | blocks | block cache lookups that found the block |
 * | `stratadb_block_cache_misses` | counter | blocks | block cache lookups that read the file |
 * | `stratadb_bloom_useful` | counter | tables | tables a bloom filter ruled out for a point read |
 * | `stratadb_bloom_false_positives` | counter | tables | tables a bloom filter let through that held no version of the key visible to the read |
 * | `stratadb_get_latency_micros` | histogram | microseconds | a point read's time (sampled) |
 * | `stratadb_put_latency_micros` | histogram | microseconds | a `put`'s time, group commit and stalls included (sampled) |
 * | `stratadb_delete_latency_micros` | histogram | microseconds | a `delete`'s time (sampled) |
 * | `stratadb_write_latency_micros` | histogram | microseconds | a `write` (batch)'s time (sampled) |
 * | `stratadb_flush_duration_millis` | histogram | milliseconds | a flush's time, from the job to the installed table |
 * | `stratadb_compaction_duration_millis` | histogram | milliseconds | a compaction's time, from the job to the installed edit |
 * | `stratadb_level_tables` | gauge (label `level`) | tables | tables in the level |
 * | `stratadb_level_bytes` | gauge (label `level`) | bytes | bytes of the level's tables |
 * | `stratadb_memtable_bytes` | gauge | bytes | mutable and immutable memtables |
 * | `stratadb_immutable_memtables` | gauge | memtables | frozen memtables waiting for a flush |
 * | `stratadb_block_cache_bytes` | gauge | bytes | blocks in the block cache |
 * | `stratadb_table_metadata_bytes` | gauge | bytes | filters, indexes and properties open tables keep |
 * | `stratadb_memory_bytes` | gauge | bytes | the three above together (`DbStats.memory.total`) |
 * | `stratadb_open_tables` | gauge | tables | table readers open |
 *
 * Counters count since the process first opened a database with that label (a reopen adds to
 * them). At close the memory gauges and `stratadb_open_tables` drop to 0; the level gauges keep
 * the tree as it was left. A sampled histogram's count is about a `latencySampling`th of the
 * operations: rates come from the counters.
 */
import { Context, type Duration, Layer, Metric, MetricBoundaries, MetricKey, type MetricKeyType, MetricLabel } from "effect"

/** The label naming the database on every series. */
export const DATABASE_LABEL = "database"
/** The label naming the level on the per-level gauges (`"0"`, `"1"`, ...). */
export const LEVEL_LABEL = "level"

export interface MetricsOptions {
  /** `false`: no metric is published and nothing is timed. Default `true`. */
  readonly enabled?: boolean
  /** The `database` label's value. Default: the database's absolute directory. */
  readonly database?: string
  /** How often counters and gauges are published (they are at close too). Default 1 second. */
  readonly interval?: Duration.DurationInput
  /** One point operation in this many is timed for the latency histograms (1: every one). Default 16. */
  readonly latencySampling?: number
}

/** The metrics options a database reads when it opens (none provided: the defaults). */
export class MetricsConfig extends Context.Tag("stratadb/MetricsConfig")<MetricsConfig, MetricsOptions>() {}

/**
 * Metrics options for the databases opened under this layer:
 * `Db.layer(options).pipe(Layer.provide(Metrics.layer({ database: "orders" })))`.
 */
export const layer = (options: MetricsOptions): Layer.Layer<MetricsConfig> => Layer.succeed(MetricsConfig, options)

/** No metrics, no timing. */
export const disabled: Layer.Layer<MetricsConfig> = layer({ enabled: false })

export const defaults = { enabled: true, intervalMillis: 1000, latencySampling: 16 } as const

const counterKey = (name: string, description: string) => MetricKey.counter(name, { description, incremental: true })
const gaugeKey = (name: string, description: string) => MetricKey.gauge(name, { description })

/** 1 us .. 2^23 us (8.4 s), doubling. */
const microBoundaries = MetricBoundaries.exponential({ start: 1, factor: 2, count: 24 })
/** 1 ms .. 2^19 ms (8.7 min), doubling. */
const milliBoundaries = MetricBoundaries.exponential({ start: 1, factor: 2, count: 20 })

const keys = {
  puts: counterKey("stratadb_puts", "puts applied (alone or in a batch)"),
  deletes: counterKey("stratadb_deletes", "deletes applied (alone, in a batch, or by deleteRange)"),
  gets: counterKey("stratadb_gets", "point reads"),
  tableReads: counterKey("stratadb_table_reads", "tables point reads searched"),
  userBytesWritten: counterKey("stratadb_user_bytes_written", "bytes of keys and values handed in"),
  walBytesWritten: counterKey("stratadb_wal_bytes_written", "bytes appended to write-ahead logs"),
  flushBytesWritten: counterKey("stratadb_flush_bytes_written", "bytes of the tables flushes wrote"),
  compactionBytesRead: counterKey("stratadb_compaction_bytes_read", "bytes of tables compactions read"),
  compactionBytesWritten: counterKey("stratadb_compaction_bytes_written", "bytes of tables compactions wrote"),
  flushes: counterKey("stratadb_flushes", "memtables flushed"),
  compactions: counterKey("stratadb_compactions", "compactions done (trivial moves included)"),
  writeSlowdowns: counterKey("stratadb_write_slowdowns", "writes delayed because L0 piled up"),
  writeStops: counterKey("stratadb_write_stops", "writes that waited for a flush or a compaction"),
  stallMicros: counterKey("stratadb_stall_micros", "microseconds writers spent slowed down or stopped"),
  blockCacheHits: counterKey("stratadb_block_cache_hits", "block cache lookups that found the block"),
  blockCacheMisses: counterKey("stratadb_block_cache_misses", "block cache lookups that read the file"),
  bloomUseful: counterKey("stratadb_bloom_useful", "tables a bloom filter ruled out for a point read"),
  bloomFalsePositives: counterKey("stratadb_bloom_false_positives", "tables a bloom filter let through that held no visible version of the key"),
  getLatency: MetricKey.histogram("stratadb_get_latency_micros", microBoundaries, "a point read's time in microseconds (sampled)"),
  putLatency: MetricKey.histogram("stratadb_put_latency_micros", microBoundaries, "a put's time in microseconds (sampled)"),
  deleteLatency: MetricKey.histogram("stratadb_delete_latency_micros", microBoundaries, "a delete's time in microseconds (sampled)"),
  writeLatency: MetricKey.histogram("stratadb_write_latency_micros", microBoundaries, "a write (batch)'s time in microseconds (sampled)"),
  flushDuration: MetricKey.histogram("stratadb_flush_duration_millis", milliBoundaries, "a flush's time in milliseconds"),
  compactionDuration: MetricKey.histogram("stratadb_compaction_duration_millis", milliBoundaries, "a compaction's time in milliseconds"),
  levelTables: gaugeKey("stratadb_level_tables", "tables in the level"),
  levelBytes: gaugeKey("stratadb_level_bytes", "bytes of the level's tables"),
  memtableBytes: gaugeKey("stratadb_memtable_bytes", "bytes of the mutable and immutable memtables"),
  immutableMemtables: gaugeKey("stratadb_immutable_memtables", "frozen memtables waiting for a flush"),
  blockCacheBytes: gaugeKey("stratadb_block_cache_bytes", "bytes of blocks in the block cache"),
  tableMetadataBytes: gaugeKey("stratadb_table_metadata_bytes", "bytes of filters, indexes and properties open tables keep"),
  memoryBytes: gaugeKey("stratadb_memory_bytes", "memtables, block cache and table metadata together"),
  openTables: gaugeKey("stratadb_open_tables", "table readers open")
} as const

type Keys = typeof keys
type MetricOf<K> = K extends MetricKey.MetricKey<infer T extends MetricKeyType.MetricKeyType<any, any>>
  ? Metric.Metric<T, MetricKeyType.MetricKeyType.InType<T>, MetricKeyType.MetricKeyType.OutType<T>>
  : never

// The metrics without their `database` label (apply it with `Metric.tagged`, or use `forDatabase`).
export const puts: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.puts)
export const deletes: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.deletes)
export const gets: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.gets)
export const tableReads: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.tableReads)
export const userBytesWritten: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.userBytesWritten)
export const walBytesWritten: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.walBytesWritten)
export const flushBytesWritten: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.flushBytesWritten)
export const compactionBytesRead: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.compactionBytesRead)
export const compactionBytesWritten: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.compactionBytesWritten)
export const flushes: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.flushes)
export const compactions: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.compactions)
export const writeSlowdowns: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.writeSlowdowns)
export const writeStops: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.writeStops)
export const stallMicros: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.stallMicros)
export const blockCacheHits: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.blockCacheHits)
export const blockCacheMisses: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.blockCacheMisses)
export const bloomUseful: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.bloomUseful)
export const bloomFalsePositives: Metric.Metric.Counter<number> = Metric.fromMetricKey(keys.bloomFalsePositives)
export const getLatency: Metric.Metric.Histogram<number> = Metric.fromMetricKey(keys.getLatency)
export const putLatency: Metric.Metric.Histogram<number> = Metric.fromMetricKey(keys.putLatency)
export const deleteLatency: Metric.Metric.Histogram<number> = Metric.fromMetricKey(keys.deleteLatency)
export const writeLatency: Metric.Metric.Histogram<number> = Metric.fromMetricKey(keys.writeLatency)
export const flushDuration: Metric.Metric.Histogram<number> = Metric.fromMetricKey(keys.flushDuration)
export const compactionDuration: Metric.Metric.Histogram<number> = Metric.fromMetricKey(keys.compactionDuration)
/** Per level: label it `level` after `database` (`forDatabase(name).levelTables(n)` does). */
export const levelTables: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.levelTables)
export const levelBytes: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.levelBytes)
export const memtableBytes: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.memtableBytes)
export const immutableMemtables: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.immutableMemtables)
export const blockCacheBytes: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.blockCacheBytes)
export const tableMetadataBytes: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.tableMetadataBytes)
export const memoryBytes: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.memoryBytes)
export const openTables: Metric.Metric.Gauge<number> = Metric.fromMetricKey(keys.openTables)

type SeriesKey = Exclude<keyof Keys, "levelTables" | "levelBytes">

/** One database's series: every metric above labelled with it, the per-level gauges by level. */
export type DatabaseMetrics =
  & { readonly [K in SeriesKey]: MetricOf<Keys[K]> }
  & {
    /** The `database` label's value. */
    readonly database: string
    readonly levelTables: (level: number) => Metric.Metric.Gauge<number>
    readonly levelBytes: (level: number) => Metric.Metric.Gauge<number>
  }

/**
 * The series of the database labelled `database` (its absolute directory unless `Metrics.layer`
 * named it): `yield* Metric.value(Metrics.forDatabase("/data/orders").puts)`.
 */
export const forDatabase = (database: string): DatabaseMetrics => {
  const label = MetricLabel.make(DATABASE_LABEL, database)
  const series = {} as Record<string, unknown>
  for (const name of Object.keys(keys) as Array<keyof Keys>) {
    if (name === "levelTables" || name === "levelBytes") continue
    series[name] = Metric.fromMetricKey(MetricKey.taggedWithLabels(keys[name] as MetricKey.MetricKey<any>, [label]))
  }
  const perLevel = (key: MetricKey.MetricKey.Gauge<number>) => {
    const byLevel: Array<Metric.Metric.Gauge<number>> = []
    return (level: number) =>
      (byLevel[level] ??= Metric.fromMetricKey(MetricKey.taggedWithLabels(key, [label, MetricLabel.make(LEVEL_LABEL, String(level))])))
  }
  return {
    ...(series as { [K in SeriesKey]: MetricOf<Keys[K]> }),
    database,
    levelTables: perLevel(keys.levelTables),
    levelBytes: perLevel(keys.levelBytes)
  }
}
