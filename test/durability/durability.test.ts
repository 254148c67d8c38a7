/**
 * The durability regressions of issue 10, each as its adversarial user found it: a failed
 * manifest sync, flipped bits in the last manifest and WAL records. Each fails against the code
 * before its fix.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Exit, Fiber, Option, Scope, Stream } from "effect"
import { Db, type DbService } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions } from "../../src/Options.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { readLog } from "../../src/internal/record/logReader.js"
import { text, textOf, withDb } from "../support.js"

const mem = <A, E>(effect: Effect.Effect<A, E, FileSystem | MemoryFileSystem.MemoryFileSystem | Path>) =>
  effect.pipe(Effect.provide(MemoryFileSystem.layer))

const key = (i: number) => `k${String(i).padStart(4, "0")}`

const scanAll = (db: DbService) =>
  db.scan().pipe(
    Stream.map((e) => [text(e.key), text(e.value)] as const),
    Stream.runCollect,
    Effect.map(Chunk.toArray)
  )

/** The file named by CURRENT, or the newest file whose name matches `pattern`. */
const fileOf = (dir: string, pattern: RegExp) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const names = (yield* fs.readDirectory(dir)).filter((n) => pattern.test(n)).sort()
    assert.isAbove(names.length, 0, `no file matches ${pattern}`)
    return `${dir}/${names[names.length - 1]!}`
  })

describe("a failed manifest write or sync", () => {
  for (const compaction of ["leveled", "tiered"] as const) {
    it.effect(`stops all later edits; reopen holds exactly the acknowledged writes (${compaction})`, () =>
      Effect.gen(function* () {
        // The n-th manifest sync after the open fails: a flush's, a compaction's, compactRange's.
        for (let after = 0; after < 6; after++) {
          yield* Effect.gen(function* () {
            const control = yield* MemoryFileSystem.MemoryFileSystem
            const options: DbOptions = {
              directory: "/manifest-sync",
              writeBufferSize: 4096,
              level0CompactionTrigger: 2,
              tieredMinMergeWidth: 2,
              compaction
            }
            const model = new Map<string, string>()
            const acknowledged = (k: string, v: string | undefined) => (v === undefined ? model.delete(k) : model.set(k, v))
            yield* withDb(options, (db) =>
              Effect.gen(function* () {
                yield* control.injectFault({ op: "sync", path: /MANIFEST-/, error: "EIO", after, times: 1 })
                // Every step is tried whatever failed before it, as a user who retries would.
                const tried = <A, E>(effect: Effect.Effect<A, E>) => Effect.either(effect)
                for (let i = 0; i < 40; i++) yield* tried(db.put(key(i), `a${i}`).pipe(Effect.tap(() => acknowledged(key(i), `a${i}`))))
                yield* tried(db.flush)
                for (let i = 0; i < 40; i++) yield* tried(db.put(key(i), `b${i}`).pipe(Effect.tap(() => acknowledged(key(i), `b${i}`))))
                yield* tried(db.delete(key(7)).pipe(Effect.tap(() => acknowledged(key(7), undefined))))
                yield* tried(db.flush)
                yield* tried(db.compactRange())
              })
            ).pipe(Effect.ignore)
            yield* control.clearFaults
            yield* withDb(options, (db) =>
              Effect.gen(function* () {
                const expected = [...model].sort(([a], [b]) => (a < b ? -1 : 1))
                assert.deepStrictEqual(yield* scanAll(db), expected, `manifest sync ${after} failed`)
                yield* db.compactRange()
                assert.deepStrictEqual(yield* scanAll(db), expected, `manifest sync ${after} failed, compacted`)
              })
            )
          }).pipe(Effect.provide(MemoryFileSystem.layer))
        }
      }))
  }
})

describe("a complete record that fails its checksum", () => {
  it.effect("in the MANIFEST's last record is Corruption, and no file is deleted", () =>
    mem(
      Effect.gen(function* () {
        const control = yield* MemoryFileSystem.MemoryFileSystem
        const dir = "/manifest-flip"
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 100; i++) yield* db.put(key(i), `v${i}`, { sync: true })
            yield* db.flush
            for (let i = 100; i < 110; i++) yield* db.put(key(i), `v${i}`, { sync: true })
          })
        )
        const manifest = yield* fileOf(dir, /^MANIFEST-/)
        const before = (yield* control.listFiles).map((f) => f.path).sort()
        const size = (yield* control.fileBytes(manifest)).length
        for (let bit = 0; bit < 8; bit++) {
          yield* control.flipByte(manifest, size - 1, 1 << bit)
          const opened = yield* withDb({ directory: dir }, () => Effect.void).pipe(Effect.either)
          assert.isTrue(Either.isLeft(opened) && opened.left._tag === "stratadb/Corruption", `bit ${bit}: ${String(opened)}`)
          const after = (yield* control.listFiles).map((f) => f.path).sort()
          assert.deepStrictEqual(after, before, "an open that found damage deleted or created files")
          yield* control.flipByte(manifest, size - 1, 1 << bit)
        }
        // Undamaged again: everything is there.
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 110; i++) assert.strictEqual(textOf(yield* db.get(key(i))), `v${i}`)
          })
        )
      })
    ))

  it.effect("in the WAL's last record is Corruption by default: a synced delete never comes undone", () =>
    mem(
      Effect.gen(function* () {
        const control = yield* MemoryFileSystem.MemoryFileSystem
        const dir = "/wal-flip"
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            yield* db.put("account", "balance=100")
            yield* db.flush
            yield* db.delete("account", { sync: true })
          })
        )
        const log = yield* fileOf(dir, /\.log$/)
        const size = (yield* control.fileBytes(log)).length
        for (let bit = 0; bit < 8; bit++) {
          yield* control.flipByte(log, size - 1, 1 << bit)
          const read = yield* withDb({ directory: dir }, (db) => db.get("account")).pipe(Effect.either)
          assert.isTrue(Either.isLeft(read) && read.left._tag === "stratadb/Corruption", `bit ${bit}: ${String(read)}`)
          yield* control.flipByte(log, size - 1, 1 << bit)
        }
        assert.isUndefined(textOf(yield* withDb({ directory: dir }, (db) => db.get("account"))))
      })
    ))

  it.effect("in the WAL, walRecoveryMode pointInTime opens with the records before it, reported, and keeps the log aside", () =>
    mem(
      Effect.gen(function* () {
        const control = yield* MemoryFileSystem.MemoryFileSystem
        const fs = yield* FileSystem
        const dir = "/wal-pit"
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 10; i++) yield* db.put(key(i), `v${i}`, { sync: true })
          })
        )
        const log = yield* fileOf(dir, /\.log$/)
        const bytes = yield* control.fileBytes(log)
        yield* control.flipByte(log, bytes.length - 1, 0x10)
        const stats = yield* withDb({ directory: dir, walRecoveryMode: "pointInTime" }, (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 9; i++) assert.strictEqual(textOf(yield* db.get(key(i))), `v${i}`)
            assert.isUndefined(textOf(yield* db.get(key(9))))
            return yield* db.stats
          })
        )
        assert.strictEqual(stats.recovery.walRecoveryMode, "pointInTime")
        assert.strictEqual(stats.recovery.damage.length, 1)
        const damage = stats.recovery.damage[0]!
        assert.strictEqual(damage.file, log.slice(dir.length + 1))
        assert.isAbove(damage.droppedBytes, 0)
        // The damaged log is kept aside, whole, for inspection or repair.
        const kept = yield* fs.readFile(`${dir}/lost/${damage.file}`)
        assert.strictEqual(kept.length, bytes.length)
      })
    ))
})

describe("CURRENT", () => {
  it.effect("naming a manifest that is missing is Corruption, and nothing is deleted", () =>
    mem(
      Effect.gen(function* () {
        const control = yield* MemoryFileSystem.MemoryFileSystem
        const fs = yield* FileSystem
        const dir = "/current-missing"
        yield* withDb({ directory: dir }, (db) => Effect.zipRight(db.put("a", "1"), db.flush))
        const manifest = yield* fileOf(dir, /^MANIFEST-/)
        yield* fs.rename(manifest, `${manifest}.moved`)
        const before = (yield* control.listFiles).map((f) => f.path).sort()
        const opened = yield* withDb({ directory: dir }, () => Effect.void).pipe(Effect.either)
        assert.isTrue(Either.isLeft(opened) && opened.left._tag === "stratadb/Corruption", String(opened))
        assert.deepStrictEqual((yield* control.listFiles).map((f) => f.path).sort(), before)
      })
    ))
})

/** A file system whose file writes and syncs yield first, so an interruption can land around them. */
const yieldingFileSystem = Effect.gen(function* () {
  const fs = yield* FileSystem
  const slow = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.zipRight(Effect.yieldNow(), effect)
  return FileSystem.of({
    ...fs,
    open: (path, options) =>
      Effect.map(fs.open(path, options), (file) => {
        const wrapped = Object.create(file, {
          sync: { value: slow(file.sync) },
          writeAll: { value: (bytes: Uint8Array) => slow(file.writeAll(bytes)) }
        }) as typeof file
        return wrapped
      })
  })
})

describe("interrupted writes", () => {
  it.effect("a write interrupted at any step leaves no writer stuck and no sequence taken twice", () =>
    mem(
      Effect.gen(function* () {
        const slowFs = yield* yieldingFileSystem
        for (let k = 0; k < 24; k++) {
          const dir = `/interrupted-${k}`
          yield* withDb({ directory: dir }, (db) =>
            Effect.gen(function* () {
              yield* db.put("x", "base", { sync: true })
              // Two entries: had the interrupted batch kept sequences s+1, s+2 in the log without
              // taking them, the next write (s+1) would lose to its second entry at recovery.
              const batch = WriteBatch.make().put("w", `interrupted-${k}`).put("x", `interrupted-${k}`)
              const fiber = yield* Effect.fork(db.write(batch, { sync: true }))
              for (let i = 0; i < k; i++) yield* Effect.yieldNow()
              yield* Fiber.interrupt(fiber)
              yield* db.put("x", `acknowledged-${k}`, { sync: true }).pipe(
                Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`k=${k}: the next write hung`) })
              )
              assert.strictEqual(textOf(yield* db.get("x")), `acknowledged-${k}`, `k=${k}`)
            })
          ).pipe(Effect.provideService(FileSystem, slowFs))
          // Every record in the log took its own sequences: strictly increasing, none used twice.
          let previousLast = 0
          for (const record of readLog(yield* (yield* MemoryFileSystem.MemoryFileSystem).fileBytes(yield* fileOf(dir, /\.log$/))).records) {
            const view = new DataView(record.buffer, record.byteOffset, record.byteLength)
            const first = Number(view.getBigUint64(0, true))
            assert.isAbove(first, previousLast, `k=${k}: a log record reuses sequence ${first}`)
            previousLast = first + view.getUint32(8, true) - 1
          }
          const reopened = yield* withDb({ directory: dir }, (db) => db.get("x"))
          assert.strictEqual(textOf(reopened), `acknowledged-${k}`, `k=${k}: after reopen`)
        }
      })
    ))
})

describe("a scan pulled after close", () => {
  it.scoped("fails with DbClosed, not a file-system error", () =>
    Effect.gen(function* () {
      const dbScope = yield* Scope.make()
      const db = yield* Db.make({ directory: "/scan-after-close", blockSize: 256 }).pipe(Scope.extend(dbScope))
      for (let i = 0; i < 2000; i++) yield* db.put(key(i), `v${i}`)
      yield* db.flush
      const pull = yield* Stream.toPull(db.scan())
      const first = yield* pull
      assert.isAbove(Chunk.size(first), 0)
      yield* Scope.close(dbScope, Exit.void)
      const after = yield* Effect.either(pull)
      assert.isTrue(Either.isLeft(after) && Option.isSome(after.left) && after.left.value._tag === "stratadb/DbClosed", String(after))
    }).pipe(Effect.provide(MemoryFileSystem.layer)))
})
