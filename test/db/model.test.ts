/**
 * The model test: random sequences of puts, deletes, batches, gets, scans, snapshots, flushes,
 * compactions and reopens against an in-memory model. Every read equals the model's, under each
 * compaction strategy.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, FastCheck as fc, Scope, Stream } from "effect"
import { Db, type DbService, type ScanOptions, type Snapshot } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { FileSystem } from "@effect/platform/FileSystem"
import type { DbOptions } from "../../src/Options.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { text, textOf } from "../support.js"

type ScanSpec = {
  readonly lower: string | null
  readonly lowerExclusive: boolean
  readonly upper: string | null
  readonly upperExclusive: boolean
  readonly prefix: string | null
  readonly reverse: boolean
  readonly limit: number | null
}

type Op =
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "batch"; readonly entries: ReadonlyArray<{ readonly key: string; readonly value: string | null }> }
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "getMany"; readonly keys: ReadonlyArray<string> }
  | { readonly op: "scan"; readonly spec: ScanSpec; readonly snapshot: number | null }
  | { readonly op: "snapshot" }
  | { readonly op: "readSnapshot"; readonly which: number; readonly key: string }
  | { readonly op: "release"; readonly which: number }
  | { readonly op: "flush" }
  | { readonly op: "compact"; readonly lower: string | null; readonly upper: string | null }
  | { readonly op: "reopen" }

const KEYS = 40
const keyName = (i: number) => `key-${String(i).padStart(3, "0")}`
const keyArb = fc.integer({ min: 0, max: KEYS }).map(keyName)
const boundArb = fc.option(fc.oneof(keyArb, fc.constantFrom("", "key-", "key-01", "key-1", "key-02x", "l")), { nil: null })
const valueArb = fc.string({ maxLength: 300 })
const scanArb: fc.Arbitrary<ScanSpec> = fc.record({
  lower: boundArb,
  lowerExclusive: fc.boolean(),
  upper: boundArb,
  upperExclusive: fc.boolean(),
  prefix: fc.option(fc.constantFrom("key-0", "key-01", "key-1", "key-", "k", "x", "key-03"), { nil: null }),
  reverse: fc.boolean(),
  limit: fc.option(fc.integer({ min: 0, max: 15 }), { nil: null })
})

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant("put" as const), key: keyArb, value: valueArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), key: keyArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("batch" as const),
      entries: fc.array(fc.record({ key: keyArb, value: fc.option(valueArb, { nil: null }) }), { maxLength: 8 })
    })
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("get" as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("getMany" as const), keys: fc.array(keyArb, { maxLength: 6 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("scan" as const),
      spec: scanArb,
      snapshot: fc.option(fc.nat(), { nil: null })
    })
  },
  { weight: 1, arbitrary: fc.constant({ op: "snapshot" as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("readSnapshot" as const), which: fc.nat(), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("release" as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: "flush" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("compact" as const), lower: boundArb, upper: boundArb }) },
  { weight: 1, arbitrary: fc.constant({ op: "reopen" as const }) }
)

/** What the model says a scan returns. */
const modelScan = (model: ReadonlyMap<string, string>, s: ScanSpec): Array<[string, string]> => {
  let entries = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  entries = entries.filter(([k]) => {
    if (s.lower !== null && (s.lowerExclusive ? k <= s.lower : k < s.lower)) return false
    if (s.upper !== null && (s.upperExclusive ? k >= s.upper : k > s.upper)) return false
    if (s.prefix !== null && !k.startsWith(s.prefix)) return false
    return true
  })
  if (s.reverse) entries.reverse()
  if (s.limit !== null) entries = entries.slice(0, s.limit)
  return entries
}

/** Scans with keys and values: the options have no `keys`/`values` flag, so entries have both. */
const scanOptions = (s: ScanSpec, snapshot: Snapshot | undefined): Omit<ScanOptions, "keys" | "values"> => ({
  ...(s.lower === null ? {} : s.lowerExclusive ? { gt: s.lower } : { gte: s.lower }),
  ...(s.upper === null ? {} : s.upperExclusive ? { lt: s.upper } : { lte: s.upper }),
  ...(s.prefix === null ? {} : { prefix: s.prefix }),
  reverse: s.reverse,
  ...(s.limit === null ? {} : { limit: s.limit }),
  ...(snapshot === undefined ? {} : { snapshot })
})

/** Runs `ops` against a database on `options` and a Map, checking every read and the end state. */
export const runModel = (ops: ReadonlyArray<Op>, options: DbOptions) =>
  Effect.gen(function* () {
    const model = new Map<string, string>()
    const snapshots: Array<{ snapshot: Snapshot; model: Map<string, string>; scope: Scope.CloseableScope }> = []
    let scope = yield* Scope.make()
    let db: DbService = yield* Db.make(options).pipe(Scope.extend(scope))
    const releaseAll = Effect.suspend(() =>
      Effect.forEach(snapshots.splice(0), (s) => Scope.close(s.scope, Exit.void), { discard: true })
    )
    const scanDb = (spec: ScanSpec, snap: Snapshot | undefined) =>
      Effect.map(Stream.runCollect(db.scan(scanOptions(spec, snap))), (c) =>
        Chunk.toReadonlyArray(c).map((e): [string, string] => [text(e.key), text(e.value)])
      )
    for (const op of ops) {
      switch (op.op) {
        case "put":
          yield* db.put(op.key, op.value)
          model.set(op.key, op.value)
          break
        case "delete":
          yield* db.delete(op.key)
          model.delete(op.key)
          break
        case "batch": {
          const batch = WriteBatch.make()
          for (const e of op.entries) {
            if (e.value === null) batch.delete(e.key)
            else batch.put(e.key, e.value)
          }
          yield* db.write(batch)
          for (const e of op.entries) {
            if (e.value === null) model.delete(e.key)
            else model.set(e.key, e.value)
          }
          break
        }
        case "get":
          assert.strictEqual(textOf(yield* db.get(op.key)), model.get(op.key), `get ${op.key}`)
          break
        case "getMany": {
          const got = yield* db.getMany(op.keys)
          assert.deepStrictEqual(got.map(textOf), op.keys.map((k) => model.get(k)), "getMany")
          break
        }
        case "scan": {
          const snap = op.snapshot === null || snapshots.length === 0 ? undefined : snapshots[op.snapshot % snapshots.length]!
          const got = yield* scanDb(op.spec, snap?.snapshot)
          assert.deepStrictEqual(got, modelScan(snap?.model ?? model, op.spec), `scan ${JSON.stringify(op.spec)}`)
          break
        }
        case "snapshot": {
          const s = yield* Scope.make()
          const snapshot = yield* db.snapshot.pipe(Scope.extend(s))
          snapshots.push({ snapshot, model: new Map(model), scope: s })
          break
        }
        case "readSnapshot": {
          if (snapshots.length === 0) break
          const s = snapshots[op.which % snapshots.length]!
          const got = yield* db.get(op.key, { snapshot: s.snapshot })
          assert.strictEqual(textOf(got), s.model.get(op.key), `get ${op.key} at a snapshot`)
          break
        }
        case "release": {
          if (snapshots.length === 0) break
          const [s] = snapshots.splice(op.which % snapshots.length, 1)
          yield* Scope.close(s!.scope, Exit.void)
          break
        }
        case "flush":
          yield* db.flush
          break
        case "compact":
          if (op.lower !== null && op.upper !== null && op.lower > op.upper) break
          yield* db.compactRange(op.lower ?? undefined, op.upper ?? undefined)
          break
        case "reopen":
          yield* releaseAll
          yield* Scope.close(scope, Exit.void)
          scope = yield* Scope.make()
          db = yield* Db.make(options).pipe(Scope.extend(scope))
          break
      }
    }
    for (let i = 0; i <= KEYS; i++) {
      assert.strictEqual(textOf(yield* db.get(keyName(i))), model.get(keyName(i)), `final state of ${keyName(i)}`)
    }
    const all = { lower: null, lowerExclusive: false, upper: null, upperExclusive: false, prefix: null, limit: null }
    assert.deepStrictEqual(yield* scanDb({ ...all, reverse: false }, undefined), modelScan(model, { ...all, reverse: false }))
    assert.deepStrictEqual(yield* scanDb({ ...all, reverse: true }, undefined), modelScan(model, { ...all, reverse: true }))
    yield* releaseAll
    yield* Scope.close(scope, Exit.void)
  })

const tiny = { writeBufferSize: 4096, blockSize: 256, targetFileSize: 1024, maxBytesForLevelBase: 4096 }
const configs: ReadonlyArray<[string, Omit<DbOptions, "directory">]> = [
  ["no background compaction", { ...tiny, backgroundCompaction: false }],
  ["leveled compaction", { ...tiny, compaction: "leveled", level0CompactionTrigger: 2 }],
  ["size-tiered compaction", { ...tiny, compaction: "tiered", tieredMinMergeWidth: 2 }]
]

let run = 0
describe("model", () => {
  // On the Node file system, flushes and compactions run in a worker thread (NodeSyncFileSystem.layer).
  it.effect.prop(
    "random operations agree with the model (leveled compaction, Node file system, background work in a worker thread)",
    [fc.array(opArb, { minLength: 1, maxLength: 300 })],
    ([ops]) =>
      Effect.scoped(Effect.gen(function* () {
        const fs = yield* FileSystem
        const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-model-" })
        yield* runModel(ops, { directory, ...configs[1]![1] })
      })).pipe(Effect.provide(NodeSyncFileSystem.layer)),
    { fastCheck: { numRuns: 12 } }
  )

  for (const [name, config] of configs) {
    it.effect.prop(
      `random operations agree with the model (${name})`,
      [fc.array(opArb, { minLength: 1, maxLength: 300 })],
      ([ops]) =>
        runModel(ops, { directory: `/model-${run++}`, ...config }).pipe(Effect.provide(MemoryFileSystem.layer)),
      { fastCheck: { numRuns: 40 } }
    )
  }
})
