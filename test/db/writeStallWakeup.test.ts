/**
 * A writer that must wait for background work (the frozen memtables are at their limit) is woken
 * by progress that lands between its decision and its wait. The background work here finishes the
 * moment the writer raises the work signal, before the writer starts waiting: the interleaving
 * that, under load, left a writer waiting forever (found as a rare hang of test/db/reads.test.ts).
 * The writer now reads `Lifecycle.changes` with its decision and waits only for a change after it.
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
import { makeWriter } from "../../src/internal/writer.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { resolve } from "../../src/Options.js"

describe("write stalls", () => {
  it.scopedLive("a writer waiting for a frozen memtable to flush is woken by a flush that completes before it waits", () =>
    Effect.gen(function* () {
      const directory = "/wakeup"
      const { fileSystem } = yield* MemoryFileSystem.make()
      yield* fileSystem.makeDirectory(directory, { recursive: true })
      const options = yield* resolve({ directory, writeBufferSize: 4096, maxImmutableMemtables: 1, backgroundCompaction: false })
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
      const memtables = (yield* Effect.provide(Memtables.Memtables, context))
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
        (key) => writer.write([{ kind: KIND_PUT, key, value, valueLength: value.byteLength }], false),
        { discard: true }
      )
      // Without the fix the writer waits forever at its second stall.
      yield* puts.pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "a writer waited forever" }))
      assert.isAbove(flushes, 2)
    }))
})
