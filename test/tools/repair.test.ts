/**
 * repair on databases built through the Db layer, damaged in each way an operator meets: a
 * flipped byte in a table, a damaged footer, a damaged WAL record, a deleted manifest, a deleted
 * CURRENT, an orphan table. Afterwards the database opens through the Db layer and holds every
 * entry the undamaged files held (the newest readable version of each key), and verify is ok.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { isDeepStrictEqual } from "node:util"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { dumpLog } from "../../src/internal/tools/logDump.js"
import { manifest } from "../../src/internal/tools/manifestHistory.js"
import { dumpTable } from "../../src/internal/tools/tableDump.js"
import { level0Consistent, renderRepairReport, repair, type RepairReport } from "../../src/internal/tools/repair.js"
import { renderVerifyReport, verify } from "../../src/internal/tools/verify.js"
import { withDb } from "../support.js"
import {
  allEntries,
  assertHolds,
  buildCompacted,
  buildFlushed,
  buildInterleaved,
  type Internal,
  key,
  leveledOptions,
  type Model,
  modelOf,
  walEntries
} from "./fixture.js"

const DIR = "/db"
const tableName = (n: number) => `${String(n).padStart(6, "0")}.sst`
const everyKey = Array.from({ length: 1100 }, (_, i) => key(i))

type Env = FileSystem | Path | MemoryFileSystem.MemoryFileSystem

const logsIn = (dir: string) =>
  Effect.map(FileSystem, (fs) => fs.readDirectory(dir)).pipe(
    Effect.flatten,
    Effect.map((names) => names.filter((n) => n.endsWith(".log")).sort())
  )

/**
 * Opens the repaired database (no background compaction, so reads meet the layout repair made),
 * checks it holds `model`, compacts it, checks again; then verify.
 */
const reopenHolds = (model: Model) =>
  Effect.gen(function* () {
    yield* withDb({ ...leveledOptions(DIR), backgroundCompaction: false }, (db) =>
      Effect.gen(function* () {
        yield* assertHolds(db, model, everyKey)
        yield* db.compactRange()
        yield* assertHolds(db, model, everyKey)
      })
    )
    const report = yield* verify(DIR)
    assert.isTrue(report.ok, renderVerifyReport(report))
  })

const lostNames = (dir: string) => Effect.flatMap(FileSystem, (fs) => fs.readDirectory(`${dir}/lost`))

const run = <A, E>(effect: Effect.Effect<A, E, Env>) => effect.pipe(Effect.provide(MemoryFileSystem.layer))

const logged = (report: RepairReport) => renderRepairReport(report)

describe("repair", () => {
  it.effect("a flipped byte in a table: the damaged block's entries are lost, every other entry kept", () =>
    run(
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const model = yield* buildCompacted(DIR)
        const { entries, history } = yield* allEntries(DIR)
        const wal = yield* walEntries(DIR, yield* logsIn(DIR))
        // The block: block 1 of the first table where it holds the newest version of some key.
        const block = 1
        const without = (path: string) => entries.filter((e) => !(e.file === path && e.block === block))
        const target = history.state.levels.flat().find((f) => {
          const path = `${DIR}/${tableName(f.number)}`
          return f.entries > 40 && !isDeepStrictEqual(modelOf([...without(path), ...wal]), model)
        })!
        assert.isDefined(target)
        const path = `${DIR}/${tableName(target.number)}`
        const lost = entries.filter((e) => e.file === path && e.block === block)
        assert.isAbove(lost.length, 5)
        const expected = modelOf([...without(path), ...wal])

        const handle = (yield* dumpTable(path)).index[block]!
        yield* mem.flipByte(path, handle.offset + 7, 0x04)

        const report = yield* repair(DIR)
        const t = report.tables.find((x) => x.file === tableName(target.number))!
        assert.strictEqual(t.outcome, "rewritten", logged(report))
        assert.strictEqual(t.lostEntries, lost.length)
        assert.strictEqual(t.lostBlocks, 1)
        assert.strictEqual(t.entries, target.entries - lost.length)
        assert.strictEqual(report.lostEntries, lost.length)
        assert.deepStrictEqual(report.damage.map((d) => [d.file, d.offset]), [[tableName(target.number), handle.offset]])
        assert.strictEqual(report.logs[0]!.entries, 21)
        // The damaged original, the old manifest and the log are kept in lost/.
        const kept = yield* lostNames(DIR)
        assert.include(kept, tableName(target.number))
        assert.include(kept, (yield* logsIn(`${DIR}/lost`))[0]!)
        assert.isTrue(kept.some((n) => n.startsWith("MANIFEST-")))
        yield* reopenHolds(expected)
      })
    ))

  it.effect("a damaged footer: the table is dropped and reported, the rest kept", () =>
    run(
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        yield* buildCompacted(DIR)
        const { entries, history } = yield* allEntries(DIR)
        const wal = yield* walEntries(DIR, yield* logsIn(DIR))
        const target = history.state.levels.flat().find((f) => f.entries > 40)!
        const path = `${DIR}/${tableName(target.number)}`
        yield* mem.flipByte(path, target.size - 10)
        const report = yield* repair(DIR)
        const t = report.tables.find((x) => x.file === tableName(target.number))!
        assert.strictEqual(t.outcome, "dropped", logged(report))
        assert.strictEqual(t.damage[0]!.offset, target.size - 64)
        assert.include(yield* lostNames(DIR), tableName(target.number))
        yield* reopenHolds(modelOf([...entries.filter((e) => e.file !== path), ...wal]))
      })
    ))

  it.effect("a damaged WAL record: the records that still decode are kept", () =>
    run(
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        yield* buildCompacted(DIR)
        const { entries } = yield* allEntries(DIR)
        const [log] = yield* logsIn(DIR)
        const whole = yield* dumpLog(`${DIR}/${log}`)
        yield* mem.flipByte(`${DIR}/${log}`, whole.records[15]!.offset + 10)
        // What the log still gives (records before the damage).
        const readable: Array<Internal> = yield* walEntries(DIR, [log!])
        assert.isAbove(readable.length, 10)
        assert.isBelow(readable.length, 21)
        const report = yield* repair(DIR)
        assert.strictEqual(report.logs[0]!.entries, readable.length, logged(report))
        assert.isAbove(report.logs[0]!.droppedBytes, 0)
        assert.strictEqual(report.damage[0]!.file, log)
        yield* reopenHolds(modelOf([...entries, ...readable]))
      })
    ))

  for (const lose of ["manifest", "CURRENT"] as const) {
    it.effect(`a deleted ${lose}: everything is kept`, () =>
      run(
        Effect.gen(function* () {
          const fs = yield* FileSystem
          const model = yield* buildCompacted(DIR)
          const name = lose === "CURRENT" ? "CURRENT" : (yield* fs.readDirectory(DIR)).find((n) => n.startsWith("MANIFEST-"))!
          yield* fs.remove(`${DIR}/${name}`)
          // The database does not open like this.
          const refused = yield* Effect.either(withDb(leveledOptions(DIR), () => Effect.void))
          assert.isTrue(refused._tag === "Left")
          const report = yield* repair(DIR)
          assert.strictEqual(report.lostEntries, 0)
          assert.deepStrictEqual(report.damage, [])
          assert.strictEqual(report.lastSequence, 536)
          yield* reopenHolds(model)
        })
      ))
  }

  it.effect("a database of flushed tables keeps them as they are, all in L0", () =>
    run(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const model = yield* buildFlushed(DIR)
        const before = (yield* manifest(DIR)).state.levels.flat().map((f) => f.number).sort()
        yield* fs.remove(`${DIR}/CURRENT`)
        const report = yield* repair(DIR)
        assert.strictEqual(report.layout, "level0", logged(report))
        assert.isTrue(report.files.every((f) => f.level === 0))
        assert.deepStrictEqual(report.tables.map((t) => t.outcome), before.map(() => "kept"))
        for (const n of before) assert.isTrue(report.files.some((f) => f.meta.number === n))
        assert.deepStrictEqual(report.deleted, [])
        yield* reopenHolds(model)
      })
    ))

  it.effect("tables whose ranges and sequences interleave (an orphan of a compaction) are merged into L1", () =>
    run(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const model = yield* buildCompacted(DIR)
        const tables = (yield* manifest(DIR)).state.levels.flat()
        // A copy of a table under another number, as an interrupted compaction leaves its output.
        const deepest = tables[tables.length - 1]!
        yield* fs.copyFile(`${DIR}/${tableName(deepest.number)}`, `${DIR}/${tableName(900)}`)
        assert.isFalse(level0Consistent([...tables, { ...deepest, number: 900 }]))
        const report = yield* repair(DIR)
        assert.strictEqual(report.layout, "merged", logged(report))
        assert.isTrue(report.files.every((f) => f.level === 1))
        // One sorted run: disjoint, in order.
        for (let i = 1; i < report.files.length; i++) {
          assert.isTrue(report.files[i - 1]!.meta.largestKey < report.files[i]!.meta.smallestKey)
        }
        assert.include(report.deleted, tableName(900))
        assert.include(report.deleted, tableName(deepest.number))
        // Every version is kept once: the copy's entries are not doubled.
        const versions = tables.reduce((n, f) => n + f.entries, 0) + 21
        assert.strictEqual(report.keptEntries, versions)
        yield* reopenHolds(model)
      })
    ))

  it.effect("levels that interleave in sequences are merged: no older version shadows a newer one", () =>
    run(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const model = yield* buildInterleaved(DIR)
        const tables = (yield* manifest(DIR)).state.levels.flat()
        assert.isFalse(level0Consistent(tables))
        yield* fs.remove(`${DIR}/CURRENT`)
        const report = yield* repair(DIR)
        assert.strictEqual(report.layout, "merged", logged(report))
        assert.strictEqual(report.keptEntries, tables.reduce((n, f) => n + f.entries, 0) + 5)
        yield* reopenHolds(model)
      })
    ))

  it.effect("the L0 layout is refused when a newer table would hide a newer version in an older one", () =>
    Effect.sync(() => {
      const meta = (number: number, smallestKey: string, largestKey: string, minSeq: number, maxSeq: number) => ({
        number, size: 1, rawSize: 1, smallestKey, smallestSeq: maxSeq, largestKey, largestSeq: minSeq, entries: 2, tombstones: 0, minSeq, maxSeq
      })
      assert.isTrue(level0Consistent([meta(1, "a", "m", 1, 10), meta(2, "c", "z", 11, 20), meta(3, "n", "p", 5, 6)]))
      assert.isFalse(level0Consistent([meta(1, "a", "m", 1, 10), meta(2, "c", "z", 5, 20)]))
    }))

  it.scoped("fails with DbLocked while the database is open", () =>
    Effect.gen(function* () {
      yield* buildCompacted(DIR)
      yield* Db.make(leveledOptions(DIR))
      const error = yield* Effect.flip(repair(DIR))
      assert.strictEqual(error._tag, "stratadb/DbLocked")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("refuses a directory with no database files", () =>
    run(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        yield* fs.makeDirectory("/empty")
        const error = yield* Effect.flip(repair("/empty"))
        assert.strictEqual(error._tag, "stratadb/InvalidArgument")
      })
    ))
})
