/**
 * Databases for the tools' tests, built through the Db layer, with the model of what was written:
 * - `buildCompacted`: tables in L0 and in the bottom level (flushes and a range compaction), whose
 *   key and sequence ranges interleave, and a WAL holding the last writes (not flushed at close);
 * - `buildFlushed`: only flushed L0 tables (each newer than the last) and a WAL.
 * Keys are `k0000`..; values name the round that wrote them.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { Chunk, Effect, Option, Stream } from "effect"
import type { DbService } from "../../src/Db.js"
import type { DbOptions } from "../../src/Options.js"
import { dumpLog } from "../../src/internal/tools/logDump.js"
import { manifest } from "../../src/internal/tools/manifestHistory.js"
import { dumpTable } from "../../src/internal/tools/tableDump.js"
import { text, withDb } from "../support.js"

export const key = (i: number) => `k${String(i).padStart(4, "0")}`

export const options = (directory: string): DbOptions => ({
  directory,
  writeBufferSize: 64 * 1024,
  blockSize: 256,
  backgroundCompaction: false,
  flushOnClose: false
})

/** Background compaction into several levels: small level targets and table sizes. */
export const leveledOptions = (directory: string): DbOptions => ({
  ...options(directory),
  backgroundCompaction: true,
  level0CompactionTrigger: 2,
  maxBytesForLevelBase: 2048,
  levelSizeMultiplier: 2,
  targetFileSize: 1024
})

/** What a database holds: key -> value (absent: deleted or never written). */
export type Model = Map<string, string>

const writer = (db: DbService, model: Model) => ({
  put: (k: string, v: string) => Effect.tap(db.put(k, v), () => model.set(k, v)),
  del: (k: string) => Effect.tap(db.delete(k), () => model.delete(k))
})

export const buildCompacted = (directory: string): Effect.Effect<Model, unknown, FileSystem | Path> =>
  Effect.gen(function* () {
    const model: Model = new Map()
    yield* withDb(leveledOptions(directory), (db) =>
      Effect.gen(function* () {
        const w = writer(db, model)
        for (let i = 0; i < 400; i++) yield* w.put(key(i), `a${i}`)
        yield* db.flush
        yield* db.compactRange()
        for (let i = 0; i < 50; i++) yield* w.put(key(i), `b${i}`)
        yield* db.flush
        for (let i = 100; i < 150; i++) yield* w.put(key(i), `c${i}`)
        yield* db.flush
        yield* db.compactRange(key(100), key(149))
        for (let i = 50; i < 60; i++) yield* w.put(key(i), `d${i}`)
        for (let i = 60; i < 65; i++) yield* w.del(key(i))
        yield* db.flush
        // Left in the WAL.
        for (let i = 200; i < 210; i++) yield* w.put(key(i), `e${i}`)
        for (let i = 1000; i < 1010; i++) yield* w.put(key(i), `e${i}`)
        yield* w.del(key(5))
      })
    )
    return model
  })

export const buildFlushed = (directory: string): Effect.Effect<Model, unknown, FileSystem | Path> =>
  Effect.gen(function* () {
    const model: Model = new Map()
    yield* withDb(options(directory), (db) =>
      Effect.gen(function* () {
        const w = writer(db, model)
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 150; i++) yield* w.put(key(round * 100 + i), `r${round}-${i}`)
          yield* w.del(key(round * 100 + 7))
          yield* db.flush
        }
        for (let i = 0; i < 20; i++) yield* w.put(key(i * 3), `wal${i}`)
      })
    )
    return model
  })

/**
 * L0 and L1 only, with no background work, so the shape is always the same: an L0 table too large
 * to be pulled into a compaction it does not overlap, and an L1 table that such a compaction made,
 * overlapping it, holding older versions of its keys but a newer largest sequence. Read newest
 * first by largest sequence (L0's order), the L1 table would hide the L0 table's newer versions.
 */
export const buildInterleaved = (directory: string): Effect.Effect<Model, unknown, FileSystem | Path> =>
  Effect.gen(function* () {
    const model: Model = new Map()
    yield* withDb({ ...options(directory), targetFileSize: 1024 }, (db) =>
      Effect.gen(function* () {
        const w = writer(db, model)
        for (let i = 0; i < 400; i++) yield* w.put(key(i), `a${i}`.padEnd(100, "."))
        yield* db.flush
        yield* db.compactRange()
        for (let i = 0; i < 50; i++) yield* w.put(key(i), `b${i}`.padEnd(1000, "."))
        yield* db.flush
        for (let i = 50; i < 60; i++) yield* w.put(key(i), `d${i}`)
        yield* db.flush
        yield* db.compactRange(key(55), key(55))
        for (let i = 40; i < 45; i++) yield* w.put(key(i), `e${i}`)
      })
    )
    return model
  })

/** Every live entry of the database, in key order, through a scan. */
export const scanAll = (db: DbService) =>
  db.scan().pipe(
    Stream.map((e) => [text(e.key), text(e.value)] as const),
    Stream.runCollect,
    Effect.map(Chunk.toArray)
  )

/** Asserts the database holds exactly `model`, through a scan and a point read of every key. */
export const assertHolds = (db: DbService, model: Model, probes: Iterable<string> = []) =>
  Effect.gen(function* () {
    const expected = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    assert.deepStrictEqual(yield* scanAll(db), expected)
    for (const [k, v] of model) assert.strictEqual(Option.getOrUndefined(Option.map(yield* db.get(k), text)), v, `get ${k}`)
    for (const k of probes) {
      if (!model.has(k)) assert.isTrue(Option.isNone(yield* db.get(k)), `get ${k} should find nothing`)
    }
  })

/** An internal entry as the tools report it. */
export interface Internal {
  readonly key: string
  readonly seq: number
  readonly kind: "put" | "delete"
  readonly value: string
}

const str = (b: Uint8Array) => Buffer.from(b).toString("latin1")

/**
 * Every internal entry of the database's files (the tables the manifest names, and the WALs),
 * read with the tools.
 */
export const allEntries = (directory: string) =>
  Effect.gen(function* () {
    const history = yield* manifest(directory)
    const entries: Array<Internal & { readonly file: string; readonly block: number }> = []
    for (const files of history.state.levels) {
      for (const f of files) {
        const file = `${directory}/${String(f.number).padStart(6, "0")}.sst`
        const dump = yield* dumpTable(file)
        // Which block each entry is in: the first whose separator is at or above it.
        let block = 0
        for (const e of dump.entries) {
          const k = str(e.key)
          while (block < dump.index.length) {
            const sep = str(dump.index[block]!.key)
            if (k < sep || (k === sep && e.seq >= dump.index[block]!.seq)) break
            block++
          }
          entries.push({ file, block, key: k, seq: e.seq, kind: e.kind, value: str(e.value) })
        }
      }
    }
    return { history, entries }
  })

/** The model the newest version of each key among `entries` gives. */
export const modelOf = (entries: ReadonlyArray<Internal>): Model => {
  const newest = new Map<string, Internal>()
  for (const e of entries) {
    const seen = newest.get(e.key)
    if (seen === undefined || e.seq > seen.seq) newest.set(e.key, e)
  }
  const model: Model = new Map()
  for (const [k, e] of newest) if (e.kind === "put") model.set(k, Buffer.from(e.value, "latin1").toString("utf8"))
  return model
}

/** The WAL entries of the directory's logs. */
export const walEntries = (directory: string, logs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const out: Array<Internal> = []
    for (const name of logs) {
      const dump = yield* dumpLog(`${directory}/${name}`)
      for (const r of dump.records) {
        if (r._tag !== "batch") continue
        for (const op of r.ops) out.push({ key: str(op.key), seq: op.seq, kind: op.kind, value: str(op.value) })
      }
    }
    return out
  })
