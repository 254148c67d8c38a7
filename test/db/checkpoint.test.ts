/**
 * `checkpoint(target)`: a consistent copy that opens as a database with the same contents.
 *
 * The rule under test (Db.ts): the copy holds every write acknowledged before the call, and of
 * the writes made while it runs exactly those up to `result.sequence`, a prefix: never a later
 * write without an earlier one. Checked against a model while a writer keeps writing, while
 * compactions run, after the source compacts away the tables the copy shares with it, and when
 * linking fails (the tables are copied). Bad targets are `InvalidArgument` and change nothing; a
 * checkpoint that fails midway leaves nothing behind.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Either, Fiber, Stream } from "effect"
import type { DbService } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { small, text, withDb } from "../support.js"

const key = (i: number) => `key-${String(i).padStart(6, "0")}`

/** Every entry of the database, as text. */
const contents = (db: DbService) =>
  Effect.map(Stream.runCollect(db.scan()), (entries) => {
    const out = new Map<string, string>()
    for (const e of Chunk.toReadonlyArray(entries)) out.set(text(e.key), text(e.value))
    return out
  })

/** The copy at `directory`, opened (it must exist: createIfMissing false), read whole. */
const contentsOf = (directory: string) => withDb({ directory, createIfMissing: false }, contents)

const assertSameMap = (actual: ReadonlyMap<string, string>, expected: ReadonlyMap<string, string>, what: string) => {
  assert.strictEqual(actual.size, expected.size, `${what}: entry count`)
  for (const [k, v] of expected) assert.strictEqual(actual.get(k), v, `${what}: ${k}`)
}

/** The model after the first `n` operations of `ops` (undefined value: a delete). */
const modelAfter = (ops: ReadonlyArray<readonly [string, string | undefined]>, n: number) => {
  const m = new Map<string, string>()
  for (let i = 0; i < n; i++) {
    const [k, v] = ops[i]!
    if (v === undefined) m.delete(k)
    else m.set(k, v)
  }
  return m
}

describe("checkpoint", () => {
  it.effect("the copy opens with the same data: tables, memtable and deletes; it and the source then go their own ways", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const expected = new Map<string, string>()
      const result = yield* withDb(small("/src"), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 3000; i++) {
            yield* db.put(key(i), `value-${i}`.padEnd(50, "."))
            expected.set(key(i), `value-${i}`.padEnd(50, "."))
          }
          yield* db.flush
          for (let i = 0; i < 3000; i += 7) {
            yield* db.delete(key(i))
            expected.delete(key(i))
          }
          yield* db.put("in-the-memtable", "only")
          expected.set("in-the-memtable", "only")
          const r = yield* db.checkpoint("/backups/one")
          assert.strictEqual(r.sequence, (yield* db.stats).lastSequence, "the copy goes up to the last write")
          // The source goes on, unaffected; compacting it deletes the tables the copy links.
          yield* db.put("after", "the checkpoint")
          yield* db.compactRange()
          assertSameMap(yield* contents(db), new Map([...expected, ["after", "the checkpoint"]]), "the source")
          return r
        })
      )
      assert.strictEqual(result.directory, "/backups/one")
      assert.isAbove(result.tables, 1)
      assert.strictEqual(result.linked, result.tables, "hard links where the file system allows")
      assert.strictEqual(result.copied, 0)
      const names = yield* fs.readDirectory("/backups/one")
      assert.includeMembers(names, ["CURRENT"])
      assert.isTrue(names.some((n) => n.startsWith("MANIFEST-")))
      assert.isFalse(names.some((n) => n.endsWith(".log")), "no log: the memtable was flushed")
      assertSameMap(yield* contentsOf("/backups/one"), expected, "the copy")
      // The copy is a database of its own: writes to it leave the source alone.
      yield* withDb({ directory: "/backups/one" }, (copy) =>
        Effect.gen(function* () {
          yield* copy.put(key(1), "changed in the copy")
          yield* copy.compactRange()
        })
      )
      assert.strictEqual((yield* contentsOf("/src")).get(key(1)), `value-1`.padEnd(50, "."))
      assert.strictEqual((yield* contentsOf("/backups/one")).get(key(1)), "changed in the copy")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("an empty database, and an existing empty target directory", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* fs.makeDirectory("/empty-target")
      const r = yield* withDb({ directory: "/nothing" }, (db) => db.checkpoint("/empty-target"))
      assert.strictEqual(r.tables, 0)
      assert.strictEqual(r.sequence, 0)
      assert.strictEqual((yield* contentsOf("/empty-target")).size, 0)
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("writes go on during the checkpoint: the copy is the model at result.sequence, which covers every write acknowledged before", () =>
    Effect.gen(function* () {
      const ops: Array<readonly [string, string | undefined]> = []
      const { ackedBefore, base, result, startedAfter } = yield* withDb(small("/busy"), (db) =>
        Effect.gen(function* () {
          const base = (yield* db.stats).lastSequence
          let acked = 0
          const enough = yield* Deferred.make<void>()
          // One write at a time, so write i has sequence base + i + 1; overwrites and deletes.
          const writer = yield* Effect.fork(
            Effect.gen(function* () {
              for (let i = 0; ; i++) {
                const k = key((i * 37) % 500)
                const op: readonly [string, string | undefined] = i % 11 === 5 ? [k, undefined] : [k, `w${i}`.padEnd(80, "-")]
                ops.push(op)
                yield* op[1] === undefined ? db.delete(k) : db.put(k, op[1])
                acked = i + 1
                if (acked === 3000) yield* Deferred.succeed(enough, undefined)
              }
            })
          )
          yield* Deferred.await(enough)
          const ackedBefore = acked
          const result = yield* db.checkpoint("/busy-copy")
          const startedAfter = ops.length
          yield* Fiber.interrupt(writer)
          return { ackedBefore, base, result, startedAfter }
        })
      )
      const m = result.sequence - base
      assert.isAtLeast(m, ackedBefore, "every write acknowledged before the call is in the copy")
      assert.isAtMost(m, startedAfter, "no write started after the call returned")
      assert.isAbove(startedAfter, ackedBefore, "the writer wrote during the checkpoint")
      assertSameMap(yield* contentsOf("/busy-copy"), modelAfter(ops, m), `the copy at sequence ${result.sequence}`)
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("compactions run during the checkpoint: the pinned version's tables stay until linked; later compactions do not reach the copy", () =>
    Effect.gen(function* () {
      const expected = new Map<string, string>()
      const { compactionsDuring } = yield* withDb(small("/compacting", { writeBufferSize: 32 * 1024, level0CompactionTrigger: 2 }), (db) =>
        Effect.gen(function* () {
          for (let round = 0; round < 6; round++) {
            for (let i = 0; i < 800; i++) {
              const k = key((i * 13 + round * 101) % 2000)
              yield* db.put(k, `r${round}-${i}`.padEnd(60, "+"))
              expected.set(k, `r${round}-${i}`.padEnd(60, "+"))
            }
            yield* db.flush
          }
          const before = (yield* db.stats).compactions
          // A manual compaction of everything, racing the checkpoint; background compactions too.
          const compaction = yield* Effect.fork(db.compactRange())
          const r = yield* db.checkpoint("/compacting-copy", {
            onProgress: () => Effect.yieldNow()
          })
          yield* Fiber.join(compaction)
          const after = yield* db.stats
          assert.isAbove(r.tables, 0)
          return { compactionsDuring: after.compactions - before }
        })
      )
      assert.isAbove(compactionsDuring, 0)
      assertSameMap(yield* contentsOf("/compacting-copy"), expected, "the copy")
      // The copy's manifest is whole: the copy reopens, compacts and reads the same again.
      yield* withDb({ directory: "/compacting-copy" }, (copy) => copy.compactRange())
      assertSameMap(yield* contentsOf("/compacting-copy"), expected, "the copy, compacted")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("where hard links fail, or with link: false, the tables are copied; progress is reported per table", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const expected = new Map<string, string>()
      const reports: Array<number> = []
      const r = yield* withDb(small("/nolinks"), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 2000; i++) {
            yield* db.put(key(i), `v${i}`.padEnd(60, "*"))
            expected.set(key(i), `v${i}`.padEnd(60, "*"))
          }
          yield* mem.injectFault({ op: "link", path: /^\/nolinks-copy\//, error: "EIO" })
          const result = yield* db.checkpoint("/nolinks-copy", {
            onProgress: (p) =>
              Effect.sync(() => {
                assert.strictEqual(p.totalTables, reports.length === 0 ? p.totalTables : reports[0])
                assert.isAtMost(p.bytes, p.totalBytes)
                reports.push(p.totalTables, p.tables)
              })
          })
          yield* mem.clearFaults
          // link: false copies though linking works: a backup sharing no file with the database.
          const backup = yield* db.checkpoint("/backup", { link: false })
          assert.strictEqual(backup.copied, backup.tables)
          assert.strictEqual(backup.linked, 0)
          return result
        })
      )
      assertSameMap(yield* contentsOf("/backup"), expected, "the backup")
      assert.isAbove(r.tables, 1)
      assert.strictEqual(r.copied, r.tables)
      assert.strictEqual(r.linked, 0)
      assert.strictEqual(reports.length, 2 * r.tables)
      assert.strictEqual(reports[reports.length - 1], r.tables)
      assertSameMap(yield* contentsOf("/nolinks-copy"), expected, "the copied tables")
      // Copies are synced: they survive power loss.
      yield* mem.crash()
      assertSameMap(yield* contentsOf("/nolinks-copy"), expected, "the copy after power loss")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))

  it.effect("bad targets are InvalidArgument and change nothing; a checkpoint that fails midway leaves nothing behind", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* fs.makeDirectory("/full")
      yield* fs.writeFileString("/full/keep.txt", "mine")
      yield* fs.writeFileString("/a-file", "not a directory")
      yield* withDb(small("/db"), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 1500; i++) yield* db.put(key(i), "x".repeat(60))
          const refused: Array<[unknown, RegExp]> = [
            ["/full", /exists and is not empty/],
            ["/a-file", /exists and is not a directory/],
            ["/db", /the database directory or inside it/],
            ["/db/inner", /the database directory or inside it/],
            ["", /non-empty string/],
            [42, /non-empty string/]
          ]
          for (const [target, why] of refused) {
            const r = yield* Effect.either(db.checkpoint(target as string))
            assert.isTrue(Either.isLeft(r), `checkpoint to ${String(target)}`)
            if (Either.isLeft(r)) {
              assert.strictEqual(r.left._tag, "stratadb/InvalidArgument")
              assert.match(r.left.message, why)
            }
          }
          assert.deepStrictEqual(yield* fs.readDirectory("/full"), ["keep.txt"])
          assert.strictEqual(yield* fs.readFileString("/a-file"), "not a directory")
          assert.isFalse(yield* fs.exists("/db/inner"))

          // The manifest cannot be written: the checkpoint fails, and removes what it made.
          yield* mem.injectFault({ op: "write", path: /^\/broken\/MANIFEST/, error: "ENOSPC" })
          const failed = yield* Effect.either(db.checkpoint("/broken"))
          yield* mem.clearFaults
          assert.isTrue(Either.isLeft(failed))
          assert.isFalse(yield* fs.exists("/broken"), "the target it created is gone")
          // The database is fine, and a checkpoint now works.
          yield* db.put("still", "writable")
          yield* db.checkpoint("/broken")
        })
      )
      assert.strictEqual((yield* contentsOf("/broken")).get("still"), "writable")
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
})
