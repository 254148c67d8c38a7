/**
 * verify on a closed database built through the Db layer: clean, then each kind of damage, which
 * is reported (never thrown); a database still open makes it fail with DbLocked.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { manifest } from "../../src/internal/tools/manifestHistory.js"
import { dumpTable } from "../../src/internal/tools/tableDump.js"
import { renderVerifyReport, verify } from "../../src/internal/tools/verify.js"
import { buildCompacted, leveledOptions } from "./fixture.js"

const DIR = "/db"
const tableName = (n: number) => `${String(n).padStart(6, "0")}.sst`

const onBuilt = <A, E>(f: Effect.Effect<A, E, FileSystem | Path | MemoryFileSystem.MemoryFileSystem>) =>
  Effect.zipRight(buildCompacted(DIR), f).pipe(Effect.provide(MemoryFileSystem.layer))

describe("verify", () => {
  it.effect("is ok on a clean database: every table of every level and the WAL checked", () =>
    onBuilt(
      Effect.gen(function* () {
        const report = yield* verify(DIR)
        assert.isTrue(report.ok, renderVerifyReport(report))
        assert.deepStrictEqual(report.damage, [])
        assert.deepStrictEqual(report.orphans, [])
        const history = yield* manifest(DIR)
        const named = history.state.levels.flat().length
        assert.strictEqual(report.tables.length, named)
        assert.isTrue(report.tables.every((t) => t.status === "ok"))
        assert.isAtLeast(new Set(report.tables.map((t) => t.level)).size, 2)
        assert.deepStrictEqual(report.logs.map((l) => [l.status, l.ops]), [["ok", 21]])
        assert.match(renderVerifyReport(report), /OK$/)
        // The LOCK was released: the database opens.
        yield* Effect.scoped(Db.make(leveledOptions(DIR)))
      })
    ))

  it.effect("reports a flipped byte in a table: the file and the damaged block's offset", () =>
    onBuilt(
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const history = yield* manifest(DIR)
        const f = history.state.levels.flat().find((t) => t.entries > 40)!
        const path = `${DIR}/${tableName(f.number)}`
        const block = (yield* dumpTable(path)).index[2]!
        yield* mem.flipByte(path, block.offset + 3, 0x40)
        const report = yield* verify(DIR)
        assert.isFalse(report.ok)
        assert.deepStrictEqual(report.damage.map((d) => [d.file, d.offset]), [[tableName(f.number), block.offset]], renderVerifyReport(report))
        assert.strictEqual(report.tables.find((t) => t.file === tableName(f.number))!.status, "damaged")
        assert.strictEqual(report.tables.filter((t) => t.status === "ok").length, report.tables.length - 1)
        assert.include(renderVerifyReport(report), "DAMAGED: 1 problems")
      })
    ))

  it.effect("reports a table the manifest names that is missing", () =>
    onBuilt(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const f = (yield* manifest(DIR)).state.levels.flat()[1]!
        yield* fs.remove(`${DIR}/${tableName(f.number)}`)
        const report = yield* verify(DIR)
        assert.isFalse(report.ok)
        assert.deepInclude(report.damage, { file: tableName(f.number), offset: 0, description: "table named by the manifest is missing" })
        assert.strictEqual(report.tables.find((t) => t.file === tableName(f.number))!.status, "missing")
      })
    ))

  it.effect("reports a table of the wrong size, and one whose key range disagrees with the manifest", () =>
    onBuilt(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const tables = (yield* manifest(DIR)).state.levels.flat()
        const [a, b] = [tables[1]!, tables[2]!]
        // a's file replaced by b's bytes: a valid table, but not the one the manifest records.
        yield* fs.copyFile(`${DIR}/${tableName(b.number)}`, `${DIR}/${tableName(a.number)}.tmp`)
        yield* fs.rename(`${DIR}/${tableName(a.number)}.tmp`, `${DIR}/${tableName(a.number)}`)
        const report = yield* verify(DIR)
        assert.isFalse(report.ok)
        const about = report.damage.filter((d) => d.file === tableName(a.number)).map((d) => d.description).join("\n")
        assert.match(about, /smallest key/)
        if (a.size !== b.size) assert.match(about, /size/)
      })
    ))

  it.effect("reports damage in the WAL, and a torn tail only as a note", () =>
    onBuilt(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const log = (yield* fs.readDirectory(DIR)).find((n) => n.endsWith(".log"))!
        const size = Number((yield* fs.stat(`${DIR}/${log}`)).size)
        yield* fs.truncate(`${DIR}/${log}`, size - 2)
        const torn = yield* verify(DIR)
        assert.isTrue(torn.ok, renderVerifyReport(torn))
        assert.strictEqual(torn.logs[0]!.status, "torn")
        assert.strictEqual(torn.notes.length, 1)
        yield* mem.flipByte(`${DIR}/${log}`, 40)
        const damaged = yield* verify(DIR)
        assert.isFalse(damaged.ok)
        assert.strictEqual(damaged.damage[0]!.file, log)
        assert.strictEqual(damaged.logs[0]!.status, "damaged")
      })
    ))

  it.effect("reports a missing CURRENT as damage", () =>
    onBuilt(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        yield* fs.remove(`${DIR}/CURRENT`)
        const report = yield* verify(DIR)
        assert.isFalse(report.ok)
        assert.strictEqual(report.damage[0]!.file, "CURRENT")
        // Every table is then an orphan: none is named.
        assert.isAbove(report.orphans.length, 0)
      })
    ))

  it.effect("lists tables the manifest does not name as orphans, not damage", () =>
    onBuilt(
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const f = (yield* manifest(DIR)).state.levels.flat()[0]!
        yield* fs.copyFile(`${DIR}/${tableName(f.number)}`, `${DIR}/${tableName(900)}`)
        const report = yield* verify(DIR)
        assert.isTrue(report.ok)
        assert.deepStrictEqual(report.orphans, [tableName(900)])
      })
    ))

  it.scoped("fails with DbLocked while the database is open", () =>
    Effect.gen(function* () {
      yield* buildCompacted(DIR)
      yield* Db.make(leveledOptions(DIR))
      const error = yield* Effect.flip(verify(DIR))
      assert.strictEqual(error._tag, "stratadb/DbLocked")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
})
