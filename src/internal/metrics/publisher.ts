/**
 * Publishing a database's plain-number counters into its Effect metrics, off the hot path: a
 * fiber in the database's scope that, every interval and once more at close, adds what each
 * counter grew by since the last time to its metric and sets the gauges from the stats. Nothing
 * here runs per operation.
 */
import { Effect, type Scope } from "effect"
import type { DbStats } from "../../Stats.js"
import type { Counters } from "../state/counters.js"
import type { DbMetrics } from "./dbMetrics.js"
import { realSleepUnref } from "../realSleep.js"

const NO_TAGS: ReadonlyArray<never> = []

/**
 * Starts publishing (nothing when metrics are disabled). `statsNow` reads the stats whether or not
 * the database is closing. The final publish runs when the scope closes, after whatever closes
 * after this call's finalizers (register it before the close's own finalizer to publish what
 * the close did).
 */
export const startPublishing = (
  metrics: DbMetrics,
  statsNow: () => DbStats,
  counters: Counters
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const series = metrics.series
    if (series === undefined) return
    /** The cumulative counts as last published, by metric. */
    const last = new Map<object, number>()
    const add = (metric: { readonly unsafeUpdate: (n: number, tags: ReadonlyArray<never>) => void }, total: number) => {
      // A delta of 0 too: every series is in the registry from the first publish on.
      const delta = total - (last.get(metric) ?? 0)
      if (delta >= 0) {
        metric.unsafeUpdate(delta, NO_TAGS)
        last.set(metric, total)
      }
    }
    const publish = (closing: boolean) => {
      const s = statsNow()
      add(series.puts, counters.puts)
      add(series.deletes, counters.deletes)
      add(series.gets, s.gets)
      add(series.tableReads, s.tableReads)
      add(series.userBytesWritten, s.userBytesWritten)
      add(series.walBytesWritten, s.walBytesWritten)
      add(series.flushBytesWritten, s.flushBytesWritten)
      add(series.compactionBytesRead, s.compactionBytesRead)
      add(series.compactionBytesWritten, s.compactionBytesWritten)
      add(series.flushes, s.flushes)
      add(series.compactions, s.compactions)
      add(series.writeSlowdowns, s.slowdowns)
      add(series.writeStops, counters.writeStops)
      add(series.stallMicros, s.stallMicros)
      add(series.blockCacheHits, s.blockCache.hits)
      add(series.blockCacheMisses, s.blockCache.misses)
      add(series.bloomUseful, s.bloomNegatives)
      add(series.bloomFalsePositives, counters.bloomFalsePositives)
      for (const l of s.levels) {
        series.levelTables(l.level).unsafeUpdate(l.tables, NO_TAGS)
        series.levelBytes(l.level).unsafeUpdate(l.bytes, NO_TAGS)
      }
      // At close the memory is given back: those gauges drop to 0. The levels stay as left on disk.
      const memory = (n: number) => (closing ? 0 : n)
      series.memtableBytes.unsafeUpdate(memory(s.memory.memtables), NO_TAGS)
      series.immutableMemtables.unsafeUpdate(memory(s.immutableMemtables), NO_TAGS)
      series.blockCacheBytes.unsafeUpdate(memory(s.memory.blockCache), NO_TAGS)
      series.tableMetadataBytes.unsafeUpdate(memory(s.memory.tableMetadata), NO_TAGS)
      series.memoryBytes.unsafeUpdate(memory(s.memory.total), NO_TAGS)
      series.openTables.unsafeUpdate(memory(s.openTables), NO_TAGS)
    }
    for (const h of [series.getLatency, series.putLatency, series.deleteLatency, series.writeLatency, series.flushDuration, series.compactionDuration]) {
      h.register()
    }
    // A bug here must not fail the database's close nor stop its work: it is logged.
    const round = (closing: boolean) =>
      Effect.catchAllDefect(Effect.sync(() => publish(closing)), (defect) => Effect.logWarning("stratadb: publishing metrics failed", defect))
    // Registered before the fiber is forked, so it runs after the fiber is interrupted.
    yield* Effect.addFinalizer(() => round(true))
    // On the real timer, not Effect's Clock: a test clock moved by a century (a time-to-live test)
    // would otherwise run a round for every interval in it. Unref'd: a program that ends with a
    // database still open exits as it did before metrics.
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(realSleepUnref(metrics.intervalMillis), round(false))))
  })
