/**
 * Crash recovery on MemoryFileSystem: power loss keeps only synced bytes (optionally a torn
 * prefix of the rest). Every write acknowledged with `sync: true` survives; without sync the
 * recovered state is a prefix of the writes; damaged bytes give `Corruption` or correct values,
 * never a wrong value.
 */
import { assert, describe, it } from "@effect/vitest"
import { FileSystem } from "@effect/platform/FileSystem"
import { Effect, Either, Option, Random } from "effect"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { LogWriter } from "../../src/internal/record/logWriter.js"
import { small, textOf, withDb } from "../support.js"

const key = (i: number) => `k${String(i).padStart(6, "0")}`
const val = (i: number) => `v${i}-${"y".repeat(i % 40)}`

/** Writes keys 0..n-1 in order, some with sync; crashes before closing. Returns the synced indices. */
const writeThenCrash = (dir: string, n: number, seed: number, torn: boolean) =>
  Effect.gen(function* () {
    const mem = yield* MemoryFileSystem.MemoryFileSystem
    const synced: Array<number> = []
    yield* Effect.scoped(
      Effect.gen(function* () {
        const db = yield* Db.make(small(dir, { writeBufferSize: 16 * 1024 }))
        for (let i = 0; i < n; i++) {
          const sync = (yield* Random.nextIntBetween(0, 10)) === 0
          yield* db.put(key(i), val(i), { sync })
          if (sync) synced.push(i)
        }
        yield* mem.crash({ tornWrites: torn, seed })
      })
    ).pipe(Effect.ignore)
    return synced
  }).pipe(Effect.withRandom(Random.make(seed)))

const checkPrefix = (dir: string, n: number, synced: ReadonlyArray<number>) =>
  withDb(small(dir), (db) =>
    Effect.gen(function* () {
      let prefix = 0
      while (prefix < n && textOf(yield* db.get(key(prefix))) === val(prefix)) prefix++
      for (let i = prefix; i < n; i++) {
        const got = textOf(yield* db.get(key(i)))
        assert.isUndefined(got, `key ${i} is present after the first missing key ${prefix}: not a prefix`)
      }
      const lastSynced = synced.length === 0 ? -1 : synced[synced.length - 1]!
      assert.isAbove(prefix, lastSynced, `synced write ${lastSynced} was lost (recovered prefix ${prefix})`)
      return prefix
    })
  )

describe("crash recovery", () => {
  for (const torn of [false, true]) {
    it.effect(`synced writes survive power loss, the rest is a prefix (torn writes: ${torn})`, () =>
      Effect.gen(function* () {
        for (let seed = 1; seed <= 6; seed++) {
          const dir = `/crash-${seed}`
          const n = 1500
          const synced = yield* writeThenCrash(dir, n, seed, torn)
          assert.isAbove(synced.length, 0)
          yield* checkPrefix(dir, n, synced)
          // Recovery is repeatable and the database stays writable.
          yield* checkPrefix(dir, n, synced)
          yield* withDb(small(dir), (db) => db.put("after", "crash", { sync: true }))
          yield* withDb(small(dir), (db) => Effect.map(db.get("after"), (v) => assert.strictEqual(textOf(v), "crash")))
        }
      }).pipe(Effect.provide(MemoryFileSystem.layer))
    )
  }

  it.effect("writes acknowledged without sync survive a close and reopen", () =>
    Effect.gen(function* () {
      // A real kill -9 (no close at all) is test/durability/kill.test.ts, on the Node file system.
      yield* withDb(small("/kill"), (db) => Effect.forEach([0, 1, 2, 3], (i) => db.put(key(i), val(i)), { discard: true }))
      yield* withDb(small("/kill"), (db) =>
        Effect.forEach([0, 1, 2, 3], (i) => Effect.map(db.get(key(i)), (v) => assert.strictEqual(textOf(v), val(i))))
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})

/**
 * Opens the db and reads every key: each read is the right value, or the open/read fails with
 * Corruption. Returns whether any Corruption was seen.
 */
const readAllOrCorruption = (dir: string, n: number, allowMissing: boolean) =>
  Effect.gen(function* () {
    let corrupt = false
    const outcome = yield* Effect.either(
      withDb(small(dir), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) {
            const got = yield* Effect.either(db.get(key(i)))
            if (Either.isLeft(got)) {
              assert.strictEqual(got.left._tag, "stratadb/Corruption", `key ${i}: ${String(got.left)}`)
              corrupt = true
              continue
            }
            const value = Option.getOrUndefined(Option.map(got.right, (b) => new TextDecoder().decode(b)))
            if (value === undefined && allowMissing) continue
            assert.strictEqual(value, val(i), `key ${i} read a wrong value`)
          }
        })
      )
    )
    if (Either.isLeft(outcome)) assert.strictEqual(outcome.left._tag, "stratadb/Corruption", String(outcome.left))
    return corrupt || Either.isLeft(outcome)
  })

describe("damaged bytes", () => {
  it.effect("a flipped byte in a table gives Corruption or the right value, never a wrong one", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const n = 400
      yield* withDb(small("/flip"), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* db.put(key(i), val(i))
          yield* db.flush
        })
      )
      const table = (yield* mem.listFiles).find((f) => f.path.endsWith(".sst"))!
      assert.isDefined(table)
      let corruptions = 0
      const step = Math.max(1, Math.floor(table.size / 120))
      for (let offset = 0; offset < table.size; offset += step) {
        yield* mem.flipByte(table.path, offset, 0x10)
        if (yield* readAllOrCorruption("/flip", n, false)) corruptions++
        yield* mem.flipByte(table.path, offset, 0x10)
      }
      // Every block is checksummed, so nearly every flip is caught (one in the footer's padding may not be).
      const trials = Math.ceil(table.size / step)
      assert.isAbove(corruptions, trials * 0.9, `${corruptions} of ${trials} flips detected`)
      // Undamaged again: everything reads back.
      assert.isFalse(yield* readAllOrCorruption("/flip", n, false))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a flipped byte in the WAL gives Corruption or a prefix, never a wrong value", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const n = 60
      // Write the WAL, then copy its bytes aside: every open replays and rewrites state, so each
      // trial starts from a fresh directory holding only the damaged WAL and its manifest.
      yield* withDb(small("/walsrc"), (db) => Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => db.put(key(i), val(i)), { discard: true }))
      const files = (yield* mem.listFiles).filter((f) => f.path.startsWith("/walsrc/"))
      const wal = files.find((f) => f.path.endsWith(".log") && f.size > 0)!
      assert.isDefined(wal)
      for (let offset = 0; offset < wal.size; offset += 37) {
        const dir = `/walflip-${offset}`
        yield* copyDir(files, "/walsrc", dir)
        yield* mem.flipByte(wal.path.replace("/walsrc", dir), offset, 0x01)
        yield* readAllOrCorruption(dir, n, true)
      }
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})

const copyDir = (files: ReadonlyArray<{ path: string }>, from: string, to: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    yield* fs.makeDirectory(to, { recursive: true })
    for (const f of files) {
      if (f.path.endsWith("/LOCK")) continue
      yield* fs.writeFile(f.path.replace(from, to), yield* fs.readFile(f.path))
    }
  })

describe("a failed log write or sync", () => {
  /**
   * Puts keys 0..n-1 (with `sync` when asked); the log fails once at put `failAt` (op `op`).
   * Returns the acknowledged keys and what the puts after the failure got.
   */
  const putThroughFailure = (dir: string, n: number, failAt: number, op: "write" | "sync", sync: boolean) =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const acked: Array<number> = []
      const failures: Array<string> = []
      yield* withDb(small(dir), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) {
            if (i === failAt) yield* mem.injectFault({ op, path: /\.log$/, error: "ENOSPC", times: 1 })
            const r = yield* Effect.either(db.put(key(i), val(i), { sync }))
            if (Either.isRight(r)) acked.push(i)
            else failures.push(r.left._tag)
          }
          // Reads still work while writes are refused.
          assert.strictEqual(textOf(yield* db.get(key(0))), val(0))
        })
      )
      return { acked, failures }
    })

  for (const [op, sync] of [["write", false], ["write", true], ["sync", true]] as const) {
    it.effect(`${op} failure (sync: ${sync}): later writes fail with it, reopening recovers every acknowledged write`, () =>
      Effect.gen(function* () {
        const dir = `/logfail-${op}-${sync}`
        const { acked, failures } = yield* putThroughFailure(dir, 400, 150, op, sync)
        // The failing put and every later one are refused; nothing after the failure was appended.
        assert.deepStrictEqual(acked, Array.from({ length: 150 }, (_, i) => i))
        assert.strictEqual(failures.length, 250)
        assert.isTrue(failures.every((tag) => tag === "SystemError"), failures.join(","))
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            for (const i of acked) assert.strictEqual(textOf(yield* db.get(key(i))), val(i), `key ${i}`)
            // A refused write is absent or, if its bytes reached the log before a failed sync, whole.
            for (let i = 151; i < 400; i++) assert.isUndefined(textOf(yield* db.get(key(i))), `key ${i}`)
            const at = textOf(yield* db.get(key(150)))
            assert.isTrue(at === undefined || at === val(150))
            // The reopened database takes writes again.
            yield* db.put("after", "reopen")
            assert.strictEqual(textOf(yield* db.get("after")), "reopen")
          })
        )
      }).pipe(Effect.provide(MemoryFileSystem.layer))
    )
  }
})

describe("directory entries", () => {
  it.effect("opening, the first synced write to each log and every flush sync the database directory", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const dir = "/dirsync"
      const syncs = mem.directorySyncs(dir)
      yield* withDb(small(dir), (db) =>
        Effect.gen(function* () {
          // Open wrote a manifest and renamed CURRENT into place.
          const opened = yield* syncs
          assert.isAtLeast(opened, 1)
          // An unsynced write needs no directory sync; the first synced one on this log does.
          yield* db.put("a", "1")
          assert.strictEqual(yield* syncs, opened)
          yield* db.put("b", "2", { sync: true })
          assert.strictEqual(yield* syncs, opened + 1)
          yield* db.put("c", "3", { sync: true })
          assert.strictEqual(yield* syncs, opened + 1)
          // A flush names a new table in the manifest only after its directory entry is durable.
          yield* db.flush
          const flushed = yield* syncs
          assert.isAtLeast(flushed, opened + 2)
          // The flush moved writes to a new log: its first synced write syncs the directory again.
          yield* db.put("d", "4", { sync: true })
          assert.strictEqual(yield* syncs, flushed + 1)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})

describe("a lost CURRENT", () => {
  it.effect("is Corruption when tables exist, and deletes nothing", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const dir = "/lost-current"
      yield* withDb(small(dir), (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 50; i++) yield* db.put(key(i), val(i))
          yield* db.flush
        })
      )
      yield* fs.remove(`${dir}/CURRENT`)
      const before = (yield* fs.readDirectory(dir)).sort()
      assert.isTrue(before.some((name) => name.endsWith(".sst")))
      const r = yield* Effect.either(withDb(small(dir), () => Effect.void))
      assert.isTrue(Either.isLeft(r) && r.left._tag === "stratadb/Corruption", String(r))
      assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), before)
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})

describe("a well-framed record that does not decode", () => {
  it.effect("is Corruption naming the log and the record's offset", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const dir = "/badbatch"
      yield* withDb(small(dir), (db) => Effect.forEach([0, 1, 2], (i) => db.put(key(i), val(i)), { discard: true }))
      const log = (yield* mem.listFiles).find((f) => f.path.startsWith(`${dir}/`) && f.path.endsWith(".log"))!
      assert.isAbove(log.size, 0)
      // A record whose checksum is right but whose batch claims 5 entries and holds none.
      const garbage = new Uint8Array(12)
      garbage[8] = 5
      yield* Effect.scoped(
        Effect.flatMap(fs.open(log.path, { flag: "a" }), (file) => file.writeAll(new LogWriter(log.size).frame(garbage)))
      )
      const r = yield* Effect.either(withDb(small(dir), () => Effect.void))
      assert.isTrue(Either.isLeft(r) && r.left._tag === "stratadb/Corruption", String(r))
      const error = (r as Either.Left<{ file: string; offset: number }, void>).left
      assert.strictEqual(`${dir}/${error.file}`, log.path)
      assert.strictEqual(error.offset, log.size)
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
