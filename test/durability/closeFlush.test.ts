/**
 * A close flushes memtables worth it (`CLOSE_FLUSH_MIN_BYTES`, writer.ts), so a cleanly closed
 * database opens without replaying a full memtable; a small memtable stays in its log. Power lost
 * at any file-system call of that flush loses nothing acknowledged.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import * as BackgroundWork from "../../src/BackgroundWork.js"
import { Db } from "../../src/Db.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { CLOSE_FLUSH_MIN_BYTES } from "../../src/internal/writer.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions } from "../../src/Options.js"
import { textOf, withDb } from "../support.js"

const settings = (directory: string): DbOptions => ({ directory, writeBufferSize: 1024 * 1024, backgroundCompaction: false })
const options = settings("/close")
const key = (i: number) => `key-${String(i).padStart(5, "0")}`
const value = (i: number) => `value-${i}-`.padEnd(100, "x")
/** Puts of about 116 charged bytes each (key, value, bookkeeping). */
const entriesFor = (bytes: number) => Math.ceil(bytes / 150)

const fill = (o: DbOptions, count: number) =>
  withDb(o, (db) => Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) => db.put(key(i), value(i)), { discard: true }))

/** Reopens and answers what the open replayed, the L0 tables and whether every key reads back. */
const reopen = (o: DbOptions, count: number) =>
  withDb(o, (db) =>
    Effect.gen(function* () {
      const stats = yield* db.stats
      let missing = 0
      for (let i = 0; i < count; i++) if (textOf(yield* db.get(key(i))) !== value(i)) missing++
      return { replayed: stats.recovery.recordsReplayed, level0: stats.levels[0]!.tables, missing, work: stats.backgroundWork }
    })
  )

const backends: ReadonlyArray<readonly [string, Layer.Layer<FileSystem | Path>, "inline" | "worker", boolean]> = [
  ["MemoryFileSystem", MemoryFileSystem.layer, "inline", false],
  // The worker starts at its first job: here the close's flush (it must start inside the close).
  ["Node, background work in a worker thread", NodeSyncFileSystem.layer, "worker", true],
  ["Node, background work inline", Layer.merge(NodeSyncFileSystem.layer, BackgroundWork.inline), "inline", true]
]

for (const [name, layer, work, onDisk] of backends) {
  /** The database's options: its directory a fresh temporary one on disk. */
  const scoped = <A, E>(f: (o: DbOptions) => Effect.Effect<A, E, FileSystem | Path>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const directory = onDisk ? yield* (yield* FileSystem).makeTempDirectoryScoped({ prefix: "stratadb-close-" }) : "/close"
        return yield* f(settings(directory))
      })
    ).pipe(Effect.provide(layer))

  describe(`close (${name})`, () => {
    it.effect("flushes a memtable of CLOSE_FLUSH_MIN_BYTES or more: the next open replays nothing", () =>
      scoped((o) =>
        Effect.gen(function* () {
          const count = entriesFor(2 * CLOSE_FLUSH_MIN_BYTES)
          yield* fill(o, count)
          const after = yield* reopen(o, count)
          assert.deepStrictEqual(after, { replayed: 0, level0: 1, missing: 0, work })
        })
      ))

    it.effect("leaves a smaller memtable in its log, replayed by the next open", () =>
      scoped((o) =>
        Effect.gen(function* () {
          const count = 100
          yield* fill(o, count)
          const after = yield* reopen(o, count)
          // (the open then writes what it replayed to L0, as LevelDB's recovery does)
          assert.deepStrictEqual(after, { replayed: count, level0: 1, missing: 0, work })
        })
      ))
  })
}

describe("close (MemoryFileSystem)", () => {
  it.effect("with flushOnClose false leaves even a large memtable in its log (LevelDB's way)", () =>
    Effect.gen(function* () {
      const o: DbOptions = { ...options, flushOnClose: false }
      const count = entriesFor(2 * CLOSE_FLUSH_MIN_BYTES)
      yield* fill(o, count)
      const after = yield* reopen(o, count)
      assert.deepStrictEqual(after, { replayed: count, level0: 1, missing: 0, work: "inline" })
    }).pipe(Effect.provide(MemoryFileSystem.layer)))


  it.effect("loses nothing when the power goes off at any call of the close", () =>
    Effect.gen(function* () {
      const count = entriesFor(2 * CLOSE_FLUSH_MIN_BYTES)
      /** Opens, writes `count` keys synced, then closes with the power going off at call `crashAt` of the close (0: never). */
      const run = (crashAt: number) =>
        Effect.gen(function* () {
          const control = yield* MemoryFileSystem.MemoryFileSystem
          const scope = yield* Scope.make()
          const db = yield* Scope.extend(Db.make(options), scope)
          for (let i = 0; i < count; i++) yield* db.put(key(i), value(i), { sync: i === count - 1 })
          const before = yield* control.callCount
          if (crashAt > 0) yield* control.crashAt({ call: before + crashAt, tornWrites: true, seed: crashAt })
          yield* Scope.close(scope, Exit.void)
          const calls = (yield* control.callCount) - before
          yield* control.clearFaults
          yield* control.restart
          const after = yield* reopen(options, count)
          return { calls, after }
        }).pipe(Effect.provide(MemoryFileSystem.layer))
      const clean = yield* run(0)
      assert.strictEqual(clean.after.replayed, 0, "the clean close flushed")
      assert.isAbove(clean.calls, 5, "the close's flush makes file-system calls")
      for (let call = 1; call <= clean.calls; call++) {
        const { after } = yield* run(call)
        assert.strictEqual(after.missing, 0, `power off at call ${call} of ${clean.calls} of the close`)
      }
    }))
})
