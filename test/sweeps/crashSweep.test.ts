/**
 * Power loss at every file-system call (issue 10: nothing acknowledged is ever lost).
 *
 * (a) The workload (workload.ts) runs once to count its calls N; then for each call i (a seeded
 *     pick per window of calls in the short form, every call in the soak), on a fresh
 *     MemoryFileSystem, the power goes off at call i (plain, and with torn writes), the workload
 *     stops at its first error, the machine restarts and the database is reopened and checked.
 * (b) Power loss during recovery: after a first power loss, the reopen itself loses power at each
 *     of its calls j (on a durable copy of the crashed directory, so each j starts from the same
 *     state), then the machine restarts and a second reopen must recover everything synced.
 *
 * Every failure names the seed and call numbers: `STRATADB_SEED=<seed> STRATADB_CALL=<call>`
 * replays it (see README.md in this folder).
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Logger, LogLevel } from "effect"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import {
  defects,
  isTimedOut,
  makePlan,
  outcomeOf,
  type Plan,
  pointsToTry,
  recoverAndCheck,
  runWorkload,
  seedLoop,
  sweepOptions,
  sweepSettings,
  takesWrites,
  withinSeconds
} from "./workload.js"

const settings = sweepSettings()
const DIR = "/db"
/** Short form: one call tried per window of this many (both plain and torn at each). */
const SHORT_STRIDE = 6
/** Short form of (b): this many first crash points, every call of the recovery after each. */
const SHORT_RECOVERY_POINTS = 4
/** Soak form of (b): one first crash point per window of this many calls. */
const SOAK_RECOVERY_STRIDE = 16
/** A run that has not finished after this long is a hang. */
const RUN_SECONDS = 20

const tornSeed = (seed: number, call: number) => seed * 1_000_003 + call

/** Runs `effect` on a fresh in-memory file system, with warnings (torn tails dropped) silenced. */
const onFreshMachine = <A, E>(effect: Effect.Effect<A, E, FileSystem | MemoryFileSystem.MemoryFileSystem | Path>) =>
  effect.pipe(Effect.provide(MemoryFileSystem.layer), Logger.withMinimumLogLevel(LogLevel.Error))

/** The number of file-system calls a whole run of the plan makes; it must succeed. */
const countCalls = (plan: Plan) =>
  onFreshMachine(
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const record = yield* runWorkload(plan, { options: sweepOptions(plan, DIR), afterFailure: "stop" })
      const failed = record.steps.filter((s) => s.outcome._tag !== "ok")
      assert.strictEqual(failed.length, 0, `seed ${plan.seed}: the workload fails without any crash: ${JSON.stringify(failed.slice(0, 3))}`)
      assert.strictEqual(record.opens.length, 2, `seed ${plan.seed}: the workload's reopen failed without any crash`)
      return yield* mem.callCount
    })
  )

/** (a) One crash point: power off at `call`, workload, restart, reopen, check. Returns the problems. */
const crashAtCall = (plan: Plan, call: number, torn: boolean) =>
  onFreshMachine(
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const progress = { step: -1, phase: "" }
      yield* mem.crashAt({ call, tornWrites: torn, seed: tornSeed(plan.seed, call) })
      const record = yield* withinSeconds(runWorkload(plan, { options: sweepOptions(plan, DIR), afterFailure: "stop" }, progress), RUN_SECONDS, progress)
      if (isTimedOut(record)) return [`the workload hung: ${record.timedOut}`]
      const fired = (yield* mem.callCount) >= call
      yield* mem.restart
      const problems = yield* recoverAndCheck(sweepOptions(plan, DIR), record, "synced", takesWrites)
      return [...defects(record), ...problems].map((p) => (fired ? p : `${p} (the crash did not fire: the run made fewer calls)`))
    })
  )

/**
 * Copies `from` (every file under it) to `to` and makes the copy durable: file contents synced,
 * every directory on the way synced, so a later power loss keeps it as it is.
 */
const durableCopy = (from: string, to: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const mem = yield* MemoryFileSystem.MemoryFileSystem
    const files = (yield* mem.listFiles).filter((f) => f.path.startsWith(`${from}/`))
    const directories = new Set<string>([to])
    yield* fs.makeDirectory(to, { recursive: true })
    for (const f of files) {
      const target = to + f.path.slice(from.length)
      const parent = target.slice(0, target.lastIndexOf("/"))
      if (!directories.has(parent)) {
        yield* fs.makeDirectory(parent, { recursive: true })
        directories.add(parent)
      }
      const bytes = yield* mem.fileBytes(f.path)
      yield* Effect.scoped(Effect.flatMap(fs.open(target, { flag: "w" }), (file) => Effect.zipRight(file.writeAll(bytes), file.sync)))
    }
    for (const d of ["/", ...[...directories].sort()]) yield* Effect.scoped(Effect.flatMap(fs.open(d, { flag: "r" }), (dir) => dir.sync))
  })

/**
 * (b) After a power loss at `firstCall`, a power loss at each call j of the reopen (j = 1, 2, ...
 * until the reopen finishes within j - 1 calls), each followed by a restart and a checked reopen.
 * Returns the number of recovery calls tried and the problems, each naming j.
 */
const crashDuringRecovery = (plan: Plan, firstCall: number, torn: boolean) =>
  onFreshMachine(
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const progress = { step: -1, phase: "" }
      yield* mem.crashAt({ call: firstCall, tornWrites: torn, seed: tornSeed(plan.seed, firstCall) })
      const record = yield* withinSeconds(runWorkload(plan, { options: sweepOptions(plan, DIR), afterFailure: "stop" }, progress), RUN_SECONDS, progress)
      if (isTimedOut(record)) return { tried: 0, problems: [`the workload hung: ${record.timedOut}`] }
      yield* mem.restart
      const problems: Array<string> = defects(record)
      let j = 1
      for (; ; j++) {
        const dir = `/recovery-${j}`
        yield* durableCopy(DIR, dir)
        const start = yield* mem.callCount
        // Torn writes in every other recovery crash (after a plain first crash), seeded.
        const tornAgain = (j % 2 === 0) !== torn
        yield* mem.crashAt({ call: start + j, tornWrites: tornAgain, seed: tornSeed(plan.seed, firstCall) + j })
        const reopen = { step: -1, phase: "reopen" }
        const opened = yield* withinSeconds(Effect.exit(Effect.scoped(Db.make(sweepOptions(plan, dir)))), RUN_SECONDS, reopen)
        const fired = (yield* mem.callCount) >= start + j
        yield* mem.restart
        const at = `recovery call ${j}${tornAgain ? " (torn)" : ""}`
        if (isTimedOut(opened)) problems.push(`${at}: the reopen hung: ${opened.timedOut}`)
        else if (!fired && Exit.isFailure(opened)) problems.push(`${at}: the reopen failed with no crash: ${JSON.stringify(outcomeOf(opened))}`)
        for (const p of yield* recoverAndCheck(sweepOptions(plan, dir), record, "synced", takesWrites)) problems.push(`${at}: ${p}`)
        if (!fired) break
      }
      return { tried: j, problems }
    })
  )

const summary = (name: string, seeds: Array<number>, what: string, count: number, failures: Array<string>, started: number) =>
  console.log(
    `[sweep] ${name}${settings.soak ? " (soak)" : ""}: ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]}), ` +
      `${count} ${what}, ${failures.length} failures, ${((Date.now() - started) / 1000).toFixed(1)} s`
  )

const failureReport = (failures: Array<string>) =>
  `${failures.length} failures; replay one with STRATADB_SEED and STRATADB_CALL:\n${failures.slice(0, 25).join("\n")}`

describe("power loss at every file-system call", () => {
  it.live("(a) during the workload: synced writes survive, the rest is a prefix (plain and torn)", () =>
    Effect.gen(function* () {
      const started = Date.now()
      const deadline = started + settings.soakSeconds * 1000
      const loop = seedLoop(settings, 1)
      const failures: Array<string> = []
      const seeds: Array<number> = []
      let points = 0
      for (let seed: number | undefined = loop.first; seed !== undefined; seed = loop.next(seed, Date.now() < deadline)) {
        seeds.push(seed)
        const plan = makePlan(seed)
        const n = yield* countCalls(plan)
        for (const call of pointsToTry(n, settings.soak ? 1 : SHORT_STRIDE, seed, settings.call)) {
          if (settings.soak && Date.now() >= deadline) break
          for (const torn of [false, true]) {
            points++
            for (const p of yield* crashAtCall(plan, call, torn)) failures.push(`seed ${seed}, power loss at call ${call} of ${n}${torn ? " (torn)" : ""}: ${p}`)
          }
        }
      }
      summary("power loss during the workload", seeds, "crash points", points, failures, started)
      assert.strictEqual(failures.length, 0, failureReport(failures))
    }), settings.soak ? 0 : 120_000)

  it.live("(b) during recovery: a crash at every call of the reopen, then a reopen recovers every synced write", () =>
    Effect.gen(function* () {
      const started = Date.now()
      const deadline = started + settings.soakSeconds * 1000
      const loop = seedLoop(settings, 2)
      const failures: Array<string> = []
      const seeds: Array<number> = []
      let points = 0
      for (let seed: number | undefined = loop.first; seed !== undefined; seed = loop.next(seed, Date.now() < deadline)) {
        seeds.push(seed)
        const plan = makePlan(seed)
        const n = yield* countCalls(plan)
        const stride = settings.soak ? SOAK_RECOVERY_STRIDE : Math.ceil(n / SHORT_RECOVERY_POINTS)
        for (const call of pointsToTry(n, stride, seed + 1, settings.call)) {
          if (settings.soak && Date.now() >= deadline) break
          // The first power loss tears writes at odd calls (a function of the call, so a replay agrees).
          const torn = call % 2 === 1
          const { tried, problems } = yield* crashDuringRecovery(plan, call, torn)
          points += tried
          for (const p of problems) failures.push(`seed ${seed}, power loss at call ${call} of ${n}${torn ? " (torn)" : ""}, then at ${p}`)
        }
      }
      summary("power loss during recovery", seeds, "crash points in recoveries", points, failures, started)
      assert.strictEqual(failures.length, 0, failureReport(failures))
    }), settings.soak ? 0 : 120_000)
})
