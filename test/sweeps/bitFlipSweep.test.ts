/**
 * Bit-flip sweep (issue 10): a small database is built through the public API on a
 * MemoryFileSystem (keys in a flushed table of several blocks, an overwrite and a synced delete of
 * table keys, synced puts left in the WAL), closed, and then every file is damaged one bit at a
 * time: flip, open, read every key (get, and full scans forward and reverse), close, restore.
 * A second database holds only a WAL whose 98 KB record is cut into FIRST, MIDDLE and LAST
 * fragments across blocks and followed by a block trailer: the framing the small WAL never uses.
 *
 * The rule: no silent wrong result. A value never written, a deleted key back, a key missing
 * without an error, or a wrong order in a scan fails the test. Allowed: the open or a read fails
 * with `Corruption`, or every read is right. With `walRecoveryMode: "pointInTime"` a WAL flip may
 * also open with the writes from the damaged record on missing, but only when
 * `stats.recovery.damage` reports it, every record before the damage is there, and the damaged
 * log is kept whole in lost/. An open that fails must leave the directory exactly as it found it
 * (nothing deleted, created or changed).
 *
 * Short form: every bit of the small WAL (tolerateTornTail and pointInTime), MANIFEST, CURRENT
 * (and LOCK, if one is left after close); of the table every bit of its filter block, index block
 * and footer and every 7th bit of its data blocks and properties block; of the fragmented WAL
 * every bit of its fragment headers, trailer and small records and every 4001st bit of the big
 * payload (pointInTime: headers and trailer). `STRATADB_SOAK=1`: every bit of every file of the
 * small database, in every WAL recovery mode (the WAL) and in tolerateTornTail and pointInTime
 * (the others), and every 97th bit of the big payload. Each case prints a summary line: the
 * files, flips tried, outcomes counted (Corruption / correct / reported / failed).
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Option, Stream } from "effect"
import { Db, type DbService } from "../../src/Db.js"
import { Corruption, type DbError } from "../../src/errors.js"
import { decodeProperties } from "../../src/internal/table/properties.js"
import { BLOCK_TYPE_LZ4 } from "../../src/internal/table/tableFormat.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions, WalRecoveryMode } from "../../src/Options.js"
import { withDb } from "../support.js"
import { fullScan, keyBytes, latin1, Model, showKey, showValue, utf8 } from "./model.js"

const SOAK = process.env.STRATADB_SOAK === "1"
const DIR = "/flip"

/** A database to damage: how to build it, and what it holds after the table and each WAL record. */
interface Fixture {
  readonly name: string
  readonly options: DbOptions
  readonly build: Effect.Effect<void, DbError, FileSystem | Path>
  /** states[j]: the database after its tables and the first j records of its WAL. */
  readonly states: ReadonlyArray<Model>
  /** Every key read: all written ones and a few never written, between and around them. */
  readonly universe: ReadonlyArray<string>
}

type Write = { readonly key: string; readonly value: string | undefined }

const statesOf = (table: Model, walOps: ReadonlyArray<Write>): Array<Model> => {
  const m = table.clone()
  const out = [m.clone()]
  for (const op of walOps) {
    if (op.value === undefined) m.delete(op.key)
    else m.put(op.key, op.value)
    out.push(m.clone())
  }
  return out
}

const writeAll = (db: DbService, walOps: ReadonlyArray<Write>) =>
  Effect.forEach(walOps, (op) => (op.value === undefined ? db.delete(op.key, { sync: true }) : db.put(op.key, op.value, { sync: true })), {
    discard: true
  })

/**
 * The sweep's database: a flushed table of several blocks (few keys with longer values, so the
 * filter and index the short form flips whole stay small), then in the WAL an overwrite and a
 * synced delete of table keys and a few synced puts.
 */
const small: Fixture = (() => {
  const tableKey = (i: number) => `t${String(i).padStart(3, "0")}`
  const tableValue = (i: number) => `v${i}-${"abcdefghijklmnopqrstuvwxyz0123456789".repeat(2).slice(0, 48 + ((i * 7) % 20))}`
  const walKey = (j: number) => `w${String(j).padStart(3, "0")}`
  const TABLE_KEYS = 12
  const WAL_PUTS = 3
  const table = new Model()
  for (let i = 0; i < TABLE_KEYS; i++) table.put(tableKey(i), tableValue(i))
  const walOps: ReadonlyArray<Write> = [
    { key: tableKey(3), value: "o3" },
    { key: tableKey(8), value: undefined },
    ...Array.from({ length: WAL_PUTS }, (_, j) => ({ key: walKey(j), value: `w${j}${"x".repeat(j)}` }))
  ]
  // The overwrite and the delete hit keys of the table.
  assert.isDefined(table.get(walOps[0]!.key))
  assert.isDefined(table.get(walOps[1]!.key))
  const options: DbOptions = { directory: DIR, blockSize: 256 }
  return {
    name: "small",
    options,
    build: withDb(options, (db) =>
      Effect.gen(function* () {
        for (const k of table.keys()) yield* db.put(k, table.get(k)!)
        yield* db.flush
        yield* writeAll(db, walOps)
      })
    ),
    states: statesOf(table, walOps),
    universe: [...table.keys(), ...walOps.map((w) => w.key).filter((k) => !table.get(k)), "a", "t", "t0105", tableKey(TABLE_KEYS), "u", walKey(WAL_PUTS), "zzz"]
  }
})()

/**
 * A WAL whose framing the small one never reaches: a 98 KB record cut into FIRST, MIDDLE and LAST
 * fragments across three 32 KiB blocks, ending 3 bytes before the end of its block, so that the
 * next record starts after a 3-byte trailer (doc/log_format.md). No table.
 */
const BLOCK = 32768
const fragments: Fixture = (() => {
  // Record sizes (log_format.md): 7-byte header; batch 12 bytes + entries (kind, key length,
  // key, value length, value). "a"="1" is a 24-byte record; "big" with a value of V bytes
  // (a 3-byte length) has a payload of V + 20: FIRST takes 32768 - 24 - 7, MIDDLE 32761, and
  // the LAST fragment in block 2 ends at payload + 45. End it 3 bytes before block 3.
  const big = 3 * BLOCK - 3 - 45 - 20
  const walOps: ReadonlyArray<Write> = [
    { key: "a", value: "1" },
    { key: "big", value: "0123456789abcdef".repeat(Math.ceil(big / 16)).slice(0, big) },
    { key: "c", value: "3" }
  ]
  // The close leaves the big record in its log (by default it would flush it).
  const options: DbOptions = { directory: DIR, flushOnClose: false }
  return {
    name: "fragments",
    options,
    build: withDb(options, (db) => writeAll(db, walOps)),
    states: statesOf(new Model(), walOps),
    universe: ["a", "big", "c", "b", "bi", "bigg", "d"]
  }
})()

type Files = ReadonlyMap<string, Uint8Array>

const filesOf = Effect.gen(function* () {
  const control = yield* MemoryFileSystem.MemoryFileSystem
  const out = new Map<string, Uint8Array>()
  for (const f of yield* control.listFiles) {
    if (f.path.startsWith(`${DIR}/`)) out.set(f.path, yield* control.fileBytes(f.path))
  }
  return out as Files
})

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/** How `after` differs from `before`: files deleted, created, changed. */
const differences = (before: Files, after: Files): Array<string> => {
  const out: Array<string> = []
  for (const [path, bytes] of before) {
    const now = after.get(path)
    if (now === undefined) out.push(`deleted ${path}`)
    else if (!sameBytes(bytes, now)) out.push(`changed ${path}`)
  }
  for (const path of after.keys()) if (!before.has(path)) out.push(`created ${path}`)
  return out
}

/** Puts the directory back to `pristine`: extra files (and lost/) removed, changed files rewritten. */
const restore = (pristine: Files) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const now = yield* filesOf
    for (const path of now.keys()) if (!pristine.has(path)) yield* fs.remove(path)
    if (yield* fs.exists(`${DIR}/lost`)) yield* fs.remove(`${DIR}/lost`, { recursive: true })
    for (const [path, bytes] of pristine) {
      const current = now.get(path)
      if (current === undefined || !sameBytes(current, bytes)) yield* fs.writeFile(path, bytes)
    }
  })

interface LogLayout {
  /** [start, end) of each record, from its first fragment's header to its last fragment's end. */
  readonly records: ReadonlyArray<readonly [number, number]>
  /** [start, end) of each fragment header. */
  readonly headers: ReadonlyArray<readonly [number, number]>
  /** [start, end) of each block trailer (zero padding). */
  readonly trailers: ReadonlyArray<readonly [number, number]>
  readonly types: ReadonlyArray<number>
}

/** The framing of a well-formed log (doc/log_format.md). */
const logLayout = (bytes: Uint8Array): LogLayout => {
  const records: Array<readonly [number, number]> = []
  const headers: Array<readonly [number, number]> = []
  const trailers: Array<readonly [number, number]> = []
  const types: Array<number> = []
  let off = 0
  let recordStart = -1
  while (off < bytes.length) {
    const left = BLOCK - (off % BLOCK)
    if (left < 7) {
      trailers.push([off, off + left])
      off += left
      continue
    }
    const length = bytes[off + 4]! | (bytes[off + 5]! << 8)
    const type = bytes[off + 6]!
    headers.push([off, off + 7])
    types.push(type)
    if (type === 1 || type === 2) recordStart = off
    if (type === 1 || type === 4) records.push([recordStart, off + 7 + length])
    off += 7 + length
  }
  assert.strictEqual(off, bytes.length, "the log ends after its last record")
  return { records, headers, trailers, types }
}

const within = (ranges: ReadonlyArray<readonly [number, number]>, off: number) => ranges.some(([s, e]) => off >= s && off < e)

const varint = (bytes: Uint8Array, at: { off: number }): number => {
  let value = 0
  let scale = 1
  for (;;) {
    const b = bytes[at.off++]!
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return value
    scale *= 128
  }
}

/** A table's layout from its footer: the filter, properties and index blocks' [offset, size]. */
const tableLayout = (table: Uint8Array) => {
  const at = { off: table.length - 64 }
  const [filter, properties, index] = [0, 1, 2].map(() => [varint(table, at), varint(table, at)] as const)
  // properties: entries, tombstones, dataBlocks, ...
  const p = { off: properties![0] }
  varint(table, p)
  varint(table, p)
  return { filter: filter!, properties: properties!, index: index!, dataBlocks: varint(table, p) }
}

/** The bits to flip: [offset, bit] pairs. */
const allBits = (size: number): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  for (let off = 0; off < size; off++) for (let bit = 0; bit < 8; bit++) out.push([off, bit])
  return out
}
/**
 * The short form's table bits: every bit of the filter block, the index block and the footer
 * (trailers included), every 7th bit (by global bit index) of the data blocks and the properties
 * block.
 */
const tableBits = (table: Uint8Array): Array<readonly [number, number]> => {
  const { filter, properties } = tableLayout(table)
  const strided = (off: number) => off < filter[0] || (off >= properties[0] && off < properties[0] + properties[1] + 5)
  return allBits(table.length).filter(([off, bit]) => !strided(off) || (off * 8 + bit) % 7 === 0)
}

type Outcome = "corruption" | "correct" | "reported"

interface Summary {
  tried: number
  corruption: number
  correct: number
  reported: number
  failed: number
  failures: Array<string>
}

const describeWrong = (got: string | undefined, expected: string | undefined): string =>
  expected === undefined
    ? `${showValue(got)} for a key that is deleted or was never written`
    : got === undefined
      ? `none (the key is missing without an error; expected ${showValue(expected)})`
      : `${showValue(got)}, a value never written there (expected ${showValue(expected)})`

/**
 * One flip: open, read everything, close. `walRecords` (the WAL's record ranges) when the flip is
 * in the WAL, so that a pointInTime recovery can be checked against the record the flip hit.
 */
const trial = (
  fixture: Fixture,
  where: string,
  mode: WalRecoveryMode,
  wal: { readonly name: string; readonly records: ReadonlyArray<readonly [number, number]>; readonly offset: number } | undefined
) =>
  Effect.gen(function* () {
    const before = yield* filesOf
    const failures: Array<string> = []
    const fail = (what: string) => failures.push(`${where}: ${what}`)
    let corruption = false
    let reported = false
    let openFailed = false
    /** A read's typed error: Corruption is allowed, anything else is a failure. */
    const readError = (what: string, e: { readonly _tag: string; readonly message?: string }) => {
      if (e._tag === "stratadb/Corruption") corruption = true
      else fail(`${what} failed with ${e._tag}, not Corruption: ${e.message ?? ""}`)
    }
    const checkScan = (db: DbService, reverse: boolean, expected: Model) =>
      Effect.gen(function* () {
        const got: Array<readonly [string, string]> = []
        const result = yield* Effect.either(
          Stream.runForEach(db.scan({ reverse }), (e) => Effect.sync(() => got.push([latin1(e.key), utf8(e.value)])))
        )
        // A full scan: every entry has its key and its value.
        const want = expected.scan(fullScan(reverse)).map(([k, v]) => [k!, v!] as const)
        const what = reverse ? "reverse scan" : "scan"
        for (let i = 0; i < got.length; i++) {
          const [k, v] = got[i]!
          const w = want[i]
          if (w === undefined) {
            fail(`${what} entry ${i} is ${showKey(k)} = ${showValue(v)} past the end (expected ${want.length} entries)`)
            return
          }
          if (w[0] !== k || w[1] !== v) {
            fail(
              `${what} entry ${i} is ${showKey(k)} = ${showValue(v)}, expected ${showKey(w[0])} = ${showValue(w[1])}` +
                (expected.get(k) === undefined ? " (a deleted or never-written key)" : expected.get(k) === v ? " (wrong order or a key skipped)" : "")
            )
            return
          }
        }
        if (Either.isLeft(result)) readError(what, result.left)
        else if (got.length !== want.length) {
          fail(`${what} ended after ${got.length} entries without an error, expected ${want.length} (next: ${showKey(want[got.length]![0])})`)
        }
      })

    const exit = yield* Effect.exit(
      Effect.scoped(
        Effect.gen(function* () {
          const opened = yield* Effect.either(Db.make({ ...fixture.options, walRecoveryMode: mode }))
          if (Either.isLeft(opened)) {
            openFailed = true
            const e = opened.left
            if (e._tag === "stratadb/Corruption") corruption = true
            else fail(`open failed with ${e._tag}, not Corruption: ${e.message}`)
            return
          }
          const db = opened.right
          const stats = yield* db.stats
          const states = fixture.states
          let expected = states[states.length - 1]!
          const damage = stats.recovery.damage
          if (damage.length > 0) {
            reported = true
            if (mode !== "pointInTime") fail(`stats.recovery.damage is reported in mode ${mode}`)
            const j = stats.recovery.recordsReplayed
            expected = states[j] ?? expected
            if (wal === undefined) fail(`a flip outside the WAL reported WAL damage: ${JSON.stringify(damage)}`)
            else {
              // Every record that ends before the flipped byte is whole: pointInTime replays exactly
              // those, and reports damage between the end of the last of them and the flipped byte.
              const whole = wal.records.filter(([, e]) => e <= wal.offset)
              const from = whole.length === 0 ? 0 : whole[whole.length - 1]![1]
              if (j !== whole.length) fail(`pointInTime replayed ${j} records, but the ${whole.length} before the flipped byte are whole`)
              const d = damage[0]!
              if (damage.length !== 1 || d.file !== wal.name || d.offset < from || d.offset > wal.offset) {
                fail(`damage reported as ${JSON.stringify(damage)}, expected one in ${wal.name} in [${from}, ${wal.offset}]`)
              }
              // The damaged log is kept aside whole (moved into lost/, not deleted).
              const kept = yield* Effect.either((yield* FileSystem).readFile(`${DIR}/lost/${wal.name}`))
              const flipped = before.get(`${DIR}/${wal.name}`)!
              if (Either.isLeft(kept) || !sameBytes(kept.right, flipped)) fail(`the damaged ${wal.name} is not kept whole in lost/`)
            }
          }
          for (const k of fixture.universe) {
            const r = yield* Effect.either(db.get(keyBytes(k)))
            if (Either.isLeft(r)) readError(`get ${showKey(k)}`, r.left)
            else {
              const got = Option.getOrUndefined(Option.map(r.right, utf8))
              if (got !== expected.get(k)) fail(`get ${showKey(k)} returned ${describeWrong(got, expected.get(k))}`)
            }
          }
          yield* checkScan(db, false, expected)
          yield* checkScan(db, true, expected)
        })
      )
    )
    if (Exit.isFailure(exit)) fail(`unexpected failure: ${Cause.pretty(exit.cause)}`)
    if (openFailed) {
      const changes = differences(before, yield* filesOf)
      if (changes.length > 0) fail(`the failed open changed the directory: ${changes.join(", ")}`)
    }
    const outcome: Outcome = corruption ? "corruption" : reported ? "reported" : "correct"
    return { outcome, failures }
  })

/** Flips each of `bits` of the file matching `pattern` in turn, checking each open. */
const sweep = (
  fixture: Fixture,
  label: string,
  pattern: RegExp,
  mode: WalRecoveryMode,
  bitsOf: (bytes: Uint8Array) => Array<readonly [number, number]>
) =>
  Effect.gen(function* () {
    const started = Date.now()
    const control = yield* MemoryFileSystem.MemoryFileSystem
    yield* fixture.build
    const pristine = yield* filesOf
    const matches = [...pristine.keys()].filter((p) => pattern.test(p.slice(DIR.length + 1)))
    const summary: Summary = { tried: 0, corruption: 0, correct: 0, reported: 0, failed: 0, failures: [] }
    for (const path of matches) {
      const name = path.slice(DIR.length + 1)
      const bytes = pristine.get(path)!
      const wal = name.endsWith(".log") ? { name, records: logLayout(bytes).records } : undefined
      for (const [offset, bit] of bitsOf(bytes)) {
        const where = `${name} offset ${offset} bit ${bit} (${mode})`
        yield* control.flipByte(path, offset, 1 << bit)
        const result = yield* trial(fixture, where, mode, wal === undefined ? undefined : { ...wal, offset })
        summary.tried++
        if (result.failures.length > 0) {
          summary.failed++
          summary.failures.push(...result.failures)
        } else summary[result.outcome]++
        yield* restore(pristine)
        // A sweep is one long synchronous stretch: let the event loop (vitest's RPC) run now and then.
        if (summary.tried % 32 === 0) yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    console.log(
      `[bitflip] ${fixture.name} ${label} (${mode}${SOAK ? ", soak" : ""}): ${matches.map((p) => p.slice(DIR.length + 1)).join(" ") || "no file"}: ` +
        `${summary.tried} flips: Corruption ${summary.corruption}, correct ${summary.correct}, reported ${summary.reported}, ` +
        `failed ${summary.failed} (${seconds} s)`
    )
    assert.strictEqual(
      summary.failed,
      0,
      `${summary.failed} of ${summary.tried} flips gave a silent wrong result or a wrong error:\n${summary.failures.slice(0, 40).join("\n")}`
    )
    // The undamaged directory reads back whole.
    const final = fixture.states[fixture.states.length - 1]!
    yield* withDb(fixture.options, (db) =>
      Effect.gen(function* () {
        for (const k of fixture.universe) assert.strictEqual(Option.getOrUndefined(Option.map(yield* db.get(k), utf8)), final.get(k), `restored: ${k}`)
      })
    )
    return summary
  }).pipe(Effect.provide(MemoryFileSystem.layer))

const everyBit = (bytes: Uint8Array) => allBits(bytes.length)
/** Per case: the short form takes seconds (more on a loaded machine); the soak, minutes. */
const TIMEOUT = SOAK ? 3 * 3600_000 : 600_000
const tableStride = (bytes: Uint8Array) => (SOAK ? allBits(bytes.length) : tableBits(bytes))
/**
 * The fragmented WAL's bits: every bit of its fragment headers and trailers, and of its small
 * records' payloads; of the big payload every 4001st bit (every 97th in the soak). `headersOnly`:
 * headers and trailers alone.
 */
const fragmentBits = (headersOnly: boolean) => (bytes: Uint8Array) => {
  const layout = logLayout(bytes)
  const bigRecord = layout.records[1]!
  const stride = SOAK ? 97 : 4001
  return allBits(bytes.length).filter(([off, bit]) => {
    if (within(layout.headers, off) || within(layout.trailers, off)) return true
    if (headersOnly) return false
    return !within([bigRecord], off) || (off * 8 + bit) % stride === 0
  })
}

const files = (fixture: Fixture) =>
  Effect.gen(function* () {
    yield* fixture.build
    return [...(yield* filesOf).keys()].map((p) => p.slice(DIR.length + 1)).sort()
  })

/** Undamaged, a trial reads everything right, in every mode. */
const undamaged = (fixture: Fixture) =>
  Effect.gen(function* () {
    const pristine = yield* filesOf
    for (const mode of ["tolerateTornTail", "pointInTime", "absoluteConsistency"] as const) {
      const result = yield* trial(fixture, `no flip (${mode})`, mode, undefined)
      assert.deepStrictEqual(result, { outcome: "correct", failures: [] })
      yield* restore(pristine)
    }
  })

describe("bit flips: one flipped bit is Corruption or no change, never a silent wrong read", () => {
  it.effect("the small database has a WAL, a table of several blocks, a MANIFEST and CURRENT", () =>
    Effect.gen(function* () {
      const names = yield* files(small)
      console.log(`[bitflip] small: files ${names.join(" ")}`)
      assert.strictEqual(names.filter((f) => f.endsWith(".log")).length, 1, names.join(" "))
      assert.strictEqual(names.filter((f) => f.endsWith(".sst")).length, 1, names.join(" "))
      assert.strictEqual(names.filter((f) => f.startsWith("MANIFEST-")).length, 1, names.join(" "))
      assert.include(names, "CURRENT")
      const fs = yield* FileSystem
      const table = yield* fs.readFile(`${DIR}/${names.find((f) => f.endsWith(".sst"))!}`)
      const layout = tableLayout(table)
      console.log(`[bitflip] small: table of ${table.length} bytes, ${layout.dataBlocks} data blocks, ${JSON.stringify(layout)}`)
      assert.isAtLeast(layout.dataBlocks, 3, "the table has several data blocks")
      // Its data blocks are compressed (the default, lz4): the flips hit compressed blocks.
      const [propertiesAt, propertiesSize] = layout.properties
      const properties = decodeProperties(table.subarray(propertiesAt, propertiesAt + propertiesSize), "table", propertiesAt)
      assert(!(properties instanceof Corruption), String(properties))
      assert.strictEqual(properties.compressionType, BLOCK_TYPE_LZ4)
      assert.isBelow(properties.dataSize, properties.rawDataSize, "some data blocks are stored compressed")
      const wal = logLayout(yield* fs.readFile(`${DIR}/${names.find((f) => f.endsWith(".log"))!}`))
      assert.strictEqual(wal.records.length, small.states.length - 1)
      assert.deepStrictEqual(wal.types, wal.records.map(() => 1), "one FULL fragment per record")
      yield* undamaged(small)
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("WAL (tolerateTornTail)", () => sweep(small, "WAL", /\.log$/, "tolerateTornTail", everyBit), TIMEOUT)
  it.effect("WAL (pointInTime: damage may cut the replay, reported)", () => sweep(small, "WAL", /\.log$/, "pointInTime", everyBit), TIMEOUT)
  it.effect("WAL (absoluteConsistency, soak only)", () =>
    SOAK ? sweep(small, "WAL", /\.log$/, "absoluteConsistency", everyBit) : Effect.void, TIMEOUT)
  it.effect("MANIFEST", () => sweep(small, "MANIFEST", /^MANIFEST-/, "tolerateTornTail", everyBit), TIMEOUT)
  it.effect("CURRENT", () => sweep(small, "CURRENT", /^CURRENT$/, "tolerateTornTail", everyBit), TIMEOUT)
  it.effect("LOCK (if one is left after close)", () => sweep(small, "LOCK", /^LOCK$/, "tolerateTornTail", everyBit), TIMEOUT)
  it.effect("table (short form: every bit of filter, index, footer; every 7th bit of data blocks and properties)", () =>
    sweep(small, "table", /\.sst$/, "tolerateTornTail", tableStride), TIMEOUT)
  it.effect("MANIFEST, CURRENT, table (pointInTime, soak only)", () =>
    SOAK ? sweep(small, "MANIFEST CURRENT table", /^(MANIFEST-|CURRENT$)|\.sst$/, "pointInTime", everyBit) : Effect.void, TIMEOUT)

  it.effect("the fragmented WAL: FIRST, MIDDLE, LAST across blocks, then a trailer", () =>
    Effect.gen(function* () {
      const names = yield* files(fragments)
      const log = names.find((f) => f.endsWith(".log"))!
      const wal = logLayout(yield* (yield* FileSystem).readFile(`${DIR}/${log}`))
      console.log(`[bitflip] fragments: files ${names.join(" ")}; ${log}: ${JSON.stringify(wal)}`)
      assert.deepStrictEqual(wal.types, [1, 2, 3, 4, 1])
      assert.deepStrictEqual(wal.trailers, [[3 * BLOCK - 3, 3 * BLOCK]])
      assert.strictEqual(wal.records.length, fragments.states.length - 1)
      yield* undamaged(fragments)
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
  it.effect("fragmented WAL (tolerateTornTail)", () => sweep(fragments, "WAL", /\.log$/, "tolerateTornTail", fragmentBits(false)), TIMEOUT)
  it.effect("fragmented WAL (pointInTime)", () => sweep(fragments, "WAL", /\.log$/, "pointInTime", fragmentBits(!SOAK)), TIMEOUT)
})
