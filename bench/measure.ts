/**
 * Timed operation loops. `runOps` runs `target` operations one after another in the calling
 * fiber, timing each with `performance.now()` into a histogram (nanoseconds); building the
 * operation (keys, values) happens before its clock starts, checking its result after it stops.
 * A phase stops early at its time budget ("capped") and reports the operations it did.
 */
import { Effect } from "effect"
import type { BenchError } from "./errors.js"
import { VerificationError } from "./errors.js"
import { Histogram, type LatencySummary } from "./histogram.js"
import type { Progress } from "./progress.js"

/** Gives the event loop a turn (`setImmediate`). */
export const takeTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

/** How long a fiber runs operations before it gives the event loop a turn. */
export const QUANTUM_MS = 0.05

/**
 * Time slicing for fibers that share the thread, as threads share a core: a fiber runs operations
 * for up to `QUANTUM_MS` (50 us; an OS quantum is 1-10 ms), then gives the event loop a turn
 * (`setImmediate`). An engine whose operations complete through I/O callbacks (a promise settled
 * from libuv's thread pool) yields at every operation anyway and so is never starved by fibers
 * whose operations complete synchronously; those pay for a turn once per quantum, not once per
 * operation. One per fiber.
 */
export class TurnTaker {
  private sliceStart = performance.now()

  /** After an operation: a turn of the event loop when this fiber's quantum is used up. */
  readonly after: Effect.Effect<void> = Effect.suspend(() => {
    if (performance.now() - this.sliceStart < QUANTUM_MS) return Effect.void
    return Effect.tap(takeTurn, () => {
      this.sliceStart = performance.now()
    })
  })
}

export interface OpStats {
  readonly ops: number
  readonly seconds: number
  readonly opsPerSec: number
  readonly latency: LatencySummary
}

export interface PhaseResult extends OpStats {
  readonly name: string
  /** Operations asked for. */
  readonly target: number
  /** True when the time budget stopped the phase before `target`. */
  readonly capped: boolean
  /** What one latency sample measures, when it is not one operation. */
  readonly note?: string
  /** Phase-specific figures (e.g. the writer's rate in readwhilewriting). */
  readonly extra?: Readonly<Record<string, number>>
}

export interface PhaseContext {
  readonly engine: string
  /** Wall-clock budget of one phase, in milliseconds. */
  readonly budgetMs: number
  readonly progress: Progress
}

export const opStats = (ops: number, seconds: number, histogram: Histogram): OpStats => ({
  ops,
  seconds,
  opsPerSec: seconds > 0 ? ops / seconds : 0,
  latency: histogram.summary()
})

export interface OpsSpec<A, E> {
  readonly name: string
  readonly target: number
  /** Builds operation `i` (untimed); running the effect is timed. */
  readonly make: (i: number) => Effect.Effect<A, E>
  /** Checks the result of operation `i` (untimed): a description of what is wrong, or undefined. */
  readonly check?: (i: number, result: A) => string | undefined
  /** Keys per operation (a batch), for the ops/s figure. Default 1. */
  readonly keysPerOp?: number
  readonly note?: string
  /** Share the thread by time slices (`TurnTaker`): set when other fibers run meanwhile. */
  readonly shareThread?: boolean
}

export interface OpsOutcome {
  readonly result: PhaseResult
  /** Operations completed (index of the first one not done). */
  readonly done: number
}

export const runOps = <A, E>(ctx: PhaseContext, spec: OpsSpec<A, E>): Effect.Effect<OpsOutcome, E | BenchError> =>
  Effect.gen(function* () {
    const histogram = new Histogram()
    const keysPerOp = spec.keysPerOp ?? 1
    const check = spec.check
    const turns = spec.shareThread === true ? new TurnTaker() : undefined
    ctx.progress.start(spec.name, spec.target * keysPerOp)
    const start = performance.now()
    const deadline = start + ctx.budgetMs
    let i = 0
    let capped = false
    while (i < spec.target) {
      const op = spec.make(i)
      const t0 = performance.now()
      const result = yield* op
      const t1 = performance.now()
      histogram.record((t1 - t0) * 1e6)
      if (check !== undefined) {
        const wrong = check(i, result)
        if (wrong !== undefined) {
          return yield* Effect.fail(new VerificationError({ engine: ctx.engine, phase: spec.name, description: wrong }))
        }
      }
      i++
      if (turns !== undefined) yield* turns.after
      if ((i & 63) === 0) ctx.progress.tick(i * keysPerOp, t1)
      if (t1 >= deadline && i < spec.target) {
        capped = true
        break
      }
    }
    const seconds = (performance.now() - start) / 1000
    ctx.progress.sample()
    const stats = opStats(i * keysPerOp, seconds, histogram)
    const result: PhaseResult = {
      name: spec.name,
      target: spec.target * keysPerOp,
      capped,
      ...stats,
      ...(spec.note === undefined ? {} : { note: spec.note })
    }
    return { result, done: i }
  })

/** Wall time of an effect, in milliseconds, with its result. */
export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [A, number], E, R> =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(effect, (a) => [a, performance.now() - start] as const)
  })
