/**
 * The writer (internal/writer.ts), over its real parts without the rest of the database.
 *
 * A writer that must wait for background work (the frozen memtables are at their limit) is woken
 * by progress that lands between its decision and its wait. The background work here finishes the
 * moment the writer raises the work signal, before the writer starts waiting: the interleaving
 * that, under load, left a writer waiting forever (found as a rare hang of test/db/reads.test.ts).
 * The writer now reads `Lifecycle.changes` with its decision and waits only for a change after it.
 *
 * A batch is committed once: a write effect run again commits a copy, since its payload takes the
 * commit's sequences and the memtable keeps it for the flush.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { Effect, Layer } from "effect"
import { DbConfig } from "../../src/internal/dbConfig.js"
import { DbState, DbStateTag } from "../../src/internal/dbState.js"
import { KIND_PUT } from "../../src/internal/key/internalKey.js"
import * as Memtables from "../../src/internal/memtable/memtables.js"
import * as Recovery from "../../src/internal/recovery.js"
import * as TableStore from "../../src/internal/table/tableStore.js"
import * as VersionSet from "../../src/internal/version/versionSet.js"
import * as Wal from "../../src/internal/wal/wal.js"
import { encodeBatch } from "../../src/internal/wal/batchCodec.js"
import { makeWriter } from "../../src/internal/writer.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { type DbOptions, resolve } from "../../src/Options.js"
import { forEachSorted, packMemtable } from "../../src/internal/background/packedRun.js"

/** The writer's parts over a fresh `MemoryFileSystem`: its state and memtables, and the context to make the writer in. */
const writerParts = (directory: string, extra: Partial<DbOptions>) =>
  Effect.gen(function* () {
    const { fileSystem } = yield* MemoryFileSystem.make()
    yield* fileSystem.makeDirectory(directory, { recursive: true })
    const options = yield* resolve({ directory, ...extra })
    const state = new DbState()
    const graph = Recovery.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(VersionSet.layer, Wal.layer, Memtables.layer, TableStore.layer)),
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(DbConfig, { options, directory, file: (name: string) => path.join(directory, name) }),
        Layer.succeed(DbStateTag, state)
      )),
      Layer.provideMerge(Layer.succeed(FileSystem, fileSystem))
    )
    const context = yield* Layer.build(graph)
    const memtables = yield* Effect.provide(Memtables.Memtables, context)
    return { options, state, context, memtables }
  })

describe("the writer", () => {
  it.scopedLive("a writer waiting for a frozen memtable to flush is woken by a flush that completes before it waits", () =>
    Effect.gen(function* () {
      const { options, state, context, memtables } = yield* writerParts("/wakeup", { writeBufferSize: 4096, maxImmutableMemtables: 1, backgroundCompaction: false })
      // Background work that is done the moment a stalled writer asks for it (its memtable full):
      // the frozen memtables are dropped (as a flush would, once its table is in the manifest) and
      // progress is announced at once. (A rotation asks too; that ask is left alone, so the frozen
      // memtable stays and the next full memtable stalls.)
      let flushes = 0
      state.work.raise = () => {
        if (memtables.mutable().approximateBytes < options.writeBufferSize) return
        for (let oldest = memtables.immutables()[0]; oldest !== undefined; oldest = memtables.immutables()[0]) {
          memtables.dropOldestImmutable(oldest)
          flushes++
        }
        state.lifecycle.notifyChange()
      }
      const writer = yield* Effect.provide(makeWriter, context)
      const value = new Uint8Array(100)
      const puts = Effect.forEach(
        Array.from({ length: 400 }, (_, i) => `key-${String(i).padStart(4, "0")}`),
        (key) => writer.write(encodeBatch([{ kind: KIND_PUT, key, value, valueLength: value.byteLength }]), false),
        { discard: true }
      )
      // Without the fix the writer waits forever at its second stall.
      yield* puts.pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "a writer waited forever" }))
      assert.isAbove(flushes, 2)
    }))

  it.scoped("a batch committed twice (its write effect run again) commits a copy: each commit keeps its own sequences", () =>
    Effect.gen(function* () {
      const { context, memtables } = yield* writerParts("/twice", {})
      const writer = yield* Effect.provide(makeWriter, context)
      const value = new Uint8Array(10).fill(7)
      const batch = encodeBatch(["a", "b", "c"].map((key) => ({ kind: KIND_PUT, key, value, valueLength: value.byteLength })))
      yield* writer.write(batch, false)
      yield* writer.write(batch, false)
      const table = memtables.mutable()
      assert.strictEqual(table.entries, 6)
      // What a flush on the worker reads (the payloads) is what the memtable holds (its chains).
      const packed: Array<[string, number]> = []
      forEachSorted(yield* packMemtable(table), [1, 2, 3, 4, 5, 6], (key, seq) => packed.push([key, seq]))
      const chains: Array<[string, number]> = []
      for (const key of table.sortedKeys()) for (let e = table.chain(key); e !== undefined; e = e.older) chains.push([key, e.seq])
      assert.deepStrictEqual(packed, chains)
      assert.deepStrictEqual(chains, [["a", 4], ["a", 1], ["b", 5], ["b", 2], ["c", 6], ["c", 3]])
    }))
})
