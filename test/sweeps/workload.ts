/**
 * The sweeps' workload and its checker (issue 10: "nothing acknowledged is ever lost").
 *
 * - `makePlan(seed)`: a deterministic list of steps through the public API (put, delete, batch,
 *   some with `sync`, flush, compactRange, and one close + reopen), sized with `sweepOptions` so
 *   that it makes memtable flushes, L0 -> L1 -> L2 compactions and a manifest rotation happen.
 * - `runWorkload`: runs a plan on a `Db`, never failing: every step's outcome (acknowledged, or
 *   failed with which error, or a defect) is recorded in order. That record is the model.
 * - `readBack` + `check`: after recovery, what the database holds must (a) keep every synced
 *   acknowledged write unless a later write replaced it, (b) be the model's state after a prefix of
 *   the writes at least as long as the last one that must be durable (the last synced acknowledged
 *   one after a power loss; the last acknowledged one when the machine never went off), in which
 *   each failed write (the one in flight when the power went or the I/O failed) is there whole or
 *   not at all, and (c) hold no value never written. `get` must agree with `scan`.
 *
 * Values are unique (`<step>.<index>:<filler>`), so a value found tells which write made it.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import { isPlatformError } from "@effect/platform/Error"
import type { Path } from "@effect/platform/Path"
import { Cause, Chunk, Effect, Exit, Option, Scope, Stream } from "effect"
import { Db, type DbService } from "../../src/Db.js"
import { Corruption, DbClosed, DbLocked, InvalidArgument } from "../../src/errors.js"
import type { DbOptions } from "../../src/Options.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { seededRandom } from "../../src/internal/seededRandom.js"

// ---------------------------------------------------------------------------------------------
// The plan

/** A key and its new value; `undefined` deletes. */
export type Mutation = readonly [key: string, value: string | undefined]

export type Step =
  | { readonly _tag: "write"; readonly api: "put" | "delete" | "batch"; readonly mutations: ReadonlyArray<Mutation>; readonly sync: boolean }
  | { readonly _tag: "flush" }
  | { readonly _tag: "compactRange"; readonly start?: string; readonly end?: string }
  | { readonly _tag: "reopen" }

export interface Plan {
  readonly seed: number
  /** Leveled for odd seeds, size-tiered for even ones (see `sweepOptions`). */
  readonly compaction: "leveled" | "tiered"
  readonly steps: ReadonlyArray<Step>
  /** Every key the plan may write, sorted. */
  readonly keys: ReadonlyArray<string>
}

/**
 * The plan's options, with small sizes: a memtable holds ~50 entries; leveled: 2 L0 tables start
 * a compaction, tables are cut at 1 KiB, L1 holds 1 KiB and L2 10 KiB (so data reaches L2 and
 * compactRange goes to L3); tiered: 2 runs of similar size merge.
 */
export const sweepOptions = (plan: Plan, directory: string): DbOptions => ({
  directory,
  writeBufferSize: 4096,
  blockSize: 256,
  blockCacheSize: 16 * 1024,
  compaction: plan.compaction,
  ...(plan.compaction === "leveled"
    ? { level0CompactionTrigger: 2, targetFileSize: 1024, maxBytesForLevelBase: 1024 }
    : { tieredMinMergeWidth: 2 })
})

/** A seeded generator, so a plan is the same on every machine. */
const generator = (seed: number) => {
  const next = seededRandom(seed)
  return {
    next,
    int(lo: number, hi: number): number {
      return lo + Math.floor(next() * (hi - lo + 1))
    }
  }
}

const KEY_SPACE = 80
const keyName = (i: number) => `k${String(i).padStart(3, "0")}`

/**
 * A seeded plan of `size` steps: ~70% puts (3% of them of 20-80 KB, 2% empty), ~12% deletes,
 * ~18% batches of 2-6 mixed mutations (sometimes the same key twice), ~1 in 8 writes synced; a flush at 30% and 75%, a ranged
 * compactRange at 45%, a close + reopen at 55% (a new manifest), a full compactRange at 90%.
 */
export const makePlan = (seed: number, size = 220): Plan => {
  const rng = generator(seed)
  const steps: Array<Step> = []
  const key = () => keyName(rng.int(0, KEY_SPACE - 1))
  const value = (step: number, index: number, length = rng.int(8, 70)) =>
    `${step}.${index}:${"abcdefghijklmnopqrstuvwxyz".charAt(step % 26).repeat(length)}`
  const at = (fraction: number) => Math.floor(size * fraction)
  const fixed = new Map<number, Step>([
    [at(0.3), { _tag: "flush" }],
    [at(0.45), { _tag: "compactRange", start: keyName(20), end: keyName(50) }],
    [at(0.55), { _tag: "reopen" }],
    [at(0.75), { _tag: "flush" }],
    [at(0.9), { _tag: "compactRange" }]
  ])
  for (let s = 0; s < size; s++) {
    const special = fixed.get(s)
    if (special !== undefined) {
      steps.push(special)
      continue
    }
    const sync = rng.next() < 0.125
    const r = rng.next()
    if (r < 0.7) {
      // Now and then a value larger than a log block (32 KiB: the record is fragmented) or empty.
      const size = rng.next()
      const v = size < 0.03 ? value(s, 0, rng.int(20_000, 80_000)) : size < 0.05 ? "" : value(s, 0)
      steps.push({ _tag: "write", api: "put", mutations: [[key(), v]], sync })
    } else if (r < 0.82) {
      steps.push({ _tag: "write", api: "delete", mutations: [[key(), undefined]], sync })
    } else {
      const n = rng.int(2, 6)
      const mutations: Array<Mutation> = []
      for (let i = 0; i < n; i++) {
        const k = i > 0 && rng.next() < 0.15 ? mutations[i - 1]![0] : key()
        mutations.push([k, rng.next() < 0.25 ? undefined : value(s, i)])
      }
      steps.push({ _tag: "write", api: "batch", mutations, sync })
    }
  }
  return {
    seed,
    compaction: seed % 2 === 0 ? "tiered" : "leveled",
    steps,
    keys: Array.from({ length: KEY_SPACE }, (_, i) => keyName(i))
  }
}

export const describeStep = (step: Step): string => {
  switch (step._tag) {
    case "write":
      return `${step.api}${step.sync ? " (sync)" : ""} ${step.mutations.map(([k, v]) => (v === undefined ? `-${k}` : `${k}=${v.slice(0, v.indexOf(":") + 1)}…`)).join(" ")}`
    case "compactRange":
      return `compactRange(${step.start ?? ""}..${step.end ?? ""})`
    default:
      return step._tag
  }
}

// ---------------------------------------------------------------------------------------------
// Running it: the record of what was acknowledged

/** How an effect ended: a typed error (`_tag: message`) is expected; a defect or interruption is a bug. */
export type Outcome =
  | { readonly _tag: "ok" }
  | { readonly _tag: "error"; readonly error: string }
  | { readonly _tag: "defect"; readonly defect: string }

export interface StepOutcome {
  readonly step: number
  /** Which open of the database (0, then 1 after the reopen step). */
  readonly session: number
  readonly outcome: Outcome
}

export interface WorkloadRecord {
  readonly plan: Plan
  /** The outcome of every step tried, in order (a step not tried is not here). */
  readonly steps: Array<StepOutcome>
  /** The outcome of each open (the first, then the reopen step's), in order. */
  readonly opens: Array<Outcome>
}

/** An engine error is one of the documented ones; anything else is a defect. */
const isTypedError = (e: unknown): boolean =>
  isPlatformError(e) ||
  e instanceof InvalidArgument ||
  e instanceof Corruption ||
  e instanceof DbClosed ||
  e instanceof DbLocked

const errorText = (e: unknown): string => {
  if (e !== null && typeof e === "object" && "_tag" in e) return `${String(e._tag)}: ${String((e as { message?: unknown }).message)}`
  return String(e)
}

/** Classifies an exit. The background fiber turns its defects into a Corruption that says so: a defect too. */
export const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { _tag: "ok" }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const e = failure.value
    const text = errorText(e)
    if (!isTypedError(e) || text.includes("background work died")) return { _tag: "defect", defect: `untyped or dying error: ${text}` }
    return { _tag: "error", error: text }
  }
  return { _tag: "defect", defect: Cause.pretty(exit.cause).split("\n").slice(0, 6).join("\n") }
}

export interface RunOptions {
  readonly options: DbOptions
  /**
   * After the first failed step: `"stop"` ends the run; a number `n` tries the next `n` steps of
   * that session (to see that the failure is kept: they must fail too), then ends the run (at the
   * reopen step at the latest).
   */
  readonly afterFailure: "stop" | number
}

/**
 * Runs the plan. Never fails: each step's outcome is recorded. The database is closed at the end
 * (and at the reopen step) by closing its scope. `progress` is updated as steps start, so a run
 * cut short by a timeout can say where it was.
 */
export const runWorkload = (
  plan: Plan,
  run: RunOptions,
  progress: { step: number; phase: string } = { step: -1, phase: "" }
): Effect.Effect<WorkloadRecord, never, FileSystem | Path> =>
  Effect.gen(function* () {
    const record: WorkloadRecord = { plan, steps: [], opens: [] }
    let session = 0
    let s = 0
    while (s < plan.steps.length) {
      const scope = yield* Scope.make()
      progress.phase = `open ${session}`
      const opened = yield* Effect.exit(Scope.extend(Db.make(run.options), scope))
      record.opens.push(outcomeOf(opened))
      if (Exit.isFailure(opened)) {
        yield* Scope.close(scope, Exit.void)
        return record
      }
      const db = opened.value
      let failedAt = -1
      let ended = false
      for (; s < plan.steps.length; s++) {
        const step = plan.steps[s]!
        if (failedAt >= 0 && (run.afterFailure === "stop" || s - failedAt > run.afterFailure || step._tag === "reopen")) {
          ended = true
          break
        }
        if (step._tag === "reopen") {
          s++
          break
        }
        progress.step = s
        progress.phase = describeStep(step)
        const outcome = outcomeOf(yield* Effect.exit(runStep(db, step)))
        record.steps.push({ step: s, session, outcome })
        if (outcome._tag !== "ok" && failedAt < 0) failedAt = s
      }
      progress.phase = `close ${session}`
      yield* Scope.close(scope, Exit.void)
      if (ended) return record
      session++
    }
    progress.phase = "done"
    return record
  })

const runStep = (db: DbService, step: Exclude<Step, { _tag: "reopen" }>): Effect.Effect<void, unknown> => {
  switch (step._tag) {
    case "write": {
      const options = { sync: step.sync }
      if (step.api === "put") return db.put(step.mutations[0]![0], step.mutations[0]![1]!, options)
      if (step.api === "delete") return db.delete(step.mutations[0]![0], options)
      const batch = WriteBatch.make()
      for (const [k, v] of step.mutations) v === undefined ? batch.delete(k) : batch.put(k, v)
      return db.write(batch, options)
    }
    case "flush":
      return db.flush
    case "compactRange":
      return db.compactRange(step.start, step.end)
  }
}

const isWrite = (step: Step): step is Extract<Step, { _tag: "write" }> => step._tag === "write"

/**
 * Stickiness: within a session, once a write, flush or compactRange failed, every later one
 * failed too. Returns the steps that broke it.
 */
export const stickinessViolations = (record: WorkloadRecord): Array<string> => {
  const problems: Array<string> = []
  const firstFailure = new Map<number, StepOutcome>()
  for (const o of record.steps) {
    const first = firstFailure.get(o.session)
    if (first === undefined) {
      if (o.outcome._tag !== "ok") firstFailure.set(o.session, o)
    } else if (o.outcome._tag === "ok") {
      problems.push(
        `step ${o.step} (${describeStep(record.plan.steps[o.step]!)}) succeeded after step ${first.step} failed with ` +
          `${first.outcome._tag === "error" ? first.outcome.error : "a defect"}`
      )
    }
  }
  return problems
}

/** Defects (and untyped errors) among the record's steps and opens. */
export const defects = (record: WorkloadRecord): Array<string> => [
  ...record.opens.flatMap((o, i) => (o._tag === "defect" ? [`open ${i}: ${o.defect}`] : [])),
  ...record.steps.flatMap((o) => (o.outcome._tag === "defect" ? [`step ${o.step} (${describeStep(record.plan.steps[o.step]!)}): ${o.outcome.defect}`] : []))
]

// ---------------------------------------------------------------------------------------------
// Reading back and checking

export interface Contents {
  /** What a full scan returned, in order. */
  readonly scanned: ReadonlyArray<readonly [string, string]>
  /** `get` of every key of the plan. */
  readonly got: ReadonlyMap<string, string | undefined>
}

const decoder = new TextDecoder()

/** Scans the whole database and `get`s every key of the plan. */
export const readBack = (db: DbService, plan: Plan): Effect.Effect<Contents, unknown> =>
  Effect.gen(function* () {
    const scanned = yield* db.scan().pipe(
      Stream.map((e) => [decoder.decode(e.key), decoder.decode(e.value)] as const),
      Stream.runCollect,
      Effect.map(Chunk.toArray)
    )
    const values = yield* db.getMany(plan.keys)
    const got = new Map(plan.keys.map((k, i) => [k, Option.getOrUndefined(Option.map(values[i]!, (b) => decoder.decode(b)))] as const))
    return { scanned, got }
  })

/** What must have survived: after a power loss, the synced acknowledged writes; without one, every acknowledged write. */
export type Durability = "synced" | "acknowledged"

interface WriteRecord {
  readonly step: number
  readonly mutations: ReadonlyMap<string, string | undefined>
  readonly sync: boolean
  readonly acked: boolean
}

type State = ReadonlyMap<string, string>

const apply = (state: State, w: WriteRecord): Map<string, string> => {
  const next = new Map(state)
  for (const [k, v] of w.mutations) v === undefined ? next.delete(k) : next.set(k, v)
  return next
}

const canonical = (state: State): string =>
  [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join("\n")

const show = (v: string | undefined) => (v === undefined ? "absent" : v.length > 16 ? `${v.slice(0, 16)}…` : v)

/** Beyond this many candidate states (2^failed writes) the checker gives up rather than run long. */
const MAX_CANDIDATES = 1 << 14

/**
 * Checks what a recovered database holds against the record. Returns the problems found (empty:
 * all good), each naming the steps involved.
 */
export const check = (record: WorkloadRecord, contents: Contents, durability: Durability): Array<string> => {
  const problems: Array<string> = []
  // Each write tried, in order: acknowledged, or failed (then it may or may not be there, whole).
  const writes: Array<WriteRecord> = []
  for (const o of record.steps) {
    const step = record.plan.steps[o.step]!
    if (!isWrite(step)) continue
    writes.push({ step: o.step, mutations: new Map(step.mutations), sync: step.sync, acked: o.outcome._tag === "ok" })
  }
  const actual = new Map<string, string>()
  let previous: string | undefined
  for (const [k, v] of contents.scanned) {
    if (previous !== undefined && !(previous < k)) problems.push(`scan: key ${k} after ${previous} (not strictly ascending)`)
    if (actual.has(k)) problems.push(`scan: key ${k} twice`)
    actual.set(k, v)
    previous = k
  }
  for (const [k, v] of contents.got) {
    if (v !== actual.get(k)) problems.push(`get(${k}) = ${show(v)} but scan has ${show(actual.get(k))}`)
  }

  // (c) Every value found was written to that key by some write tried.
  const writtenBy = new Map<string, number>() // "key\0value" -> step
  for (const w of writes) for (const [k, v] of w.mutations) if (v !== undefined) writtenBy.set(`${k}\0${v}`, w.step)
  for (const [k, v] of actual) {
    if (!writtenBy.has(`${k}\0${v}`)) problems.push(`(c) ${k} = ${show(v)}: a value never written to that key`)
  }

  // (a) A synced acknowledged write is there, unless a later write (acknowledged or in flight) replaced it.
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!
    if (!w.acked || !(w.sync || durability === "acknowledged")) continue
    for (const [k, v] of w.mutations) {
      const allowed = new Set<string | undefined>([v])
      for (let j = i + 1; j < writes.length; j++) if (writes[j]!.mutations.has(k)) allowed.add(writes[j]!.mutations.get(k))
      const found = actual.get(k)
      if (!allowed.has(found)) {
        const what = v === undefined ? `delete of ${k} undone (${show(found)} is back, from step ${writtenBy.get(`${k}\0${found}`) ?? "none: never written"})` : `${k} = ${show(v)} lost (found ${show(found)})`
        problems.push(`(a) ${w.sync ? "synced" : "acknowledged"} write at step ${w.step}: ${what}`)
      }
    }
  }

  // (b) The contents are the state after a prefix of the writes, at least up to the last one that
  // must be durable, each failed write in it there whole or not at all.
  let mustInclude = -1
  for (let i = 0; i < writes.length; i++) if (writes[i]!.acked && (writes[i]!.sync || durability === "acknowledged")) mustInclude = i
  const target = canonical(actual)
  let candidates = new Map<string, State>([["", new Map()]])
  let matched = mustInclude < 0 && candidates.has(target)
  let closest: State = new Map()
  for (let i = 0; i < writes.length && !matched; i++) {
    const w = writes[i]!
    const next = new Map<string, State>()
    for (const state of candidates.values()) {
      const applied = apply(state, w)
      next.set(canonical(applied), applied)
      if (!w.acked) next.set(canonical(state), state)
    }
    candidates = next
    if (candidates.size > MAX_CANDIDATES) {
      problems.push(`(b) checker: more than ${MAX_CANDIDATES} possible states (too many failed writes: give the run fewer)`)
      return problems
    }
    if (i === mustInclude) closest = candidates.values().next().value!
    if (i >= mustInclude && candidates.has(target)) matched = true
  }
  if (!matched) {
    const lastDurable = mustInclude < 0 ? "none" : `step ${writes[mustInclude]!.step}`
    const diff: Array<string> = []
    for (const k of new Set([...closest.keys(), ...actual.keys()])) {
      const want = closest.get(k)
      const got = actual.get(k)
      if (want === got) continue
      const by = writtenBy.get(`${k}\0${got}`)
      const wrote = got === undefined ? "" : by === undefined ? " (never written)" : ` (written at step ${by})`
      diff.push(`${k}: ${show(got)}${wrote}, model at the last durable write has ${show(want)}`)
    }
    diff.sort()
    problems.push(
      `(b) the contents are not the state after any prefix of the writes reaching the last durable one (${lastDurable}; ` +
        `${writes.filter((w) => w.acked).length} acknowledged, ${writes.filter((w) => !w.acked).length} failed writes): ` +
        diff.slice(0, 8).join("; ") + (diff.length > 8 ? `; … ${diff.length - 8} more keys` : "")
    )
  }
  return problems
}

/** A recovery (open, read back, close) that has not finished after this long is a hang. */
const RECOVERY_SECONDS = 20

/**
 * Opens the database, reads it back, checks it and closes it; an open or read that fails (or
 * hangs), or an `afterCheck` that fails, is a problem too.
 */
export const recoverAndCheck = (
  options: DbOptions,
  record: WorkloadRecord,
  durability: Durability,
  afterCheck?: (db: DbService) => Effect.Effect<void, unknown>
): Effect.Effect<Array<string>, never, FileSystem | Path> => {
  const progress = { step: -1, phase: "recovery: open" }
  return Effect.scoped(
    Effect.gen(function* () {
      const db = yield* Db.make(options)
      progress.phase = "recovery: read back"
      const contents = yield* readBack(db, record.plan)
      const problems = check(record, contents, durability)
      if (problems.length === 0 && afterCheck !== undefined) {
        progress.phase = "recovery: after the check"
        const after = outcomeOf(yield* Effect.exit(afterCheck(db)))
        if (after._tag !== "ok") problems.push(`after recovery: ${after._tag === "error" ? after.error : after.defect}`)
      }
      progress.phase = "recovery: close"
      return problems
    })
  ).pipe(
    Effect.exit,
    Effect.map((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      const outcome = outcomeOf(exit)
      return [`recovery failed: ${outcome._tag === "error" ? outcome.error : outcome._tag === "defect" ? outcome.defect : "?"}`]
    }),
    (effect) => withinSeconds(effect, RECOVERY_SECONDS, progress),
    Effect.map((r) => (isTimedOut(r) ? [`recovery hung: ${r.timedOut}`] : r))
  )
}

// ---------------------------------------------------------------------------------------------
// Sweep settings (environment) and helpers shared by the sweeps

export interface SweepSettings {
  /** `STRATADB_SOAK=1`: many seeds, every call, until the time budget is spent. */
  readonly soak: boolean
  /** `STRATADB_SOAK_SECONDS` (default 600): each sweep's time budget in the soak. */
  readonly soakSeconds: number
  /** `STRATADB_SEED`: run this one seed only (to replay a failure). */
  readonly seed: number | undefined
  /** `STRATADB_CALL`: try this one call number only (with `STRATADB_SEED`, to replay a failure). */
  readonly call: number | undefined
}

const numberFromEnv = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`)
  return n
}

export const sweepSettings = (): SweepSettings => ({
  soak: process.env.STRATADB_SOAK === "1",
  soakSeconds: numberFromEnv("STRATADB_SOAK_SECONDS") ?? 600,
  seed: numberFromEnv("STRATADB_SEED"),
  call: numberFromEnv("STRATADB_CALL")
})

/**
 * The call numbers to try among 1..n: every one with `stride` 1, else one seeded pick in each
 * window of `stride` calls (so a seed always tries the same calls), and the last call.
 */
export const pointsToTry = (n: number, stride: number, seed: number, only?: number): Array<number> => {
  if (only !== undefined) return [only]
  if (stride <= 1) return Array.from({ length: n }, (_, i) => i + 1)
  const rng = generator(seed ^ 0x5eed)
  const points: Array<number> = []
  for (let start = 1; start <= n; start += stride) points.push(Math.min(n, start + rng.int(0, stride - 1)))
  if (points[points.length - 1] !== n) points.push(n)
  return points
}

/**
 * The seeds a sweep runs: `STRATADB_SEED` alone if set; in the soak, consecutive seeds from a
 * random start while `more` (the time budget) allows; else the short form's `shortSeed` (each
 * sweep has its own, odd for leveled compaction, even for tiered).
 */
export const seedLoop = (
  settings: SweepSettings,
  shortSeed: number
): { readonly first: number; readonly next: (seed: number, more: boolean) => number | undefined } => {
  const first = settings.seed ?? (settings.soak ? 1 + Math.floor(Math.random() * 1_000_000) : shortSeed)
  return {
    first,
    next: (seed, more) => (settings.seed === undefined && settings.soak && more ? seed + 1 : undefined)
  }
}

/** `effect`, or a description of where it was when it did not finish within `seconds`. */
export const withinSeconds = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  seconds: number,
  progress: { step: number; phase: string }
): Effect.Effect<A | { readonly timedOut: string }, E, R> =>
  Effect.disconnect(effect).pipe(
    Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new TimedOut() }),
    Effect.catchIf(
      (e): e is TimedOut => e instanceof TimedOut,
      () => Effect.succeed({ timedOut: `no answer after ${seconds} s, at step ${progress.step} (${progress.phase})` })
    )
  )

class TimedOut {
  readonly _tag = "TimedOut"
}

export const isTimedOut = (x: unknown): x is { readonly timedOut: string } =>
  x !== null && typeof x === "object" && "timedOut" in x

/** After the check: the recovered database takes a synced write and reads it back. */
export const takesWrites = (db: DbService): Effect.Effect<void, unknown> =>
  Effect.gen(function* () {
    yield* db.put("zz-after-recovery", "written", { sync: true })
    const v = yield* db.get("zz-after-recovery")
    if (Option.getOrUndefined(Option.map(v, (b) => decoder.decode(b))) !== "written") {
      return yield* Effect.fail(new Error("the recovered database lost a write made after recovery"))
    }
  })
