/**
 * Background work in a worker thread (internal/background/workerExecutor.ts), on the Node file
 * system: where it runs, what a dead worker becomes, and what closing the database during a job
 * leaves behind. The conformance, read-API and kill suites run on the worker too
 * (test/db/conformance.node.test.ts, test/durability/kill.test.ts), and again inline.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import * as path from "node:path"
import * as WorkerThreads from "node:worker_threads"
import { Cause, Context, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import * as BackgroundWork from "../../src/BackgroundWork.js"
import { Db } from "../../src/Db.js"
import { isDbError } from "../../src/errors.js"
import { BackgroundExecutor } from "../../src/internal/background/executor.js"
import { releaseSpare } from "../../src/internal/background/spareWorker.js"
import { workerLayer } from "../../src/internal/background/workerExecutor.js"
import { DbConfig } from "../../src/internal/dbConfig.js"
import { KIND_PUT } from "../../src/internal/key/internalKey.js"
import { Memtable } from "../../src/internal/memtable/memtable.js"
import * as TableStore from "../../src/internal/table/tableStore.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { resolve } from "../../src/Options.js"
import { textOf, withDb } from "../support.js"

const tempDir = Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-worker-" }))

/** The spawn of `BackgroundWork.worker`: the real background worker. */
const realSpawn = Effect.map(Effect.provide(BackgroundWork.BackgroundWork, BackgroundWork.worker), (mode) => {
  if (mode._tag !== "worker") throw new Error("BackgroundWork.worker is not a worker")
  return mode.spawn
})

/** A thread that says it is ready, then exits (code 7) when its first job arrives. */
const dyingThread = () =>
  new WorkerThreads.Worker(
    `const { parentPort } = require("node:worker_threads"); parentPort.postMessage([0]); parentPort.once("message", () => process.exit(7))`,
    { eval: true }
  )

const key = (i: number) => `key-${String(i).padStart(7, "0")}`
const value = (i: number) => Buffer.from(`value-${i}-`.padEnd(100, "x"))

/** A database on the Node file system with background work `mode`. */
const nodeWith = (mode: BackgroundWork.BackgroundWorkMode) =>
  Layer.merge(NodeSyncFileSystem.layer, Layer.succeed(BackgroundWork.BackgroundWork, mode))

describe("background work in a worker thread", () => {
  it.scoped("runs in a worker on NodeSyncFileSystem, inline when asked, and always inline on MemoryFileSystem", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const options = { directory: dir, writeBufferSize: 64 * 1024 }
      const fill = (db: Db["Type"]) =>
        Effect.gen(function* () {
          for (let i = 0; i < 3000; i++) yield* db.put(key(i), value(i))
          yield* db.flush
          yield* db.compactRange()
          return yield* db.stats
        })
      const stats = yield* withDb(options, fill)
      assert.strictEqual(stats.backgroundWork, "worker")
      assert.isAbove(stats.flushes, 1)
      assert.isAbove(stats.compactions, 0)
      // What the worker wrote reads back after a reopen, inline this time.
      const inline = yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 3000; i += 7) assert.strictEqual(textOf(yield* db.get(key(i))), value(i).toString())
          return yield* db.stats
        })).pipe(Effect.provide(Layer.merge(NodeSyncFileSystem.layer, BackgroundWork.inline)))
      assert.strictEqual(inline.backgroundWork, "inline")
      const memory = yield* withDb({ directory: "/m" }, (db) => db.stats).pipe(
        Effect.provide(Layer.merge(MemoryFileSystem.layer, BackgroundWork.worker))
      )
      assert.strictEqual(memory.backgroundWork, "inline")
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 60_000)

  it.scoped("a closed database's idle worker serves the next database opened; one whose thread died while kept does not", () =>
    Effect.gen(function* () {
      const spawn = yield* realSpawn
      const threads: Array<WorkerThreads.Worker> = []
      // A spawn of its own: no other test's spare is taken here, and this one's is taken by no other.
      const counting = (id: number) => {
        const thread = spawn(id)
        threads.push(thread)
        return thread
      }
      const fill = (directory: string) =>
        withDb({ directory, writeBufferSize: 64 * 1024 }, (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 3000; i++) yield* db.put(key(i), value(i))
            yield* db.flush
            // A compaction waits for the worker (flushes run inline while it loads): it is up at close.
            yield* db.compactRange()
            const stats = yield* db.stats
            for (let i = 0; i < 3000; i += 7) assert.strictEqual(textOf(yield* db.get(key(i))), value(i).toString())
            return stats
          })).pipe(Effect.provide(nodeWith({ _tag: "worker", spawn: counting })))
      const first = yield* fill(yield* tempDir)
      assert.strictEqual(first.backgroundWork, "worker")
      assert.strictEqual(threads.length, 1)
      const second = yield* fill(yield* tempDir)
      assert.isAbove(second.flushes, 1)
      assert.strictEqual(threads.length, 1, "the second database took the first one's thread")
      // The kept thread dies: the next database does not take it, and starts its own.
      yield* Effect.promise(() => threads[0]!.terminate())
      const third = yield* fill(yield* tempDir)
      assert.isAbove(third.flushes, 1)
      assert.isAbove(threads.length, 1)
      releaseSpare()
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 60_000)

  it.scoped("the README's way to keep background work inline on Node: BackgroundWork.inline provided closer to the database", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const inline = Db.layer({ directory }).pipe(Layer.provide(BackgroundWork.inline), Layer.provide(NodeSyncFileSystem.layer))
      assert.strictEqual((yield* Effect.flatMap(Db, (db) => db.stats).pipe(Effect.provide(inline))).backgroundWork, "inline")
      assert.strictEqual((yield* Effect.flatMap(Db, (db) => db.stats).pipe(Effect.provide(Db.layerNode({ directory })))).backgroundWork, "worker")
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 60_000)

  it.scoped("a worker that dies in a job fails that job with BackgroundDefect; the next job gets a fresh worker", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const spawn = yield* realSpawn
      let spawned = 0
      const spawnDyingFirst = (id: number) => (spawned++ === 0 ? dyingThread() : spawn(id))
      const options = yield* resolve({ directory: dir })
      // Built in the test's scope: the executor's worker lives until the scope closes.
      const config = Layer.succeed(DbConfig, { options, directory: dir, file: (name) => path.join(dir, name) })
      const context = yield* Layer.build(workerLayer(spawnDyingFirst).pipe(
        Layer.provide(TableStore.layer),
        Layer.provide(config)
      ))
      const executor = Context.get(context, BackgroundExecutor)
      // A flush does not wait for a thread that is not up (it runs inline meanwhile): start it first.
      yield* executor.start
      const table = new Memtable(1)
      for (let i = 0; i < 100; i++) table.add(key(i), i + 1, KIND_PUT, value(i))
      let number = 10
      const first = yield* Effect.exit(executor.flush(table, () => number++, []))
      if (Exit.isSuccess(first)) return assert.fail("the flush on the dying worker succeeded")
      const error = Cause.failureOption(first.cause)
      assert.isTrue(Option.isSome(error), `a failure, not ${Cause.pretty(first.cause)}`)
      assert.isTrue(isDbError(Option.getOrThrow(error)))
      assert.strictEqual(Option.getOrThrow(error)._tag, "stratadb/BackgroundDefect")
      yield* executor.start
      const meta = yield* executor.flush(table, () => number++, [])
      assert.strictEqual(spawned, 2)
      assert.strictEqual(meta?.entries, 100)
      assert.strictEqual(meta?.smallestKey, key(0))
      const fs = yield* FileSystem
      assert.strictEqual(Number((yield* fs.stat(path.join(dir, `${String(meta!.number).padStart(6, "0")}.sst`))).size), meta!.size)
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 60_000)

  it.scopedLive("flushes do not wait for a worker that is not up: they run on the database's thread meanwhile", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      // Sequential keys: compactions are trivial moves, which need no thread (one that rewrites waits for it).
      const options = { directory: dir, writeBufferSize: 64 * 1024 }
      let spawned = 0
      // A thread that never says it is ready (and exits when the close asks it to).
      const neverUp = nodeWith({
        _tag: "worker",
        spawn: () => {
          spawned++
          return new WorkerThreads.Worker(
            `const { parentPort } = require("node:worker_threads"); parentPort.on("message", () => process.exit(0))`,
            { eval: true }
          )
        }
      })
      const stats = yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 1200; i++) yield* db.put(key(i), value(i))
          yield* db.flush
          for (let i = 0; i < 1200; i += 11) assert.strictEqual(textOf(yield* db.get(key(i))), value(i).toString())
          return yield* db.stats
        })).pipe(Effect.provide(neverUp))
      assert.strictEqual(stats.backgroundWork, "worker")
      assert.isAtLeast(stats.flushes, 2)
      // Every flush's table is there: only trivial moves (no thread needed) re-levelled any.
      assert.strictEqual(stats.levels.reduce((n, l) => n + l.tables, 0), stats.flushes)
      assert.strictEqual(spawned, 1, "one start, not one per flush")
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 1200; i++) assert.strictEqual(textOf(yield* db.get(key(i))), value(i).toString(), key(i))
        }))
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 60_000)

  it.scoped("a worker that cannot start is the background error; nothing acknowledged is lost", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const options = { directory: dir, writeBufferSize: 64 * 1024 }
      const broken = nodeWith({ _tag: "worker", spawn: () => new WorkerThreads.Worker("process.exit(3)", { eval: true }) })
      const acknowledged = yield* withDb(options, (db) =>
        Effect.gen(function* () {
          let i = 0
          // Writes go on until the failed flush stops them.
          for (; i < 20_000; i++) {
            const put = yield* Effect.either(db.put(key(i), value(i)))
            if (put._tag === "Left") {
              assert.strictEqual(put.left._tag, "stratadb/BackgroundDefect")
              break
            }
          }
          const flushed = yield* Effect.either(db.flush)
          assert.strictEqual(flushed._tag, "Left")
          return i
        })).pipe(Effect.provide(broken))
      assert.isAbove(acknowledged, 0)
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < acknowledged; i++) assert.strictEqual(textOf(yield* db.get(key(i))), value(i).toString(), key(i))
        }))
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 60_000)

  it.scopedLive("closing the database during a compaction interrupts it, removes its partial outputs and waits for the thread to exit", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const fs = yield* FileSystem
      const spawn = yield* realSpawn
      const threads: Array<{ exited: boolean }> = []
      const watched = (id: number) => {
        const thread = spawn(id)
        const t = { exited: false }
        threads.push(t)
        thread.once("exit", () => (t.exited = true))
        return thread
      }
      const options = { directory: dir, writeBufferSize: 1 << 20, backgroundCompaction: false }
      const tables = () => Effect.map(fs.readDirectory(dir), (names) => names.filter((n) => n.endsWith(".sst")).sort())
      // Enough data that compacting it all takes a while.
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 120_000; i++) yield* db.put(key((i * 7919) % 120_000), value(i))
          yield* db.flush
        }))
      const before = yield* tables()
      assert.isAbove(before.length, 4)
      const scope = yield* Scope.make()
      const db = yield* Db.make(options).pipe(Scope.extend(scope), Effect.provide(nodeWith({ _tag: "worker", spawn: watched })))
      const compaction = yield* Effect.fork(Effect.either(db.compactRange()))
      // Wait for the first output file, then close mid-job.
      while ((yield* tables()).length === before.length) yield* Effect.sleep("2 millis")
      yield* Scope.close(scope, Exit.void)
      const result = yield* Fiber.join(compaction)
      assert.deepStrictEqual(result._tag === "Left" ? result.left._tag : "Right", "stratadb/DbClosed")
      assert.strictEqual(threads.length, 1)
      assert.isTrue(threads[0]!.exited, "the worker thread exited before the close returned")
      // No output is left, finished or not: the tables on disk are the inputs, all still named.
      const after = yield* tables()
      assert.deepStrictEqual(after, before, "the compaction's outputs were removed")
      const stats = yield* withDb(options, (reopened) => reopened.stats).pipe(Effect.provide(Layer.merge(NodeSyncFileSystem.layer, BackgroundWork.inline)))
      const named = stats.levels.reduce((n, l) => n + l.tables, 0)
      assert.strictEqual(after.length, named, `tables on disk ${after.join(",")}; the compaction ${result._tag}`)
      yield* withDb(options, (reopened) =>
        Effect.gen(function* () {
          for (let i = 0; i < 120_000; i += 997) assert.isTrue(Option.isSome(yield* reopened.get(key(i))), key(i))
        }))
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)), 120_000)
})
