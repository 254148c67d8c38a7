/**
 * LevelDB's db_bench phases on `n` keys of 16 bytes with 100-byte values, one awaited operation
 * at a time unless said otherwise:
 *
 * - fillseq: keys 0..n-1 in order, on a fresh database (its open time is the run's open time).
 * - fillbatch: keys in order in batches of 1,000, on another fresh database.
 * - fillrandom: every key once in random order, on a third fresh database, kept for the rest:
 * - overwrite: every key again in another random order (generation 1 values);
 * - readrandom: random keys, all hits, every value compared with generation 1;
 * - readmissing: random keys that were never written (`n..2n-1`);
 * - readseq / readreverse: full scans (one latency sample per entry: the wait for it), counted,
 *   every 1,024th value checked; then the bytes on disk, the database open (every engine holds
 *   the same contents here, unlike at the end, where the writer below decides how many keys live);
 * - deleterandom: the odd keys in random order;
 * - readwhilewriting: random even keys (values checked) while one writer fiber overwrites random
 *   keys with generation 2; only the reader is timed, the writer's rate is reported beside.
 *
 * Then the engine's stats, close, a timed reopen of the same directory (checked with one read),
 * close, and the bytes on disk. A phase that reaches its time budget stops and is marked capped;
 * when later phases need its writes (fillrandom, overwrite), the rest is written untimed in
 * batches of 1,000 so every later check still holds.
 */
import { Effect, Exit, Fiber, Scope } from "effect"
import { diskUsage } from "../diskUsage.js"
import type { BatchPut, Engine, EngineStats, Handle } from "../engine.js"
import { type BenchError, VerificationError } from "../errors.js"
import { dbKey, dbValue, DB_KEY_SIZE, DB_VALUE_SIZE, fillDbValue, sameBytes } from "../keys.js"
import { Histogram } from "../histogram.js"
import { opStats, type PhaseContext, type PhaseResult, runOps, timed, TurnTaker } from "../measure.js"
import { Rng } from "../random.js"
import type { DbBenchResult } from "../results.js"

export const dbBenchPhases = [
  "fillseq",
  "fillbatch",
  "fillrandom",
  "overwrite",
  "readrandom",
  "readmissing",
  "readseq",
  "readreverse",
  "deleterandom",
  "readwhilewriting"
] as const

export interface DbBenchSettings {
  /** Returns a new empty directory for each database. */
  readonly freshDirectory: (label: string) => string
  readonly n: number
  readonly seed: number
}

const BATCH = 1000

export const describe = (got: Uint8Array | undefined): string =>
  got === undefined ? "nothing" : JSON.stringify(Buffer.from(got).toString("latin1"))

/** The index a db_bench key encodes (its 16 ASCII digits). */
const keyIndex = (key: Uint8Array): number => {
  let n = 0
  for (let p = 0; p < DB_KEY_SIZE; p++) n = n * 10 + (key[p]! - 48)
  return n
}

/** Writes `order[from..]` with `generation` values in batches, untimed. */
const complete = (
  ctx: PhaseContext,
  handle: Handle,
  label: string,
  order: Int32Array | undefined,
  from: number,
  count: number,
  generation: number
): Effect.Effect<void, BenchError> =>
  Effect.gen(function* () {
    if (from >= count) return
    ctx.progress.note(`${label}: capped at ${from.toLocaleString("en-US")}; writing the other ${(count - from).toLocaleString("en-US")} keys untimed`)
    for (let start = from; start < count; start += BATCH) {
      const puts: Array<BatchPut> = []
      for (let j = start; j < Math.min(count, start + BATCH); j++) {
        const i = order === undefined ? j : order[j]!
        puts.push({ key: dbKey(i), value: dbValue(i, generation) })
      }
      yield* handle.batch(puts)
    }
  })

/** A full scan, one latency sample per entry; checks the count and every 1,024th value. */
const scanPhase = (
  ctx: PhaseContext,
  handle: Handle,
  name: string,
  reverse: boolean,
  expected: number,
  generation: number
): Effect.Effect<PhaseResult, BenchError> =>
  Effect.gen(function* () {
    const histogram = new Histogram()
    const scratch = Buffer.allocUnsafe(DB_VALUE_SIZE)
    ctx.progress.start(name, expected)
    const start = performance.now()
    const deadline = start + ctx.budgetMs
    let last = start
    let seen = 0
    let capped = false
    let wrong: string | undefined
    const count = yield* handle.scan({ reverse }, (key, value) => {
      const now = performance.now()
      histogram.record((now - last) * 1e6)
      seen++
      if ((seen & 1023) === 0) {
        if (key.length !== DB_KEY_SIZE) {
          wrong = `entry ${seen}: key of ${key.length} bytes`
          return false
        }
        const i = keyIndex(key)
        if (!sameBytes(fillDbValue(i, generation, scratch), value)) {
          wrong = `key ${i}: expected ${describe(scratch)}, got ${describe(value)}`
          return false
        }
        ctx.progress.tick(seen, now)
        if (now >= deadline) {
          capped = true
          last = performance.now()
          return false
        }
      }
      last = performance.now()
      return true
    })
    const seconds = (performance.now() - start) / 1000
    if (wrong === undefined && count !== seen) wrong = `the scan reported ${count} entries, visited ${seen}`
    if (wrong === undefined && !capped && seen !== expected) wrong = `expected ${expected} entries, scanned ${seen}`
    if (wrong !== undefined) {
      return yield* Effect.fail(new VerificationError({ engine: ctx.engine, phase: name, description: wrong }))
    }
    ctx.progress.sample()
    return {
      name,
      target: expected,
      capped,
      ...opStats(seen, seconds, histogram),
      note: "one sample is the wait for the next entry"
    }
  })

/** Opens `directory` in a scope of its own, so the caller decides when it closes. */
export const openScoped = (engine: Engine, directory: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const [handle, ms] = yield* timed(Scope.extend(engine.open(directory), scope)).pipe(
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
    return { handle, ms, close: Scope.close(scope, Exit.void) }
  })

export const dbBench = (
  engine: Engine,
  ctx: PhaseContext,
  settings: DbBenchSettings
): Effect.Effect<DbBenchResult, BenchError> =>
  Effect.gen(function* () {
    const n = settings.n
    const rng = new Rng(settings.seed)
    const phases: Array<PhaseResult> = []
    const scratch = Buffer.allocUnsafe(DB_VALUE_SIZE)
    const scratch2 = Buffer.allocUnsafe(DB_VALUE_SIZE)

    // fillseq, on a fresh database whose open time is the run's open time.
    const openMs = yield* Effect.scoped(
      Effect.gen(function* () {
        const [handle, ms] = yield* timed(engine.open(settings.freshDirectory("fillseq")))
        const { result } = yield* runOps(ctx, {
          name: "fillseq",
          target: n,
          make: (i) => handle.put(dbKey(i), dbValue(i, 0))
        })
        phases.push(result)
        return ms
      })
    )

    // fillbatch, on another fresh database.
    yield* Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* engine.open(settings.freshDirectory("fillbatch"))
        const { result } = yield* runOps(ctx, {
          name: "fillbatch",
          target: Math.ceil(n / BATCH),
          keysPerOp: BATCH,
          note: "one sample is one batch of 1,000 puts",
          make: (b) => {
            const puts: Array<BatchPut> = []
            for (let i = b * BATCH; i < Math.min(n, (b + 1) * BATCH); i++) puts.push({ key: dbKey(i), value: dbValue(i, 0) })
            return handle.batch(puts)
          }
        })
        phases.push({ ...result, ops: Math.min(result.ops, n), target: n, opsPerSec: Math.min(result.ops, n) / result.seconds })
      })
    )

    // The main database: every later phase works on it.
    const mainDirectory = settings.freshDirectory("main")
    const first = yield* openScoped(engine, mainDirectory)
    const main = yield* Effect.gen(function* () {
      const handle = first.handle

      /** Puts every key once in a random order, writing value generation `generation`. */
      const putPhase = (name: string, generation: number) =>
        Effect.gen(function* () {
          const order = rng.permutation(n)
          const outcome = yield* runOps(ctx, {
            name,
            target: n,
            make: (j) => {
              const i = order[j]!
              return handle.put(dbKey(i), dbValue(i, generation))
            }
          })
          phases.push(outcome.result)
          yield* complete(ctx, handle, name, order, outcome.done, n, generation)
        })
      yield* putPhase("fillrandom", 0)
      yield* putPhase("overwrite", 1)

      const readKeys = new Int32Array(n)
      for (let j = 0; j < n; j++) readKeys[j] = rng.below(n)
      phases.push(
        (yield* runOps(ctx, {
          name: "readrandom",
          target: n,
          make: (j) => handle.get(dbKey(readKeys[j]!)),
          check: (j, got) => {
            const i = readKeys[j]!
            return sameBytes(fillDbValue(i, 1, scratch), got) ? undefined : `key ${i}: expected ${describe(scratch)}, got ${describe(got)}`
          }
        })).result
      )

      phases.push(
        (yield* runOps(ctx, {
          name: "readmissing",
          target: n,
          make: (j) => handle.get(dbKey(n + readKeys[j]!)),
          check: (j, got) => (got === undefined ? undefined : `key ${n + readKeys[j]!} was never written, got ${describe(got)}`)
        })).result
      )

      phases.push(yield* scanPhase(ctx, handle, "readseq", false, n, 1))
      phases.push(yield* scanPhase(ctx, handle, "readreverse", true, n, 1))
      // The one point where every engine holds the same contents (see DbBenchResult.diskAfterReads).
      const diskAfterReads = diskUsage(mainDirectory)

      const odds = Math.floor(n / 2)
      const deleteOrder = rng.permutation(odds)
      phases.push(
        (yield* runOps(ctx, {
          name: "deleterandom",
          target: odds,
          note: "the odd keys, each once, in random order",
          make: (j) => handle.del(dbKey(2 * deleteOrder[j]! + 1))
        })).result
      )

      // readwhilewriting: one reader (timed) and one writer fiber (counted).
      const evens = Math.ceil(n / 2)
      for (let j = 0; j < n; j++) readKeys[j] = 2 * rng.below(evens)
      let stop = false
      let written = 0
      const writerRng = new Rng(settings.seed + 7)
      const writerStart = performance.now()
      const writer = yield* Effect.fork(
        Effect.gen(function* () {
          const turns = new TurnTaker()
          while (!stop) {
            const i = writerRng.below(n)
            yield* handle.put(dbKey(i), dbValue(i, 2))
            written++
            yield* turns.after
          }
          return performance.now()
        })
      )
      const reading = yield* runOps(ctx, {
        name: "readwhilewriting",
        target: n,
        note: "reader latency; one writer fiber overwrites random keys meanwhile (both share the thread by time slices)",
        shareThread: true,
        make: (j) => handle.get(dbKey(readKeys[j]!)),
        check: (j, got) => {
          const i = readKeys[j]!
          if (sameBytes(fillDbValue(i, 1, scratch), got) || sameBytes(fillDbValue(i, 2, scratch2), got)) return undefined
          return `key ${i}: expected ${describe(scratch)} or ${describe(scratch2)}, got ${describe(got)}`
        }
      }).pipe(
        // The writer stops after its operation in flight, before anything closes the database.
        Effect.ensuring(Effect.suspend(() => {
          stop = true
          return Fiber.await(writer)
        }))
      )
      const writerEnd = yield* Fiber.join(writer)
      const writerSeconds = (writerEnd - writerStart) / 1000
      phases.push({
        ...reading.result,
        extra: { writerOps: written, writerOpsPerSec: writerSeconds > 0 ? written / writerSeconds : 0 }
      })

      const stats: EngineStats | undefined = yield* handle.stats
      return { stats, diskAfterReads }
    }).pipe(Effect.onError(() => first.close))
    // Timed: an engine may do work at close (stratadb flushes a memtable worth it) that a reopen
    // would otherwise do.
    const [, closeMs] = yield* timed(first.close)

    // Reopen the filled database, check one key, close.
    const second = yield* openScoped(engine, mainDirectory)
    yield* Effect.gen(function* () {
      const got = yield* second.handle.get(dbKey(0))
      if (!sameBytes(fillDbValue(0, 1, scratch), got) && !sameBytes(fillDbValue(0, 2, scratch2), got)) {
        return yield* Effect.fail(
          new VerificationError({ engine: engine.name, phase: "reopen", description: `key 0: got ${describe(got)}` })
        )
      }
    }).pipe(Effect.ensuring(second.close))

    const wa = main.stats?.writeAmplification
    return {
      n,
      phaseSeconds: ctx.budgetMs / 1000,
      openMs,
      closeMs,
      reopenMs: second.ms,
      phases,
      disk: diskUsage(mainDirectory),
      diskAfterReads: main.diskAfterReads,
      ...(typeof wa === "number" ? { writeAmplification: wa } : {}),
      ...(main.stats === undefined ? {} : { engineStats: main.stats })
    } satisfies DbBenchResult
  })
