/**
 * dumpTable, dumpLog and manifest on a database built through the Db layer (tables in several
 * levels, a WAL holding the last writes), on the in-memory file system.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { dumpLog, renderLogDump } from "../../src/internal/tools/logDump.js"
import { manifest, renderManifestHistory } from "../../src/internal/tools/manifestHistory.js"
import { dumpTable, renderTableDump } from "../../src/internal/tools/tableDump.js"
import { KIND_PUT } from "../../src/internal/key/internalKey.js"
import { TableBuilder } from "../../src/internal/table/tableBuilder.js"
import { repair } from "../../src/internal/tools/repair.js"
import { withDb as withTestDb } from "../support.js"
import { allEntries, buildCompacted, key, modelOf, options, walEntries } from "./fixture.js"

const DIR = "/db"
const str = (b: Uint8Array) => Buffer.from(b).toString("latin1")
const tablePath = (n: number) => `${DIR}/${String(n).padStart(6, "0")}.sst`

const withDb = <A, E>(f: (model: Map<string, string>) => Effect.Effect<A, E, FileSystem | Path | MemoryFileSystem.MemoryFileSystem>) =>
  Effect.gen(function* () {
    const model = yield* buildCompacted(DIR)
    return yield* f(model)
  }).pipe(Effect.provide(MemoryFileSystem.layer))

const logsOf = (names: ReadonlyArray<string>) => names.filter((n) => n.endsWith(".log")).sort()

describe("manifest", () => {
  it.effect("lists the edits and the final version's tables, in several levels", () =>
    withDb(() =>
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const history = yield* manifest(DIR)
        assert.isTrue(history.ok, renderManifestHistory(history))
        assert.isAbove(history.edits.length, 3)
        // The first edit is the snapshot: the comparator and the counters.
        assert.strictEqual(history.edits[0]!.edit.comparator, "stratadb.bytewise")
        assert.strictEqual(history.edits[0]!.offset, 0)
        const levels = history.state.levels.filter((files) => files.length > 0)
        assert.isAtLeast(levels.length, 2, "tables in several levels")
        assert.strictEqual(history.state.lastSequence, 515)
        // Every table the final version names is on disk; every edit that added or removed one is listed.
        const names = new Set(yield* fs.readDirectory(DIR))
        for (const files of history.state.levels) for (const f of files) assert.isTrue(names.has(`${String(f.number).padStart(6, "0")}.sst`))
        assert.isTrue(history.edits.some((e) => (e.edit.deletedFiles ?? []).length > 0), "compactions deleted tables")
        // The same through the manifest file's path.
        const manifestName = [...names].find((n) => n.startsWith("MANIFEST-"))!
        const byFile = yield* manifest(`${DIR}/${manifestName}`)
        assert.deepStrictEqual(byFile.state, history.state)
        assert.include(renderManifestHistory(history), "final version:")
      })))

  it.effect("reports a missing CURRENT as damage, not a failure", () =>
    withDb(() =>
      Effect.gen(function* () {
        const fs = yield* FileSystem
        yield* fs.remove(`${DIR}/CURRENT`)
        const history = yield* manifest(DIR)
        assert.isFalse(history.ok)
        assert.strictEqual(history.damage[0]!.file, "CURRENT")
      })))
})

describe("dumpTable", () => {
  it.effect("shows properties, index, filter and every entry; the tables and the WAL hold what was written", () =>
    withDb((model) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const history = yield* manifest(DIR)
        for (const files of history.state.levels) {
          for (const f of files) {
            const dump = yield* dumpTable(tablePath(f.number), { verify: true })
            assert.isTrue(dump.ok, renderTableDump(dump))
            assert.strictEqual(dump.entries.length, f.entries)
            assert.strictEqual(dump.properties!.entries, f.entries)
            assert.strictEqual(dump.index.length, dump.properties!.dataBlocks)
            assert.strictEqual(dump.filter!.bitsPerKey, 10)
            assert.isAbove(dump.filter!.bytes, 0)
            assert.strictEqual(str(dump.entries[0]!.key), f.smallestKey)
            assert.strictEqual(str(dump.entries[dump.entries.length - 1]!.key), f.largestKey)
          }
        }
        // The newest version of each key, over every table and the WAL, is the model.
        const { entries } = yield* allEntries(DIR)
        const wal = yield* walEntries(DIR, logsOf(yield* fs.readDirectory(DIR)))
        assert.deepStrictEqual(modelOf([...entries, ...wal]), model)
        // A tombstone is listed as a delete.
        const tombstone = entries.find((e) => e.key === key(60))
        assert.strictEqual(tombstone?.kind, "delete")
      })))

  it.effect("stops at the limit; renders text or hex", () =>
    withDb(() =>
      Effect.gen(function* () {
        const history = yield* manifest(DIR)
        const big = history.state.levels.flat().reduce((a, b) => (b.entries > a.entries ? b : a))
        const dump = yield* dumpTable(tablePath(big.number), { limit: 3 })
        assert.strictEqual(dump.entries.length, 3)
        assert.isTrue(dump.truncated)
        assert.isFalse(dump.verified)
        assert.isBelow(dump.blocksRead, dump.index.length)
        const text = renderTableDump(dump)
        assert.include(text, `${big.smallestKey} @${big.smallestSeq} put =>`)
        assert.include(text, "more not shown")
        const hex = renderTableDump(dump, (b) => Buffer.from(b).toString("hex"))
        assert.include(hex, Buffer.from(big.smallestKey, "latin1").toString("hex"))
      })))

  it.effect("reports a flipped byte in a data block with the file and the block's offset", () =>
    withDb(() =>
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const history = yield* manifest(DIR)
        const f = history.state.levels.flat().find((t) => t.entries > 40)!
        const path = tablePath(f.number)
        const clean = yield* dumpTable(path)
        const block = clean.index[1]!
        yield* mem.flipByte(path, block.offset + 5, 0x01)
        const dump = yield* dumpTable(path, { verify: true })
        assert.isFalse(dump.ok)
        assert.strictEqual(dump.damage.length, 1, renderTableDump(dump))
        assert.deepInclude(dump.damage[0], { file: path, offset: block.offset })
        assert.include(dump.damage[0]!.description, "checksum")
        // The other blocks are still read.
        assert.strictEqual(dump.blocksRead, clean.index.length)
        assert.isAbove(dump.entries.length, 0)
        assert.isBelow(dump.entries.length, clean.entries.length)
        assert.include(renderTableDump(dump), `DAMAGE ${path} @${block.offset}`)
      })))

  it.effect("reports a damaged footer as damage", () =>
    withDb(() =>
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const history = yield* manifest(DIR)
        const f = history.state.levels.flat()[0]!
        const path = tablePath(f.number)
        yield* mem.flipByte(path, f.size - 2)
        const dump = yield* dumpTable(path, { verify: true })
        assert.isFalse(dump.ok)
        assert.isUndefined(dump.properties)
        assert.strictEqual(dump.damage[0]!.offset, f.size - 64)
      })))
})

describe("dumpTable --verify on blocks out of order", () => {
  it.effect("two data blocks swapped (each intact): order across blocks and the index separators are damage", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const builder = new TableBuilder({ blockSize: 256, restartInterval: 16, bitsPerKey: 10 })
      for (let i = 0; i < 100; i++) builder.add(key(i), 1000 - i, KIND_PUT, Buffer.from(`v${String(i).padStart(19, "0")}`))
      const bytes = Buffer.concat([...builder.takeOutput(), ...builder.finish()])
      yield* fs.writeFile("/t.sst", bytes)
      const clean = yield* dumpTable("/t.sst", { verify: true })
      assert.isTrue(clean.ok, renderTableDump(clean))
      const [a, b] = [clean.index[1]!, clean.index[2]!]
      assert.strictEqual(a.size, b.size, "blocks of the same size")
      const swapped = Buffer.from(bytes)
      const length = a.size + 5
      bytes.copy(swapped, a.offset, b.offset, b.offset + length)
      bytes.copy(swapped, b.offset, a.offset, a.offset + length)
      yield* fs.writeFile("/t.sst", swapped)
      const dump = yield* dumpTable("/t.sst", { verify: true })
      assert.isFalse(dump.ok)
      const text = dump.damage.map((d) => `${d.offset}: ${d.description}`).join("\n")
      assert.match(text, /is not above the previous entry/)
      assert.match(text, /separator/)
      // Every entry is still listed (the blocks themselves are intact).
      assert.strictEqual(dump.entries.length, 100)
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
})

describe("dumpLog", () => {
  it.effect("goes on at the next 32 KiB block after damage; repair keeps those records too", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* withTestDb({ ...options("/big"), writeBufferSize: 1024 * 1024 }, (db) =>
        Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) => db.put(key(i), "x".repeat(1000)), { discard: true }))
      const log = `/big/${(yield* fs.readDirectory("/big")).find((n) => n.endsWith(".log"))!}`
      const whole = yield* dumpLog(log)
      assert.isTrue(whole.ok)
      assert.strictEqual(whole.records.length, 100)
      assert.isAbove(whole.size, 3 * 32768)
      yield* mem.flipByte(log, whole.records[3]!.offset + 20)
      const dump = yield* dumpLog(log)
      assert.isFalse(dump.ok)
      assert.strictEqual(dump.end, "corrupt")
      assert.strictEqual(dump.damage[0]!.offset, whole.records[3]!.offset)
      const before = dump.records.filter((r) => !r.afterDamage)
      const after = dump.records.filter((r) => r.afterDamage)
      assert.strictEqual(before.length, 3)
      // Reading resumed at 32768: the records starting in block 1 and later (one spanning the boundary is lost).
      assert.isAbove(after.length, 60)
      assert.isAtLeast(after[0]!.offset, 32768)
      assert.deepStrictEqual(after.map((r) => r.offset), whole.records.filter((r) => r.offset >= 32768).map((r) => r.offset))
      const report = yield* repair("/big")
      assert.strictEqual(report.logs[0]!.entries, before.length + after.length)
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("decodes the WAL's batches: sequences, keys, values, deletes", () =>
    withDb(() =>
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const [log] = logsOf(yield* fs.readDirectory(DIR))
        const dump = yield* dumpLog(`${DIR}/${log}`)
        assert.isTrue(dump.ok, renderLogDump(dump))
        assert.strictEqual(dump.kind, "wal")
        assert.strictEqual(dump.end, "clean")
        const ops = dump.records.flatMap((r) => (r._tag === "batch" ? r.ops : []))
        assert.strictEqual(ops.length, 21)
        assert.deepStrictEqual(
          ops.slice(0, 2).map((o) => [o.kind, str(o.key), str(o.value), o.seq]),
          [["put", key(200), "e200", 516], ["put", key(201), "e201", 517]]
        )
        const last = ops[ops.length - 1]!
        assert.deepStrictEqual([last.kind, str(last.key), last.seq], ["delete", key(5), 536])
        // Each batch's first sequence is its first op's.
        for (const r of dump.records) if (r._tag === "batch") assert.strictEqual(r.sequence, r.ops[0]!.seq)
      })))

  it.effect("decodes the manifest's records as version edits (by name or by flag)", () =>
    withDb(() =>
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const name = (yield* fs.readDirectory(DIR)).find((n) => n.startsWith("MANIFEST-"))!
        const dump = yield* dumpLog(`${DIR}/${name}`)
        assert.strictEqual(dump.kind, "manifest")
        assert.isTrue(dump.ok)
        const history = yield* manifest(DIR)
        assert.deepStrictEqual(
          dump.records.map((r) => (r._tag === "edit" ? r.edit : undefined)),
          history.edits.map((e) => e.edit)
        )
        // Read as a WAL, the edits do not decode as batches: damage, not a failure.
        const wrong = yield* dumpLog(`${DIR}/${name}`, { kind: "wal" })
        assert.isFalse(wrong.ok)
        assert.strictEqual(wrong.records[0]!._tag, "undecodable")
      })))

  it.effect("reports a torn tail with its offset (not damage), and a flipped byte as damage", () =>
    withDb(() =>
      Effect.gen(function* () {
        const fs = yield* FileSystem
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const [log] = logsOf(yield* fs.readDirectory(DIR))
        const path = `${DIR}/${log}`
        const whole = yield* dumpLog(path)
        const lastRecord = whole.records[whole.records.length - 1]!
        // A flipped byte in the third record's payload: damage at that record; records after it
        // (in the same 32 KiB block) are not read.
        const third = whole.records[2]!
        yield* mem.flipByte(path, third.offset + 9)
        const damaged = yield* dumpLog(path)
        assert.isFalse(damaged.ok)
        assert.strictEqual(damaged.end, "corrupt")
        assert.deepInclude(damaged.damage[0], { file: path, offset: third.offset })
        assert.strictEqual(damaged.records.length, 2)
        yield* mem.flipByte(path, third.offset + 9)
        // Cut inside the last record: a torn tail, the records before it kept.
        yield* fs.truncate(path, lastRecord.offset + 3)
        const torn = yield* dumpLog(path)
        assert.isTrue(torn.ok)
        assert.strictEqual(torn.end, "torn")
        assert.strictEqual(torn.tornTail!.offset, lastRecord.offset)
        assert.strictEqual(torn.records.length, whole.records.length - 1)
      })))
})
