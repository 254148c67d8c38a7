/**
 * keylite's headline workload as it ran: one window in which 4 writer, 4 reader and 2 deleter
 * fibers run at once. Writers put `key_w{w}_{random u64}` -> `value_{random u64}`.
 *
 * - `keylite` (as published): an empty database; readers and deleters draw their own random keys,
 *   so reads almost always miss and deletes are blind.
 * - `keylite-loaded` (the honest variant): `load` entries are written first (batches of 1,000,
 *   timed as their own phase); in the window readers read loaded entries with an even index, all
 *   hits, and compare every value with the one loaded (a wrong one fails the run); deleters delete
 *   loaded entries with an odd index; writers add new keys as before.
 *
 * The fibers share one thread by time slices (`TurnTaker`), the way threads take turns on a core.
 */
import { Effect } from "effect"
import type { BatchPut, Engine, Handle } from "../engine.js"
import { type BenchError, VerificationError } from "../errors.js"
import { Histogram } from "../histogram.js"
import { KEYLITE_WRITERS, keyliteKey, keyliteValue, loadedKey, loadedValue, sameBytes } from "../keys.js"
import { opStats, type PhaseContext, type PhaseResult, runOps, timed, TurnTaker } from "../measure.js"
import { Rng } from "../random.js"
import type { KeyliteResult } from "../results.js"

const READERS = 4
const DELETERS = 2

export interface KeyliteSettings {
  readonly directory: string
  readonly windowSeconds: number
  /** 0: plain keylite; otherwise the entries loaded first. */
  readonly load: number
  readonly seed: number
}

const loadEntries = (ctx: PhaseContext, handle: Handle, count: number): Effect.Effect<PhaseResult, BenchError> => {
  const batchSize = 1000
  const batches = Math.ceil(count / batchSize)
  return runOps({ ...ctx, budgetMs: Number.POSITIVE_INFINITY }, {
    name: "load",
    target: batches,
    keysPerOp: batchSize,
    note: "one sample is one batch of 1,000 puts",
    make: (b) => {
      const puts: Array<BatchPut> = []
      const end = Math.min(count, (b + 1) * batchSize)
      for (let i = b * batchSize; i < end; i++) puts.push({ key: loadedKey(i), value: loadedValue(i) })
      return handle.batch(puts)
    }
  }).pipe(Effect.map((outcome) => ({ ...outcome.result, ops: count, opsPerSec: count / outcome.result.seconds })))
}

export const keylite = (
  engine: Engine,
  ctx: PhaseContext,
  settings: KeyliteSettings
): Effect.Effect<KeyliteResult, BenchError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const [handle, openMs] = yield* timed(engine.open(settings.directory))
      const loaded = settings.load
      const load = loaded > 0 ? yield* loadEntries(ctx, handle, loaded) : undefined
      const evens = Math.ceil(loaded / 2)
      const odds = Math.floor(loaded / 2)

      const writeHist = new Histogram()
      const readHist = new Histogram()
      const deleteHist = new Histogram()
      let writes = 0
      let reads = 0
      let hits = 0
      let verified = 0
      let deletes = 0
      const label = loaded > 0 ? "keylite-loaded window" : "keylite window"
      ctx.progress.start(label, 0)
      const start = performance.now()
      const deadline = start + settings.windowSeconds * 1000

      const writer = (w: number) =>
        Effect.gen(function* () {
          const rng = new Rng(settings.seed * 100 + w)
          const turns = new TurnTaker()
          for (;;) {
            const key = keyliteKey(w, rng.next(), rng.next(), rng.next())
            const value = keyliteValue(rng.next(), rng.next(), rng.next())
            const op = handle.put(key, value)
            const t0 = performance.now()
            yield* op
            const t1 = performance.now()
            writeHist.record((t1 - t0) * 1e6)
            writes++
            if (w === 0 && (writes & 63) === 0) ctx.progress.tick(writes + reads + deletes, t1)
            if (t1 >= deadline) return
            yield* turns.after
          }
        })

      const reader = (r: number) =>
        Effect.gen(function* () {
          const rng = new Rng(settings.seed * 100 + 10 + r)
          const turns = new TurnTaker()
          for (;;) {
            let index = -1
            let key: Buffer
            if (loaded > 0) {
              index = 2 * rng.below(evens)
              key = loadedKey(index)
            } else {
              key = keyliteKey(rng.below(KEYLITE_WRITERS), rng.next(), rng.next(), rng.next())
            }
            const op = handle.get(key)
            const t0 = performance.now()
            const got = yield* op
            const t1 = performance.now()
            readHist.record((t1 - t0) * 1e6)
            reads++
            if (got !== undefined) hits++
            if (index >= 0) {
              if (!sameBytes(loadedValue(index), got)) {
                return yield* Effect.fail(
                  new VerificationError({
                    engine: engine.name,
                    phase: label,
                    description: `key ${key.toString("latin1")}: expected ${loadedValue(index).toString("latin1")}, got ${
                      got === undefined ? "nothing" : Buffer.from(got).toString("latin1")
                    }`
                  })
                )
              }
              verified++
            }
            if (t1 >= deadline) return
            yield* turns.after
          }
        })

      const deleter = (d: number) =>
        Effect.gen(function* () {
          const rng = new Rng(settings.seed * 100 + 20 + d)
          const turns = new TurnTaker()
          for (;;) {
            const key =
              odds > 0
                ? loadedKey(2 * rng.below(odds) + 1)
                : keyliteKey(rng.below(KEYLITE_WRITERS), rng.next(), rng.next(), rng.next())
            const op = handle.del(key)
            const t0 = performance.now()
            yield* op
            const t1 = performance.now()
            deleteHist.record((t1 - t0) * 1e6)
            deletes++
            if (t1 >= deadline) return
            yield* turns.after
          }
        })

      const fibers: Array<Effect.Effect<void, BenchError>> = []
      for (let w = 0; w < KEYLITE_WRITERS; w++) fibers.push(writer(w))
      for (let r = 0; r < READERS; r++) fibers.push(reader(r))
      for (let d = 0; d < DELETERS; d++) fibers.push(deleter(d))
      yield* Effect.all(fibers, { concurrency: "unbounded", discard: true })
      // Each fiber stops at its first operation ending after the deadline: the window is the
      // span until the last one stopped.
      const seconds = (performance.now() - start) / 1000
      ctx.progress.sample()

      return {
        variant: loaded > 0 ? "keylite-loaded" : "keylite",
        windowSeconds: seconds,
        openMs,
        loaded,
        ...(load === undefined ? {} : { load }),
        writes: opStats(writes, seconds, writeHist),
        reads: { ...opStats(reads, seconds, readHist), hits },
        deletes: opStats(deletes, seconds, deleteHist),
        verified
      } satisfies KeyliteResult
    })
  )
