/**
 * An I/O error at every file-system call (issue 10: nothing acknowledged is ever lost).
 *
 * The workload (workload.ts) runs once to count its calls N; then for each call i (a seeded pick
 * per window of calls in the short form, every call in the soak), on a fresh MemoryFileSystem,
 * call i fails with EIO or ENOSPC (`injectFault({ op: "any", after: i - 1 })`): once
 * (`times: 1`), or that call and every later one ("forever"). The workload must then
 * - get typed errors only (a `PlatformError` or the engine's tagged errors; never a defect, never a
 *   hang: each run has a time limit);
 * - find the failure kept: after a step of a session failed, the next steps of that session
 *   (writes, flush, compactRange) fail too (the workload tries a few, then stops);
 * and, once the faults are cleared, a reopen must hold every acknowledged write, synced or not
 * (nothing crashed), each failed write whole or not at all, and take writes again.
 *
 * Every failure names the seed, the call and the errno: `STRATADB_SEED=<seed> STRATADB_CALL=<call>`
 * replays it (see README.md in this folder).
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import {
  defects,
  isTimedOut,
  makePlan,
  type Plan,
  pointsToTry,
  recoverAndCheck,
  runWorkload,
  seedLoop,
  stickinessViolations,
  sweepOptions,
  sweepSettings,
  takesWrites,
  withinSeconds
} from "./workload.js"

const settings = sweepSettings()
const DIR = "/db"
/** Short form: one call tried per window of this many, for a fault that fails once. */
const SHORT_STRIDE_ONCE = 4
/** Short form: one call tried per window of this many, for a fault that fails forever. */
const SHORT_STRIDE_FOREVER = 10
/** Steps tried after the first failure of a session, each of which must fail too. */
const PROBES = 3
/** A run that has not finished after this long is a hang. */
const RUN_SECONDS = 20

type Errno = MemoryFileSystem.FaultError

const onFreshMachine = <A, E>(effect: Effect.Effect<A, E, FileSystem | MemoryFileSystem.MemoryFileSystem | Path>) =>
  effect.pipe(Effect.provide(MemoryFileSystem.layer), Logger.withMinimumLogLevel(LogLevel.Error))

/** The number of file-system calls a whole run of the plan makes; it must succeed. */
const countCalls = (plan: Plan) =>
  onFreshMachine(
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const record = yield* runWorkload(plan, { options: sweepOptions(plan, DIR), afterFailure: "stop" })
      const failed = record.steps.filter((s) => s.outcome._tag !== "ok")
      assert.strictEqual(failed.length, 0, `seed ${plan.seed}: the workload fails without any fault: ${JSON.stringify(failed.slice(0, 3))}`)
      assert.strictEqual(record.opens.length, 2, `seed ${plan.seed}: the workload's reopen failed without any fault`)
      return yield* mem.callCount
    })
  )

/**
 * One fault: call `call` fails with `errno` (and every later one, `forever`); workload; clear the
 * faults; reopen and check. Returns the problems and whether any step or open saw an error.
 */
const faultAtCall = (plan: Plan, call: number, errno: Errno, forever: boolean) =>
  onFreshMachine(
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const progress = { step: -1, phase: "" }
      yield* mem.injectFault({ op: "any", error: errno, after: call - 1, ...(forever ? {} : { times: 1 }) })
      const record = yield* withinSeconds(runWorkload(plan, { options: sweepOptions(plan, DIR), afterFailure: PROBES }, progress), RUN_SECONDS, progress)
      if (isTimedOut(record)) return { surfaced: true, problems: [`the workload hung: ${record.timedOut}`] }
      const surfaced = record.opens.some((o) => o._tag !== "ok") || record.steps.some((s) => s.outcome._tag !== "ok")
      const problems = [...defects(record), ...stickinessViolations(record).map((p) => `not kept: ${p}`)]
      yield* mem.clearFaults
      problems.push(...(yield* recoverAndCheck(sweepOptions(plan, DIR), record, "acknowledged", takesWrites)))
      return { surfaced, problems }
    })
  )

const failureReport = (failures: Array<string>) =>
  `${failures.length} failures; replay one with STRATADB_SEED and STRATADB_CALL:\n${failures.slice(0, 25).join("\n")}`

/** One sweep (`shortSeed`: its seed in the short form): for each seed, the calls picked with `stride`, and the faults `variants(k)` gives the k-th. */
const sweep = (name: string, shortSeed: number, stride: number, variants: (k: number) => ReadonlyArray<readonly [Errno, boolean]>) =>
  Effect.gen(function* () {
    const started = Date.now()
    const deadline = started + settings.soakSeconds * 1000
    const loop = seedLoop(settings, shortSeed)
    const failures: Array<string> = []
    const seeds: Array<number> = []
    let faults = 0
    let surfaced = 0
    let points = 0
    for (let seed: number | undefined = loop.first; seed !== undefined; seed = loop.next(seed, Date.now() < deadline)) {
      seeds.push(seed)
      const plan = makePlan(seed)
      const n = yield* countCalls(plan)
      for (const [k, call] of pointsToTry(n, settings.soak ? 1 : stride, seed, settings.call).entries()) {
        if (settings.soak && Date.now() >= deadline) break
        points++
        // Replaying one call, or soaking: every variant at every call.
        for (const [errno, forever] of settings.soak || settings.call !== undefined ? [...variants(0), ...variants(1)] : variants(k)) {
          faults++
          const r = yield* faultAtCall(plan, call, errno, forever)
          if (r.surfaced) surfaced++
          for (const p of r.problems) failures.push(`seed ${seed}, ${errno} at call ${call} of ${n}${forever ? " and every later call" : " once"}: ${p}`)
        }
      }
    }
    console.log(
      `[sweep] ${name}${settings.soak ? " (soak)" : ""}: ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]}), ` +
        `${points} calls, ${faults} faults (${surfaced} surfaced as errors), ${failures.length} failures, ${((Date.now() - started) / 1000).toFixed(1)} s`
    )
    assert.strictEqual(failures.length, 0, failureReport(failures))
  })

describe("an I/O error at every file-system call", () => {
  it.live(
    "once: typed errors, kept until reopen; the reopen holds every acknowledged write",
    () => sweep("I/O error once", 3, SHORT_STRIDE_ONCE, (k) => [[k % 2 === 0 ? "EIO" : "ENOSPC", false]]),
    settings.soak ? 0 : 120_000
  )

  it.live(
    "forever: typed errors, no hang; once the errors stop, the reopen holds every acknowledged write",
    () => sweep("I/O error forever", 4, SHORT_STRIDE_FOREVER, (k) => [[k % 2 === 0 ? "ENOSPC" : "EIO", true]]),
    settings.soak ? 0 : 120_000
  )
})
