/**
 * Metamorphic test (issue 10), after Pebble's `metamorphic/` package: one seeded random sequence of
 * operations (put, delete, batch write, bulk fill, concurrent writes of distinct keys (group
 * commit), get, getMany, scans with random bounds, prefix, reverse, limit and key/value
 * projection, cursors seeking to random targets, deleteRange, a scan interleaved with writes, flushes and compactions, reads running concurrently
 * with a flush and a compaction, snapshots taken and read later, flush, compactRange, close and
 * reopen) runs under many option sets (`configs`), each on its own MemoryFileSystem, with binary
 * keys (0x00, 0xff, shared prefixes) and values from empty to 70 KB (WAL records cut into
 * fragments). Every operation's result goes into a history;
 * every history must equal every other and the one a plain in-memory model (a Map, copied for
 * snapshots) gives. Options change how data is laid out (block and memtable sizes, compaction
 * strategy, filters, caches, levels), never what a read returns.
 *
 * The seed is printed. `STRATADB_SEED=<n>` (with `STRATADB_OPS=<count>`, if the run said so)
 * replays one seed; `STRATADB_CONFIG=<name>` restricts the run to one option set. On a divergence
 * the operations are shrunk (for at most a minute) to a short sequence that still diverges, and
 * printed as JSON. `STRATADB_VERBOSE=1` prints what the engine did under each option set
 * (flushes, compactions, tables per level).
 *
 * Short form: three seeds of 400 operations. `STRATADB_SOAK=1`: seeds of 1500 operations until
 * `STRATADB_SOAK_SECONDS` (default 600) pass, then a summary line.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Option, Scope, Stream } from "effect"
import { Db, type DbService, type Entry, type Snapshot } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions } from "../../src/Options.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { fullScan, keyBytes, Model, type ModelEntry, modelEntry, Rng, type ScanSpec, scanOptions, showKey, showScan, utf8 } from "./model.js"

const SOAK = process.env.STRATADB_SOAK === "1"
const SOAK_SECONDS = Number(process.env.STRATADB_SOAK_SECONDS ?? "600")
const SEED = process.env.STRATADB_SEED === undefined ? undefined : Number(process.env.STRATADB_SEED)
const OPS = process.env.STRATADB_OPS === undefined ? (SOAK ? 1500 : 400) : Number(process.env.STRATADB_OPS)
const ONLY_CONFIG = process.env.STRATADB_CONFIG
const SHORT_SEEDS = 3
/** `STRATADB_VERBOSE=1`: print what the engine did under each option set. */
const VERBOSE = process.env.STRATADB_VERBOSE === "1"
/** An operation that takes longer than this is reported as hung (real time, not the test clock). */
const OP_TIMEOUT_MS = 30_000
const SHRINK_BUDGET_MS = 60_000

// ---------------------------------------------------------------------------------------------
// Operations

interface Write {
  readonly key: string
  /** undefined: a delete. */
  readonly value?: string
}

export type Op =
  | { readonly t: "put"; readonly key: string; readonly value: string }
  | { readonly t: "delete"; readonly key: string }
  | { readonly t: "batch"; readonly writes: ReadonlyArray<Write> }
  /** Writes of distinct keys run concurrently (group commit): the end state does not depend on their order. */
  | { readonly t: "concurrent"; readonly writes: ReadonlyArray<Write> }
  /** A batch of `count` puts of keys `m/<start>` ..: grows the database past a scan chunk. */
  | { readonly t: "fill"; readonly start: number; readonly count: number; readonly tag: string }
  /** `snap`: read at live snapshot `snap % live`, or the latest state when none is live. */
  | { readonly t: "get"; readonly key: string; readonly snap?: number }
  | { readonly t: "getMany"; readonly keys: ReadonlyArray<string>; readonly snap?: number }
  | { readonly t: "scan"; readonly spec: ScanSpec; readonly snap?: number }
  /** Pulls the scan's first chunk, then writes (and flushes, compacts), then pulls the rest. */
  | { readonly t: "scanWhileWriting"; readonly spec: ScanSpec; readonly writes: ReadonlyArray<Write>; readonly flush: boolean; readonly compact: boolean }
  /** Gets and a scan run concurrently with a flush (and a compaction): they see the same state. */
  | { readonly t: "readsDuringCompaction"; readonly keys: ReadonlyArray<string>; readonly spec: ScanSpec; readonly compact: boolean }
  | { readonly t: "snapshot" }
  | { readonly t: "release"; readonly which: number }
  | { readonly t: "flush" }
  | { readonly t: "compactRange"; readonly start?: string; readonly end?: string }
  | { readonly t: "reopen" }
  /** `deleteRange` over the spec's range (its reverse and limit; keys/values ignored). */
  | { readonly t: "deleteRange"; readonly spec: ScanSpec }
  /** A cursor over the spec: for each target, `seek` then `next(take)`. */
  | { readonly t: "seekScan"; readonly spec: ScanSpec; readonly targets: ReadonlyArray<string>; readonly take: number; readonly snap?: number }

const ALPHABET = ["\x00", "\x01", "0", "1", "9", "a", "b", "z", "\x7f", "\x80", "\xfe", "\xff"]
const PREFIXES = ["a", "ab", "abc", "b", "user:", "\x00", "\xff", "\xff\xff", "k", "k\x00"]
const FILLER = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
const HOT = 16
const BULK = 600

/** A value: a unique tag, then `length` bytes of filler (so the tag and the length identify it). */
const valueOf = (tag: string, length: number): string => {
  let filler = ""
  while (filler.length < length) filler += FILLER
  return `${tag}:${filler.slice(0, length)}`
}
const bulkKey = (i: number) => `m/${String(i).padStart(4, "0")}`

/** The operations of a seed: the same seed and count give the same operations. */
export const generate = (seed: number, count: number): Array<Op> => {
  const rng = new Rng(seed)
  // The empty key is the smallest key there is: a hot key of every seed.
  const pool = new Set<string>([""])
  while (pool.size < 100) {
    let k = rng.pick(PREFIXES)
    const n = rng.int(6)
    for (let i = 0; i < n; i++) k += rng.pick(ALPHABET)
    pool.add(k)
  }
  const keys = [...pool]
  const key = (): string => {
    const r = rng.next()
    if (r < 0.5) return keys[rng.int(HOT)]!
    if (r < 0.97) return rng.pick(keys)
    return bulkKey(rng.int(BULK))
  }
  const valueLength = () => {
    const r = rng.next()
    // Rarely past a 32 KiB log block, so a WAL record is cut into fragments.
    return r < 0.05 ? 0 : r < 0.6 ? rng.int(30) : r < 0.85 ? rng.range(30, 200) : r < 0.97 ? rng.range(200, 1000) : r < 0.995 ? rng.range(1000, 5000) : rng.range(20_000, 70_000)
  }
  const bound = (): string => {
    switch (rng.int(10)) {
      case 0:
      case 1:
      case 2:
      case 3:
        return key()
      case 4:
        return `${key()}\x00`
      case 5: {
        const k = key()
        return k.slice(0, 1 + rng.int(k.length))
      }
      case 6:
        return rng.pick(PREFIXES)
      case 7:
        return ""
      case 8:
        return `m/${rng.int(BULK)}`
      default: {
        let k = ""
        const n = rng.range(1, 3)
        for (let i = 0; i < n; i++) k += rng.pick(ALPHABET)
        return k
      }
    }
  }
  const spec = (): ScanSpec => {
    const lower = rng.chance(0.6) ? bound() : undefined
    const upper = rng.chance(0.6) ? bound() : undefined
    const lowerExclusive = rng.chance(0.5)
    const upperExclusive = rng.chance(0.5)
    const prefix = rng.chance(0.2) ? (rng.chance(0.5) ? rng.pick(PREFIXES) : key().slice(0, rng.range(1, 3))) : undefined
    const limit = rng.chance(0.3) ? rng.int(30) : undefined
    return {
      ...(lower === undefined ? {} : lowerExclusive ? { gt: lower } : { gte: lower }),
      ...(upper === undefined ? {} : upperExclusive ? { lt: upper } : { lte: upper }),
      ...(prefix === undefined ? {} : { prefix }),
      ...(limit === undefined ? {} : { limit }),
      reverse: rng.chance(0.5),
      keys: !rng.chance(0.05),
      values: !rng.chance(0.05)
    }
  }
  const snap = () => (rng.chance(0.3) ? rng.int(1_000_000) : undefined)
  const writes = (n: number, i: number): Array<Write> =>
    Array.from({ length: n }, (_, j) => (rng.chance(0.25) ? { key: key() } : { key: key(), value: valueOf(`${i}.${j}`, valueLength()) }))

  const ops: Array<Op> = []
  const table: ReadonlyArray<readonly [number, (i: number) => Op]> = [
    [30, (i) => ({ t: "put", key: key(), value: valueOf(`${i}`, valueLength()) })],
    [10, () => ({ t: "delete", key: key() })],
    [8, (i) => ({ t: "batch", writes: writes(rng.range(0, 10), i) })],
    [3, (i) => {
      const seen = new Set<string>()
      return { t: "concurrent", writes: writes(rng.range(2, 12), i).filter((w) => !seen.has(w.key) && seen.add(w.key) !== undefined) }
    }],
    [1, (i) => ({ t: "fill", start: rng.int(BULK - 100), count: rng.range(50, 300), tag: `${i}` })],
    [15, () => ({ t: "get", key: key(), ...opt("snap", snap()) })],
    [4, () => ({ t: "getMany", keys: Array.from({ length: rng.range(0, 8) }, key), ...opt("snap", snap()) })],
    [12, () => ({ t: "scan", spec: spec(), ...opt("snap", snap()) })],
    [2, (i) => ({ t: "scanWhileWriting", spec: spec(), writes: writes(rng.range(1, 8), i), flush: rng.chance(0.5), compact: rng.chance(0.3) })],
    [2, () => ({ t: "readsDuringCompaction", keys: Array.from({ length: rng.range(1, 8) }, key), spec: spec(), compact: rng.chance(0.5) })],
    [3, () => ({ t: "snapshot" })],
    [2, () => ({ t: "release", which: rng.int(1_000_000) })],
    [2, () => ({ t: "flush" })],
    [2, () => {
      const a = rng.chance(0.7) ? bound() : undefined
      const b = rng.chance(0.7) ? bound() : undefined
      const [start, end] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b]
      return { t: "compactRange", ...opt("start", start), ...opt("end", end) }
    }],
    [1, () => ({ t: "reopen" })],
    [2, () => ({ t: "deleteRange", spec: spec() })],
    [4, () => ({ t: "seekScan", spec: spec(), targets: Array.from({ length: rng.range(1, 5) }, bound), take: rng.range(1, 40), ...opt("snap", snap()) })]
  ]
  const total = table.reduce((s, [w]) => s + w, 0)
  for (let i = 0; i < count; i++) {
    let r = rng.int(total)
    for (const [w, make] of table) {
      if (r < w) {
        ops.push(make(i))
        break
      }
      r -= w
    }
  }
  return ops
}

const opt = <K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [name]: value }) as { [P in K]?: V }

const showWrites = (ws: ReadonlyArray<Write>) =>
  ws.map((w) => (w.value === undefined ? `del ${showKey(w.key)}` : `put ${showKey(w.key)}=${showTag(w.value)}`)).join(", ")
/** A value by its tag and length. */
const showTag = (v: string) => `${v.slice(0, v.indexOf(":") + 1)}(${v.length})`

export const showOp = (op: Op): string => {
  const at = (snap: number | undefined) => (snap === undefined ? "" : ` @snap ${snap}`)
  switch (op.t) {
    case "put":
      return `put ${showKey(op.key)} = ${showTag(op.value)}`
    case "delete":
      return `delete ${showKey(op.key)}`
    case "batch":
      return `batch [${showWrites(op.writes)}]`
    case "concurrent":
      return `concurrently [${showWrites(op.writes)}]`
    case "fill":
      return `fill ${op.count} keys from ${bulkKey(op.start)}`
    case "get":
      return `get ${showKey(op.key)}${at(op.snap)}`
    case "getMany":
      return `getMany [${op.keys.map(showKey).join(", ")}]${at(op.snap)}`
    case "scan":
      return `scan ${showScan(op.spec)}${at(op.snap)}`
    case "scanWhileWriting":
      return `scanWhileWriting ${showScan(op.spec)} then [${showWrites(op.writes)}]${op.flush ? " flush" : ""}${op.compact ? " compactRange" : ""}`
    case "readsDuringCompaction":
      return `while flush${op.compact ? " and compactRange" : ""}: get [${op.keys.map(showKey).join(", ")}], scan ${showScan(op.spec)}`
    case "snapshot":
      return "snapshot"
    case "release":
      return `release ${op.which}`
    case "flush":
      return "flush"
    case "compactRange":
      return `compactRange ${op.start === undefined ? "-" : showKey(op.start)} .. ${op.end === undefined ? "-" : showKey(op.end)}`
    case "reopen":
      return "close and reopen"
    case "deleteRange":
      return `deleteRange ${showScan(op.spec)}`
    case "seekScan":
      return `cursor ${showScan(op.spec)}: ${op.targets.map((t) => `seek ${showKey(t)}, next ${op.take}`).join("; ")}${at(op.snap)}`
  }
}

// ---------------------------------------------------------------------------------------------
// Histories: one string per operation, then the final reads.

/**
 * A value in a history: `tag(length)` when it is exactly the value `valueOf` makes for that tag and
 * length (every value the workload writes), else the whole value (a value never written).
 */
const fmtValue = (v: string | undefined) => {
  if (v === undefined) return "none"
  const colon = v.indexOf(":")
  const tag = v.slice(0, colon)
  if (colon > 0 && /^[0-9.]+$/.test(tag) && v === valueOf(tag, v.length - colon - 1)) return `${tag}(${v.length})`
  return JSON.stringify(v)
}
/** Entries in a history; `-` for a side the scan left out (an empty key or value prints `""`). */
const fmtEntries = (entries: ReadonlyArray<ModelEntry>) =>
  `[${entries.map(([k, v]) => `${k === undefined ? "-" : JSON.stringify(k)}=${v === undefined ? "-" : v === "" ? '""' : fmtValue(v)}`).join(", ")}]`
const fillWrites = (op: Extract<Op, { t: "fill" }>): Array<Write> =>
  Array.from({ length: op.count }, (_, j) => ({ key: bulkKey(op.start + j), value: valueOf(`${op.tag}.${j}`, j % 40) }))

/** The reads that close every history: both full scans, and a get of every key written. */
const finalKeys = (ops: ReadonlyArray<Op>): Array<string> => {
  const keys = new Set<string>()
  for (const op of ops) {
    if (op.t === "put" || op.t === "delete") keys.add(op.key)
    else if (op.t === "batch" || op.t === "concurrent" || op.t === "scanWhileWriting") for (const w of op.writes) keys.add(w.key)
    else if (op.t === "fill") for (const w of fillWrites(op)) keys.add(w.key)
  }
  return [...keys].sort()
}

/** Whether a key lies in the spec's range (bounds and prefix). */
const inSpec = (s: ScanSpec, k: string): boolean =>
  (s.gt === undefined || k > s.gt) &&
  (s.gte === undefined || k >= s.gte) &&
  (s.lt === undefined || k < s.lt) &&
  (s.lte === undefined || k <= s.lte) &&
  (s.prefix === undefined || k.startsWith(s.prefix))

/** The history the model gives. */
export const modelHistory = (ops: ReadonlyArray<Op>): Array<string> => {
  const history: Array<string> = []
  const model = new Model()
  let snaps: Array<{ id: number; model: Model }> = []
  let nextSnap = 0
  const apply = (ws: ReadonlyArray<Write>) => {
    for (const w of ws) w.value === undefined ? model.delete(w.key) : model.put(w.key, w.value)
  }
  const at = (snap: number | undefined) => {
    const s = snap === undefined || snaps.length === 0 ? undefined : snaps[snap % snaps.length]!
    return { m: s?.model ?? model, label: s === undefined ? "" : `@#${s.id} ` }
  }
  for (const op of ops) {
    switch (op.t) {
      case "put":
        model.put(op.key, op.value)
        history.push("ok")
        break
      case "delete":
        model.delete(op.key)
        history.push("ok")
        break
      case "batch":
      case "concurrent":
        apply(op.writes)
        history.push("ok")
        break
      case "fill":
        apply(fillWrites(op))
        history.push("ok")
        break
      case "get": {
        const { m, label } = at(op.snap)
        history.push(label + fmtValue(m.get(op.key)))
        break
      }
      case "getMany": {
        const { m, label } = at(op.snap)
        history.push(label + op.keys.map((k) => fmtValue(m.get(k))).join(","))
        break
      }
      case "scan": {
        const { m, label } = at(op.snap)
        history.push(label + fmtEntries(m.scan(op.spec)))
        break
      }
      case "scanWhileWriting": {
        const entries = model.scan(op.spec)
        apply(op.writes)
        history.push(fmtEntries(entries))
        break
      }
      case "readsDuringCompaction":
        history.push(`${op.keys.map((k) => fmtValue(model.get(k))).join(",")} ${fmtEntries(model.scan(op.spec))}`)
        break
      case "snapshot":
        snaps.push({ id: nextSnap, model: model.clone() })
        history.push(`#${nextSnap++}`)
        break
      case "release":
        if (snaps.length === 0) history.push("no snapshot")
        else history.push(`released #${snaps.splice(op.which % snaps.length, 1)[0]!.id}`)
        break
      case "flush":
      case "compactRange":
        history.push("ok")
        break
      case "reopen":
        snaps = []
        history.push("ok")
        break
      case "deleteRange":
        for (const [k] of model.scan({ ...op.spec, keys: true, values: false })) model.delete(k!)
        history.push("ok")
        break
      case "seekScan": {
        const { m, label } = at(op.snap)
        const all = m.scan({ ...op.spec, keys: true, values: true, limit: undefined })
        let left = op.spec.limit ?? Number.POSITIVE_INFINITY
        const parts: Array<string> = []
        for (const t of op.targets) {
          // A target outside the range ends the cursor.
          const from = inSpec(op.spec, t) ? all.filter(([k]) => (op.spec.reverse ? k! <= t : k! >= t)).slice(0, Math.min(op.take, left)) : []
          left -= from.length
          parts.push(fmtEntries(from.map(([k, v]) => [op.spec.keys ? k : undefined, op.spec.values ? v : undefined] as const)))
        }
        history.push(label + parts.join(" "))
        break
      }
    }
  }
  history.push(`final scan ${fmtEntries(model.scan(fullScan(false)))}`)
  history.push(`final reverse scan ${fmtEntries(model.scan(fullScan(true)))}`)
  for (const k of finalKeys(ops)) history.push(`final get ${JSON.stringify(k)} ${fmtValue(model.get(k))}`)
  history.push(`after reopen ${fmtEntries(model.scan(fullScan(false)))}`)
  return history
}

/** Races `effect` with a real-time timer (the test clock does not move by itself). */
const realTimeout = <A, E, R>(effect: Effect.Effect<A, E, R>, ms: number): Effect.Effect<A | "timeout", E, R> =>
  Effect.raceFirst(
    effect,
    Effect.async<"timeout">((resume) => {
      const timer = setTimeout(() => resume(Effect.succeed("timeout" as const)), ms)
      return Effect.sync(() => clearTimeout(timer))
    })
  )

const collect = (stream: Stream.Stream<Entry<Uint8Array | undefined, Uint8Array | undefined>, unknown>) =>
  Effect.map(Stream.runCollect(stream), (c) => Chunk.toArray(c).map(modelEntry))

/** The history the database gives under `options` (on its own MemoryFileSystem). */
export const dbHistory = (ops: ReadonlyArray<Op>, config: Config) =>
  Effect.gen(function* () {
    const options: DbOptions = { directory: "/metamorphic", ...config.options }
    const w = config.sync ? { sync: true } : undefined
    const history: Array<string> = []
    /** What the engine did (differs between option sets, so it is not part of the history). */
    const work = { flushes: 0, compactions: 0, reopens: 0, levels: "" }
    const tally = Effect.gen(function* () {
      const stats = yield* Effect.either(db.stats)
      if (stats._tag === "Left") return
      work.flushes += stats.right.flushes
      work.compactions += stats.right.compactions
      work.levels = stats.right.levels.map((l) => l.tables).join("/")
    })
    const done = () => ({ history, work: `${work.flushes} flushes, ${work.compactions} compactions, ${work.reopens} reopens, tables per level ${work.levels}` })
    let scope = yield* Scope.make()
    let db: DbService = yield* Db.make(options).pipe(Scope.extend(scope))
    let snaps: Array<{ id: number; snapshot: Snapshot; scope: Scope.CloseableScope }> = []
    let nextSnap = 0
    const releaseAll = Effect.suspend(() => Effect.forEach(snaps.splice(0), (s) => Scope.close(s.scope, Exit.void), { discard: true }))
    const batchOf = (ws: ReadonlyArray<Write>) => {
      const b = WriteBatch.make()
      for (const x of ws) x.value === undefined ? b.delete(keyBytes(x.key)) : b.put(keyBytes(x.key), x.value)
      return b
    }
    const at = (snap: number | undefined) => {
      const s = snap === undefined || snaps.length === 0 ? undefined : snaps[snap % snaps.length]!
      return { options: s === undefined ? undefined : { snapshot: s.snapshot }, label: s === undefined ? "" : `@#${s.id} ` }
    }
    const value = (o: Option.Option<Uint8Array>) => fmtValue(Option.getOrUndefined(Option.map(o, utf8)))
    const ok = Effect.as("ok")

    const step = (op: Op): Effect.Effect<string, unknown, FileSystem | Path> => {
      switch (op.t) {
        case "put":
          return ok(db.put(keyBytes(op.key), op.value, w))
        case "delete":
          return ok(db.delete(keyBytes(op.key), w))
        case "batch":
          return ok(db.write(batchOf(op.writes), w))
        case "concurrent":
          return ok(
            Effect.all(
              op.writes.map((x) => (x.value === undefined ? db.delete(keyBytes(x.key), w) : db.put(keyBytes(x.key), x.value, w))),
              { concurrency: "unbounded", discard: true }
            )
          )
        case "fill":
          return ok(db.write(batchOf(fillWrites(op)), w))
        case "get": {
          const { options, label } = at(op.snap)
          return Effect.map(db.get(keyBytes(op.key), options), (o) => label + value(o))
        }
        case "getMany": {
          const { options, label } = at(op.snap)
          return Effect.map(db.getMany(op.keys.map(keyBytes), options), (os) => label + os.map(value).join(","))
        }
        case "scan": {
          const { options, label } = at(op.snap)
          return Effect.map(collect(db.scan(scanOptions(op.spec, options?.snapshot))), (es) => label + fmtEntries(es))
        }
        case "scanWhileWriting":
          return Effect.scoped(
            Effect.gen(function* () {
              const pull = yield* Stream.toPull(db.scan(scanOptions(op.spec)))
              const entries: Array<ModelEntry> = []
              const take = Effect.map(pull, (c) => {
                for (const e of c) entries.push(modelEntry(e))
                return true
              }).pipe(Effect.catchAll((e) => (Option.isNone(e) ? Effect.succeed(false) : Effect.fail(e.value))))
              let more = yield* take
              for (const x of op.writes) {
                yield* x.value === undefined ? db.delete(keyBytes(x.key), w) : db.put(keyBytes(x.key), x.value, w)
              }
              if (op.flush) yield* db.flush
              if (op.compact) yield* db.compactRange()
              while (more) more = yield* take
              return fmtEntries(entries)
            })
          )
        case "readsDuringCompaction":
          return Effect.map(
            Effect.all(
              [
                Effect.as(op.compact ? Effect.zipRight(db.flush, db.compactRange()) : db.flush, ""),
                Effect.map(Effect.forEach(op.keys, (k) => db.get(keyBytes(k))), (vs) => vs.map(value).join(",")),
                Effect.map(collect(db.scan(scanOptions(op.spec))), fmtEntries)
              ],
              { concurrency: "unbounded" }
            ),
            ([, gets, scan]) => `${gets} ${scan}`
          )
        case "snapshot":
          return Effect.gen(function* () {
            const s = yield* Scope.make()
            const snapshot = yield* db.snapshot.pipe(Scope.extend(s))
            snaps.push({ id: nextSnap, snapshot, scope: s })
            return `#${nextSnap++}`
          })
        case "release":
          return Effect.suspend(() => {
            if (snaps.length === 0) return Effect.succeed("no snapshot")
            const s = snaps.splice(op.which % snaps.length, 1)[0]!
            return Effect.as(Scope.close(s.scope, Exit.void), `released #${s.id}`)
          })
        case "flush":
          return ok(db.flush)
        case "compactRange":
          return ok(db.compactRange(op.start === undefined ? undefined : keyBytes(op.start), op.end === undefined ? undefined : keyBytes(op.end)))
        case "deleteRange": {
          const { keys: _k, values: _v, ...range } = scanOptions(op.spec)
          return ok(db.deleteRange({ ...range, ...w }))
        }
        case "seekScan": {
          const { options, label } = at(op.snap)
          return Effect.scoped(
            Effect.gen(function* () {
              const c = yield* db.cursor(scanOptions(op.spec, options?.snapshot))
              const parts: Array<string> = []
              for (const t of op.targets) {
                yield* c.seek(keyBytes(t))
                const entries = yield* c.next(op.take)
                parts.push(fmtEntries(entries.map(modelEntry)))
              }
              return label + parts.join(" ")
            })
          )
        }
        case "reopen":
          return Effect.gen(function* () {
            yield* tally
            work.reopens++
            yield* releaseAll
            yield* Scope.close(scope, Exit.void)
            scope = yield* Scope.make()
            db = yield* Db.make(options).pipe(Scope.extend(scope))
            snaps = []
            return "ok"
          })
      }
    }
    /** Runs one step into the history; false when the run cannot go on (a defect or a hang). */
    const record = (label: string, effect: Effect.Effect<string, unknown, FileSystem | Path>) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(realTimeout(effect, OP_TIMEOUT_MS))
        if (Exit.isSuccess(exit)) {
          if (exit.value === "timeout") {
            history.push(`${label}hung for ${OP_TIMEOUT_MS} ms`)
            return false
          }
          history.push(exit.value)
          return true
        }
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) {
          const e = failure.value as { _tag?: string; message?: string }
          history.push(`${label}error ${e._tag ?? "?"}: ${e.message ?? String(e)}`)
          return true
        }
        history.push(`${label}defect: ${Cause.pretty(exit.cause)}`)
        return false
      })

    let alive = true
    for (const op of ops) {
      alive = yield* record("", step(op))
      if (!alive) return done()
    }
    const scanAll = (reverse: boolean) => Effect.map(collect(db.scan(scanOptions(fullScan(reverse)))), fmtEntries)
    alive &&= yield* record("final scan ", Effect.map(scanAll(false), (s) => `final scan ${s}`))
    alive &&= yield* record("final reverse scan ", Effect.map(scanAll(true), (s) => `final reverse scan ${s}`))
    for (const k of finalKeys(ops)) {
      if (!alive) break
      alive = yield* record(`final get ${JSON.stringify(k)} `, Effect.map(db.get(keyBytes(k)), (o) => `final get ${JSON.stringify(k)} ${value(o)}`))
    }
    if (!alive) return done()
    yield* tally
    yield* record(
      "after reopen ",
      Effect.gen(function* () {
        yield* releaseAll
        yield* Scope.close(scope, Exit.void)
        scope = yield* Scope.make()
        db = yield* Db.make(options).pipe(Scope.extend(scope))
        return `after reopen ${yield* scanAll(false)}`
      })
    )
    yield* releaseAll
    yield* Scope.close(scope, Exit.void)
    return done()
  }).pipe(Effect.provide(MemoryFileSystem.layer))

// ---------------------------------------------------------------------------------------------
// Option sets

export interface Config {
  readonly name: string
  readonly options: Omit<DbOptions, "directory">
  /** Every write with `sync: true`. */
  readonly sync: boolean
}

const tiny = { writeBufferSize: 4096, targetFileSize: 1024, maxBytesForLevelBase: 4096 }
export const configs: ReadonlyArray<Config> = [
  { name: "defaults", options: {}, sync: false },
  { name: "tiny-leveled", options: { ...tiny, blockSize: 256, level0CompactionTrigger: 2 }, sync: false },
  { name: "tiered", options: { compaction: "tiered", tieredMinMergeWidth: 2, writeBufferSize: 8192, blockSize: 512 }, sync: false },
  { name: "no-bloom-zlib", options: { bloomBitsPerKey: 0, writeBufferSize: 16384, blockSize: 1024, compression: "zlib" }, sync: false },
  { name: "no-cache-one-table-raw", options: { ...tiny, blockCacheSize: 0, maxOpenTables: 1, blockSize: 256, compression: "none" }, sync: false },
  { name: "sync-1MiB", options: { writeBufferSize: 1024 * 1024, blockSize: 4096 }, sync: true },
  {
    name: "l0-trigger-1",
    options: { writeBufferSize: 4096, blockSize: 512, level0CompactionTrigger: 1, targetFileSize: 1024, maxBytesForLevelBase: 2048 },
    sync: false
  },
  { name: "no-background", options: { writeBufferSize: 4096, blockSize: 256, backgroundCompaction: false }, sync: false },
  {
    name: "restart-1-three-levels",
    options: { ...tiny, blockSize: 2048, blockRestartInterval: 1, maxImmutableMemtables: 1, level0CompactionTrigger: 2, numLevels: 3, compressionPerLevel: ["none", "zlib", "lz4"] },
    sync: false
  },
  {
    name: "tiered-bare",
    options: { compaction: "tiered", tieredMinMergeWidth: 3, tieredSizeRatio: 1, writeBufferSize: 4096, blockSize: 256, bloomBitsPerKey: 0, blockCacheSize: 0 },
    sync: true
  },
  {
    name: "stalls",
    options: {
      ...tiny,
      blockSize: 256,
      maxImmutableMemtables: 1,
      level0CompactionTrigger: 1,
      level0SlowdownTrigger: 1,
      level0StopTrigger: 2
    },
    sync: false
  },
  {
    name: "two-levels-absolute",
    options: { writeBufferSize: 65536, blockSize: 1024, numLevels: 2, walRecoveryMode: "absoluteConsistency", maxBytesForLevelBase: 1024 },
    sync: false
  }
]

// ---------------------------------------------------------------------------------------------
// Comparing, shrinking, reporting

const firstDifference = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): number | undefined => {
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return undefined
}

/** Around the first differing character of two long strings. */
const around = (a: string | undefined, b: string | undefined): string => {
  if (a === undefined || b === undefined) return `${a ?? "(nothing)"}\n      vs ${b ?? "(nothing)"}`
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  const from = Math.max(0, i - 120)
  const cut = (s: string) => (from > 0 ? "..." : "") + s.slice(from, i + 160) + (s.length > i + 160 ? "..." : "")
  return `${cut(a)}\n      vs ${cut(b)}`
}

const describeStep = (ops: ReadonlyArray<Op>, index: number): string =>
  index < ops.length ? `op ${index}: ${showOp(ops[index]!)}` : `final read ${index - ops.length}`

interface Divergence {
  readonly config: string
  readonly index: number
  readonly message: string
}

const divergence = (ops: ReadonlyArray<Op>, config: Config, got: ReadonlyArray<string>, want: ReadonlyArray<string>): Divergence | undefined => {
  const index = firstDifference(got, want)
  if (index === undefined) return undefined
  return {
    config: config.name,
    index,
    message: `${config.name} diverges from the model at ${describeStep(ops, index)}\n      db:    ${around(got[index], want[index]).replace("\n      vs ", "\n      model: ")}`
  }
}

/** Simpler variants of an operation, for shrinking (each is tried in turn, kept if it still fails). */
const simplifications = (op: Op): Array<Op> => {
  const shorter = (v: string) => valueOf(v.slice(0, v.indexOf(":")), 0)
  const writesVariants = (ws: ReadonlyArray<Write>): Array<Array<Write>> => [
    ...ws.map((_, j) => [...ws.slice(0, j), ...ws.slice(j + 1)]),
    ws.map((w) => (w.value === undefined ? w : { key: w.key, value: shorter(w.value) }))
  ]
  const specVariants = (spec: ScanSpec): Array<ScanSpec> =>
    (["gt", "gte", "lt", "lte", "prefix", "limit"] as const)
      .filter((f) => spec[f] !== undefined)
      .map((f) => {
        const { [f]: _, ...rest } = spec
        return rest as ScanSpec
      })
      .concat(spec.keys && spec.values ? [] : [{ ...spec, keys: true, values: true }])
  switch (op.t) {
    case "put":
      return op.value === shorter(op.value) ? [] : [{ ...op, value: shorter(op.value) }]
    case "batch":
    case "concurrent":
      return writesVariants(op.writes).map((writes) => ({ ...op, writes }))
    case "fill":
      return op.count > 1 ? [{ ...op, count: Math.floor(op.count / 2) }, { ...op, count: 1 }] : []
    case "getMany":
      return op.keys.map((_, j) => ({ ...op, keys: [...op.keys.slice(0, j), ...op.keys.slice(j + 1)] }))
    case "readsDuringCompaction":
      return [
        ...(op.compact ? [{ ...op, compact: false }] : []),
        ...op.keys.map((_, j) => ({ ...op, keys: [...op.keys.slice(0, j), ...op.keys.slice(j + 1)] })),
        ...specVariants(op.spec).map((spec) => ({ ...op, spec }))
      ]
    case "scan":
      return specVariants(op.spec).map((spec) => ({ ...op, spec }))
    case "scanWhileWriting":
      return [
        ...(op.flush ? [{ ...op, flush: false }] : []),
        ...(op.compact ? [{ ...op, compact: false }] : []),
        ...writesVariants(op.writes).map((writes) => ({ ...op, writes })),
        ...specVariants(op.spec).map((spec) => ({ ...op, spec }))
      ]
    case "compactRange":
      return [
        ...(op.start === undefined ? [] : [{ t: "compactRange" as const, ...opt("end", op.end) }]),
        ...(op.end === undefined ? [] : [{ t: "compactRange" as const, ...opt("start", op.start) }])
      ]
    default:
      return []
  }
}

/** Removes operations while `config` still diverges from the model; stops after `budgetMs`. */
const shrink = (ops: ReadonlyArray<Op>, config: Config, budgetMs: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + budgetMs
    const check = (candidate: ReadonlyArray<Op>) =>
      Effect.map(dbHistory(candidate, config), (h) => divergence(candidate, config, h.history, modelHistory(candidate)))
    let current = [...ops]
    let found = yield* check(current)
    if (found === undefined) return { ops: current, found, runs: 1 }
    let runs = 1
    const truncate = (d: Divergence) => {
      if (d.index < current.length - 1) current = current.slice(0, d.index + 1)
    }
    truncate(found)
    let chunk = Math.max(1, Math.floor(current.length / 2))
    while (chunk >= 1 && Date.now() < deadline) {
      let removed = false
      for (let start = 0; start < current.length && Date.now() < deadline; ) {
        const candidate = [...current.slice(0, start), ...current.slice(start + chunk)]
        const d = candidate.length === 0 ? undefined : yield* check(candidate)
        runs++
        if (d !== undefined) {
          current = candidate
          found = d
          truncate(d)
          removed = true
        } else start += chunk
      }
      if (!removed) {
        if (chunk === 1) break
        chunk = Math.floor(chunk / 2)
      }
    }
    // Then simpler operations: fewer writes in a batch, shorter values, plainer scans.
    for (let i = 0; i < current.length && Date.now() < deadline; i++) {
      // After a simplification is kept, the operation's own simplifications are tried again.
      let simplified = true
      while (simplified && i < current.length && Date.now() < deadline) {
        simplified = false
        const op = JSON.stringify(current[i])
        for (const simpler of simplifications(current[i]!).filter((x) => JSON.stringify(x) !== op)) {
          if (Date.now() >= deadline) break
          const candidate = [...current.slice(0, i), simpler, ...current.slice(i + 1)]
          const d = yield* check(candidate)
          runs++
          if (d !== undefined) {
            current = candidate
            found = d
            truncate(d)
            simplified = true
            break
          }
        }
      }
    }
    return { ops: current, found, runs }
  })

const seedLine = (seed: number) => `STRATADB_SEED=${seed} STRATADB_OPS=${OPS}`

/** Runs one seed under every option set; the divergences found. */
const runSeed = (seed: number) =>
  Effect.gen(function* () {
    const started = Date.now()
    const ops = generate(seed, OPS)
    const want = modelHistory(ops)
    const chosen = configs.filter((c) => ONLY_CONFIG === undefined || c.name === ONLY_CONFIG)
    assert.isAbove(chosen.length, 0, `no option set named ${ONLY_CONFIG}`)
    const histories: Array<readonly [Config, Array<string>]> = []
    const work: Array<string> = []
    for (const config of chosen) {
      const run = yield* dbHistory(ops, config)
      histories.push([config, run.history])
      work.push(`${config.name}: ${run.work}`)
    }
    const found: Array<Divergence> = []
    for (const [config, got] of histories) {
      const d = divergence(ops, config, got, want)
      if (d !== undefined) found.push(d)
    }
    // Option sets that disagree with each other (also when all disagree with the model).
    const disagreements: Array<string> = []
    for (let i = 1; i < histories.length; i++) {
      const [a, ha] = histories[0]!
      const [b, hb] = histories[i]!
      const index = firstDifference(ha, hb)
      if (index !== undefined) disagreements.push(`${a.name} and ${b.name} first differ at ${describeStep(ops, index)}`)
    }
    const counts = ops.reduce<Record<string, number>>((m, op) => ({ ...m, [op.t]: (m[op.t] ?? 0) + 1 }), {})
    const seconds = (Date.now() - started) / 1000
    console.log(
      `[metamorphic] seed ${seed}: ${ops.length} ops (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")}), ` +
        `${want.length} history entries, ${chosen.length} option sets: ` +
        `${found.length === 0 ? "all agree with the model" : `${found.length} diverge (${found.map((d) => d.config).join(", ")})`} (${seconds.toFixed(1)} s)`
    )
    if (VERBOSE) for (const line of work) console.log(`[metamorphic]   ${line}`)
    return { ops, found, disagreements, seconds }
  })

/** Shrinks the first divergences and builds the failure report. */
const report = (seed: number, ops: ReadonlyArray<Op>, found: ReadonlyArray<Divergence>, disagreements: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const lines = [`seed ${seed} (replay: ${seedLine(seed)} npx vitest run test/sweeps/metamorphic.test.ts):`]
    for (const d of found) lines.push(`  ${d.message}`)
    lines.push(...disagreements.map((d) => `  ${d}`))
    for (const d of found.slice(0, 2)) {
      const config = configs.find((c) => c.name === d.config)!
      const shrunk = yield* shrink(ops, config, SHRINK_BUDGET_MS / Math.min(found.length, 2))
      if (shrunk.found === undefined) {
        lines.push(`  ${d.config}: the divergence did not recur when run alone (not deterministic?)`)
        continue
      }
      lines.push(
        `  shrunk for ${d.config} (${JSON.stringify(config.options)}${config.sync ? ", sync writes" : ""}) ` +
          `to ${shrunk.ops.length} ops in ${shrunk.runs} runs:`,
        ...shrunk.ops.map((op, i) => `    ${i}: ${showOp(op)}`),
        `  ${shrunk.found.message}`,
        `  ops as JSON: ${JSON.stringify(shrunk.ops)}`
      )
    }
    const text = lines.join("\n")
    console.log(text)
    return text
  })

const checkSeed = (seed: number) =>
  Effect.gen(function* () {
    console.log(`[metamorphic] seed ${seed} (${seedLine(seed)})`)
    const { ops, found, disagreements } = yield* runSeed(seed)
    if (found.length > 0 || disagreements.length > 0) {
      const text = yield* report(seed, ops, found, disagreements)
      assert.fail(text)
    }
  })

const randomSeed = () => Math.floor(Math.random() * 2 ** 31)

describe("metamorphic: one operation sequence, many option sets, one history", () => {
  it("the model and the histories are deterministic", () => {
    const ops = generate(12345, 300)
    assert.deepStrictEqual(generate(12345, 300), ops)
    assert.deepStrictEqual(generate(12345, 100), ops.slice(0, 100))
    assert.deepStrictEqual(modelHistory(ops), modelHistory(ops))
    assert.isAtLeast(configs.length, 8)
  })

  if (SOAK) {
    it.effect(
      `soak: seeds of ${OPS} ops for ${SOAK_SECONDS} s`,
      () =>
        Effect.gen(function* () {
          const deadline = Date.now() + SOAK_SECONDS * 1000
          let seeds = 0
          const failed: Array<string> = []
          let seed = SEED ?? randomSeed()
          do {
            const { ops, found, disagreements } = yield* runSeed(seed)
            seeds++
            if (found.length > 0 || disagreements.length > 0) {
              failed.push(`seed ${seed}: ${found.map((d) => d.config).join(", ")}`)
              yield* report(seed, ops, found, disagreements)
            }
            seed = randomSeed()
          } while (SEED === undefined && Date.now() < deadline)
          console.log(
            `[metamorphic] soak summary: ${seeds} seeds x ${OPS} ops x ${configs.length} option sets, ` +
              `${failed.length} seeds diverged${failed.length > 0 ? `: ${failed.join("; ")}` : ""}`
          )
          assert.deepStrictEqual(failed, [])
        }),
      (SOAK_SECONDS + 600) * 1000
    )
  } else {
    const seeds = SEED !== undefined ? [SEED] : Array.from({ length: SHORT_SEEDS }, randomSeed)
    for (const seed of seeds) {
      it.effect(`seed ${seed}: ${OPS} ops agree under every option set`, () => checkSeed(seed))
    }
  }
})
