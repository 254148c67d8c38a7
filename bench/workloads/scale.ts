/**
 * The scale workload: an engine at a size well past its caches (10M keys by default). On a fresh
 * database:
 *
 * - fill: `n` db_bench keys and values, every key once in random order (as db_bench's
 *   fillrandom), in batches of 1,000 through `batch`; one latency sample per batch;
 * - close, then a timed reopen (as db_bench's reopen): what a restart costs at that size;
 * - readrandom: right after the reopen, nothing in between, `reads` random reads of filled keys,
 *   every value checked: reads that start from cold caches and meet whatever work the reopen left;
 * - close, then the bytes on disk, and the peak RSS of the process during all this.
 *
 * No phase budget: the reads need every key written, and the figures are meant at the full size.
 * Not in the default workloads: at 10M keys it takes minutes per engine.
 */
import { Effect } from "effect"
import { diskUsage } from "../diskUsage.js"
import type { BatchPut, Engine, Handle } from "../engine.js"
import type { BenchError } from "../errors.js"
import { dbKey, dbValue, DB_VALUE_SIZE, fillDbValue, sameBytes } from "../keys.js"
import { type PhaseContext, type PhaseResult, runOps, timed } from "../measure.js"
import { Rng } from "../random.js"
import type { ScaleResult } from "../results.js"
import { describe, openScoped } from "./dbbench.js"

export interface ScaleSettings {
  /** An empty directory for the database. */
  readonly directory: string
  readonly n: number
  /** Random reads after the reopen. */
  readonly reads: number
  readonly seed: number
}

const BATCH = 1000

/** The OS's peak RSS of this process so far, in bytes (it only grows). */
const maxRss = (): number => process.resourceUsage().maxRSS * 1024

/** Every key once in the order `order`, generation 0 values, in batches of 1,000. */
const fillRandom = (ctx: PhaseContext, handle: Handle, order: Int32Array): Effect.Effect<PhaseResult, BenchError> => {
  const n = order.length
  return runOps(ctx, {
    name: "scale fill",
    target: Math.ceil(n / BATCH),
    keysPerOp: BATCH,
    note: "one sample is one batch of 1,000 puts, keys in random order",
    make: (b) => {
      const puts: Array<BatchPut> = []
      for (let j = b * BATCH; j < Math.min(n, (b + 1) * BATCH); j++) {
        const i = order[j]!
        puts.push({ key: dbKey(i), value: dbValue(i, 0) })
      }
      return handle.batch(puts)
    }
  }).pipe(
    // The last batch may be short: count keys, not batches times 1,000.
    Effect.map(({ result }) => ({ ...result, name: "fill", ops: n, target: n, opsPerSec: n / result.seconds }))
  )
}

/** `reads` random keys of the `n` filled, every value compared with generation 0. */
const readRandom = (
  ctx: PhaseContext,
  handle: Handle,
  n: number,
  reads: number,
  rng: Rng
): Effect.Effect<PhaseResult, BenchError> => {
  const readKeys = new Int32Array(reads)
  for (let j = 0; j < reads; j++) readKeys[j] = rng.below(n)
  const scratch = Buffer.allocUnsafe(DB_VALUE_SIZE)
  return runOps(ctx, {
    name: "scale readrandom",
    target: reads,
    make: (j) => handle.get(dbKey(readKeys[j]!)),
    check: (j, got) => {
      const i = readKeys[j]!
      return sameBytes(fillDbValue(i, 0, scratch), got) ? undefined : `key ${i}: expected ${describe(scratch)}, got ${describe(got)}`
    }
  }).pipe(Effect.map(({ result }) => ({ ...result, name: "readrandom" })))
}

export const scale = (engine: Engine, ctx: PhaseContext, settings: ScaleSettings): Effect.Effect<ScaleResult, BenchError> =>
  Effect.gen(function* () {
    const { directory, n } = settings
    const rng = new Rng(settings.seed)
    // No budget: a capped fill would leave the reads keys that do not exist.
    const unbounded: PhaseContext = { ...ctx, budgetMs: Number.POSITIVE_INFINITY }
    const rssBefore = maxRss()
    ctx.progress.resetWindowRss()

    const first = yield* openScoped(engine, directory)
    const fill = yield* fillRandom(unbounded, first.handle, rng.permutation(n)).pipe(Effect.onError(() => first.close))
    // Timed: an engine may do work at close (stratadb flushes a memtable worth it) that a reopen would otherwise do.
    const [, closeMs] = yield* timed(first.close)
    ctx.progress.sample()

    const second = yield* openScoped(engine, directory)
    const readrandom = yield* readRandom(unbounded, second.handle, n, settings.reads, rng).pipe(Effect.ensuring(second.close))
    ctx.progress.sample()

    // maxRSS cannot be reset: when it grew here, it is this workload's exact peak; when an earlier
    // workload of this process peaked higher, only the sampled peak is ours.
    const rssAfter = maxRss()
    const peakRssExact = rssAfter > rssBefore
    return {
      n,
      fillOpsPerSec: fill.opsPerSec,
      fill,
      closeMs,
      reopenMs: second.ms,
      readrandom,
      peakRssBytes: peakRssExact ? rssAfter : ctx.progress.windowPeakRss,
      peakRssExact,
      disk: diskUsage(directory)
    } satisfies ScaleResult
  })
