/**
 * Opening a database: the services composed, recovery, the background fiber, and the public
 * operations on top. Closing the scope closes everything in reverse: new operations fail with
 * `DbClosed`, the write in progress finishes, the background fiber stops, files close, the
 * LOCK is released.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { Buffer } from "node:buffer"
import { Path } from "@effect/platform/Path"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Either, Layer, Option, type Scope } from "effect"
import * as Compactor from "./compaction/compactor.js"
import { BackgroundWork } from "../BackgroundWork.js"
import { BackgroundExecutor as BackgroundExecutorTag, type BackgroundExecutor, inlineLayer } from "./background/executor.js"
import { workerLayer } from "./background/workerExecutor.js"
import { hasNodeFiles } from "./fs/fileCapabilities.js"
import type { ApproximateSizeOptions, Bytes, CheckpointOptions, CheckpointResult, DbService, DeleteRangeOptions, ReadOptions, ScanOptions, Snapshot, WriteOptions } from "../Db.js"
import { DbClosed, type DbError, InvalidArgument } from "../errors.js"
import * as VersionSet from "./version/versionSet.js"
import * as Memtables from "./memtable/memtables.js"
import { resolve, type DbOptions } from "../Options.js"
import * as TableStore from "./table/tableStore.js"
import type { DbStats } from "../Stats.js"
import * as Wal from "./wal/wal.js"
import type { BatchOp, WriteBatch } from "../WriteBatch.js"
import { DbConfig } from "./dbConfig.js"
import { DbState, DbStateTag } from "./dbState.js"
import { makeDirectoryDurably } from "./fs/fileIo.js"
import { CURRENT_FILE_NAME, LOCK_FILE_NAME } from "./fs/fileNames.js"
import { acquireLock } from "./fs/lock.js"
import { makePointRead } from "./pointRead.js"
import * as Recovery from "./recovery.js"
import { makeScan } from "./scan.js"
import * as Snapshots from "./snapshot.js"
import {
  encodeOps,
  READ_OPTION_FIELDS,
  readOptions,
  reasonOf,
  resolveBatch,
  resolveBound,
  resolveDelete,
  resolveKey,
  resolvePut,
  resolveWriteOptions
} from "./validate.js"
import { levelBytes, levelRawBytes } from "./version/version.js"
import type { ResolvedOp } from "./wal/batchCodec.js"
import { yieldToEventLoop } from "./realSleep.js"
import { makeWriter } from "./writer.js"
import { compactionScores } from "./compaction/pick.js"
import * as DbMetrics from "./metrics/dbMetrics.js"
import { startPublishing } from "./metrics/publisher.js"
import { approximateSize as approximateSizeOf } from "./approximateSize.js"
import { checkpoint as checkpointTo } from "./checkpoint.js"

export const makeDb = (
  options: DbOptions
): Effect.Effect<DbService, DbError, FileSystem | Path | Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = yield* resolve(options)
    const path = yield* Path
    const directory = path.resolve(resolved.directory)
    yield* Effect.annotateCurrentSpan("directory", directory)
    const metrics = yield* DbMetrics.make(directory)
    yield* checkExistence(directory, path.join(directory, CURRENT_FILE_NAME), resolved)
    yield* makeDirectoryDurably(directory, path.dirname)
    yield* acquireLock(directory, path.join(directory, LOCK_FILE_NAME))

    // The layer graph: the base, the four storage services, the recovery (the compactor depends on
    // it, so it runs before background work starts), the compactor; then the service on top.
    const base = Layer.mergeAll(
      Layer.succeed(DbConfig, { options: resolved, directory, file: (name: string) => path.join(directory, name) }),
      Layer.sync(DbStateTag, () => new DbState()),
      Layer.succeed(DbMetrics.DbMetricsTag, metrics)
    )
    const storage = Layer.mergeAll(VersionSet.layer, Wal.layer, Memtables.layer, TableStore.layer)
    const executor = yield* executorLayer
    const engine = Compactor.layer.pipe(
      Layer.provideMerge(Recovery.layer),
      Layer.provideMerge(executor),
      Layer.provideMerge(storage),
      Layer.provideMerge(base)
    )
    return yield* Layer.build(engine).pipe(Effect.flatMap((context) => Effect.provide(makeService, context)))
  }).pipe(Effect.withSpan("stratadb.open"))

/** The executor of background work: the worker where it is asked for and can run (see BackgroundWork.ts). */
const executorLayer: Effect.Effect<Layer.Layer<BackgroundExecutor, never, DbConfig | TableStore.TableStore>, never, FileSystem> = Effect.gen(function* () {
  const work = yield* Effect.serviceOption(BackgroundWork)
  const fs = yield* FileSystem
  return Option.isSome(work) && work.value._tag === "worker" && hasNodeFiles(fs)
    ? workerLayer(work.value.spawn)
    : inlineLayer
})

/** The public operations over the engine's services, each taken from the context once. */
const makeService: Effect.Effect<
  DbService,
  never,
  | DbConfig
  | DbStateTag
  | VersionSet.VersionSet
  | Wal.Wal
  | Memtables.Memtables
  | TableStore.TableStore
  | BackgroundExecutor
  | Compactor.Compactor
  | DbMetrics.DbMetricsTag
  | FileSystem
  | Path
  | Scope.Scope
> = Effect.gen(function* () {
    const config = yield* DbConfig
    const resolved = config.options
    const state = yield* DbStateTag
    const versions = yield* VersionSet.VersionSet
    const wal = yield* Wal.Wal
    const memtables = yield* Memtables.Memtables
    const store = yield* TableStore.TableStore
    const compactor = yield* Compactor.Compactor
    const executor = yield* BackgroundExecutorTag
    const metrics = yield* DbMetrics.DbMetricsTag

    const writer = yield* makeWriter
    const { read: pointRead, readSync } = yield* makePointRead

    // Closing: no operation starts any more, the write in progress finishes, then a memtable worth
    // it is flushed (with those frozen before it) while the background fibers and the executor
    // still run (their scopes close after this one), so the next open has little log to replay.
    // A failure there loses nothing: the logs stay until a flush succeeds.
    // (`flushOne` itself refuses after a background error.)
    // Metrics are published from here on; their last publish runs after the close below.
    yield* startPublishing(metrics, statsNow, state.counters)
    // Until none is left: one whose flush the background fibers began is waited for (their scopes
    // close after this one).
    const flushImmutables: Effect.Effect<void, DbError> = Effect.suspend(() => {
      if (memtables.immutables().length === 0) return Effect.void
      const seen = state.lifecycle.changes
      return Effect.flatMap(compactor.flushOne, (flushed) =>
        flushed ? flushImmutables : Effect.zipRight(state.lifecycle.awaitChangeSince(seen), flushImmutables))
    })
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        state.lifecycle.closed = true
        state.lifecycle.notifyChange()
        // Interruptible as in the flush fiber (a finalizer runs masked): the worker executor races
        // the thread's start against its death, and a race must be able to interrupt its loser.
        return writer.idle.pipe(
          Effect.zipRight(writer.sealForClose),
          Effect.flatMap((sealed) => (sealed ? Effect.interruptible(flushImmutables) : Effect.void)),
          Effect.ignore
        )
      })
    )

    const closed = (method: string) => Effect.fail(new DbClosed({ method }))

    /** `effect`, after a yield when a run of foreground work has had its slice (`DbState.yieldDue`). */
    const yieldingTo = <A, E>(effect: Effect.Effect<A, E>, entries = 1): Effect.Effect<A, E> =>
      state.slice.yieldDue(entries) ? Effect.zipRight(yieldToEventLoop, effect) : effect

    /** This open database's identity: the snapshots it makes belong to it (`snapshot.ts`). */
    const self: object = {}

    /** The sequence of the snapshot the options give (read once, guarded), undefined for none (the latest), or why not. */
    const readSnapshot = (method: string, options: ReadOptions | undefined): number | undefined | InvalidArgument => {
      const o = readOptions(method, options, READ_OPTION_FIELDS)
      if (o instanceof InvalidArgument) return o
      if (o.snapshot === undefined) return undefined
      const sequence = Snapshots.sequenceOf(self, o.snapshot)
      if (sequence === "foreign") {
        return new InvalidArgument({ method, description: "options.snapshot is not a snapshot of this database" })
      }
      if (sequence === "released") {
        return new InvalidArgument({ method, description: "the snapshot was released" })
      }
      return sequence
    }

    /** The sequence a read reads at: the snapshot's, or the latest visible now. */
    const readSequence = (method: string, options: ReadOptions | undefined): number | InvalidArgument => {
      const snapshot = readSnapshot(method, options)
      return snapshot === undefined ? state.sequences.visible : snapshot
    }

    const get = (key: Bytes, options?: ReadOptions) =>
      Effect.suspend((): Effect.Effect<Option.Option<Uint8Array>, DbError> => {
        if (state.lifecycle.closed) return closed("get")
        const k = resolveKey("get", key, resolved.maxKeySize)
        if (typeof k !== "string") return Effect.fail(k)
        const snapshot = readSnapshot("get", options)
        if (snapshot instanceof InvalidArgument) return Effect.fail(snapshot)
        if (!state.slice.yieldDue()) return pointRead(k, snapshot)
        // The read starts after the yield (at the sequence visible then, unless a snapshot fixes it),
        // so an interruption during the yield leaves nothing pinned.
        return Effect.zipRight(
          yieldToEventLoop,
          Effect.suspend((): Effect.Effect<Option.Option<Uint8Array>, DbError> => (state.lifecycle.closed ? closed("get") : pointRead(k, snapshot)))
        )
      })

    const getMany = (keys: ReadonlyArray<Bytes>, options?: ReadOptions) =>
      Effect.suspend((): Effect.Effect<Array<Option.Option<Uint8Array>>, DbError> => {
        if (state.lifecycle.closed) return closed("getMany")
        const resolvedKeys: Array<string> = []
        try {
          if (!Array.isArray(keys)) {
            return Effect.fail(new InvalidArgument({ method: "getMany", description: "keys must be an array" }))
          }
          // By index, each element read once (not through a possibly replaced iterator).
          const n = keys.length
          for (let i = 0; i < n; i++) {
            const k = resolveKey("getMany", keys[i], resolved.maxKeySize)
            if (typeof k !== "string") return Effect.fail(k)
            resolvedKeys.push(k)
          }
        } catch (e) {
          return Effect.fail(new InvalidArgument({ method: "getMany", description: `reading keys threw: ${reasonOf(e)}` }))
        }
        const seq = readSequence("getMany", options)
        if (typeof seq !== "number") return Effect.fail(seq)
        // One point in time for every key: the sequence is pinned while the reads wait for I/O, so
        // compaction keeps the versions they read.
        return Effect.acquireUseRelease(
          Effect.sync(() => state.sequences.pin(seq)),
          () => Effect.forEach(resolvedKeys, (k) => pointRead(k, seq)),
          () => Effect.sync(() => state.sequences.unpin(seq))
        )
      })

    const getSync = (key: Bytes, options?: ReadOptions): Either.Either<Option.Option<Uint8Array>, DbError> => {
      if (state.lifecycle.closed) return Either.left(new DbClosed({ method: "getSync" }))
      const k = resolveKey("getSync", key, resolved.maxKeySize)
      if (typeof k !== "string") return Either.left(k)
      const snapshot = readSnapshot("getSync", options)
      if (snapshot instanceof InvalidArgument) return Either.left(snapshot)
      const answer = readSync(k, snapshot)
      return Option.isOption(answer) ? Either.right(answer) : Either.left(answer)
    }

    const has = (key: Bytes, options?: ReadOptions): Effect.Effect<boolean, DbError> => Effect.map(get(key, options), Option.isSome)

    const hasMany = (keys: ReadonlyArray<Bytes>, options?: ReadOptions): Effect.Effect<Array<boolean>, DbError> =>
      Effect.map(getMany(keys, options), (values) => values.map(Option.isSome))

    // Validation is pure, so it runs when the effect is built; the write runs when it is run.
    // Keys and values are copied then, into the batch payload (`validate.ts` `encodeOps`), so
    // later changes to the caller's buffers do not change what is written.
    const put = (key: Bytes, value: Bytes, options?: WriteOptions): Effect.Effect<void, DbError> => {
      const o = resolveWriteOptions("put", options)
      if (o instanceof InvalidArgument) return Effect.fail(o)
      const op = resolvePut("put", key, value, resolved.maxKeySize, resolved.maxValueSize)
      if (op instanceof InvalidArgument) return Effect.fail(op)
      const batch = encodeOps("put", [op])
      if (batch instanceof InvalidArgument) return Effect.fail(batch)
      return yieldingTo(writer.write(batch, o.sync, metrics.put))
    }

    const del = (key: Bytes, options?: WriteOptions): Effect.Effect<void, DbError> => {
      const o = resolveWriteOptions("delete", options)
      if (o instanceof InvalidArgument) return Effect.fail(o)
      const op = resolveDelete("delete", key, resolved.maxKeySize)
      if (op instanceof InvalidArgument) return Effect.fail(op)
      const batch = encodeOps("delete", [op])
      if (batch instanceof InvalidArgument) return Effect.fail(batch)
      return yieldingTo(writer.write(batch, o.sync, metrics.delete))
    }

    // Like `put`, the batch (a `WriteBatch` or a hand-built `{ ops }`) is read and its bytes copied
    // when the effect is built: operations added to it or buffers changed afterwards do not count.
    const write = (batch: WriteBatch | ReadonlyArray<BatchOp>, options?: WriteOptions): Effect.Effect<void, DbError> => {
      const o = resolveWriteOptions("write", options)
      if (o instanceof InvalidArgument) return Effect.fail(o)
      const ops: Array<ResolvedOp> | InvalidArgument = resolveBatch("write", batch, resolved.maxKeySize, resolved.maxValueSize)
      if (ops instanceof InvalidArgument) return Effect.fail(ops)
      if (ops.length === 0) return Effect.suspend(() => (state.lifecycle.closed ? closed("write") : Effect.void))
      const encoded = encodeOps("write", ops)
      if (encoded instanceof InvalidArgument) return Effect.fail(encoded)
      return yieldingTo(writer.write(encoded, o.sync, metrics.write), ops.length)
    }

    const snapshot: Effect.Effect<Snapshot, DbError, Scope.Scope> = Effect.acquireRelease(
      Effect.suspend(() => {
        if (state.lifecycle.closed) return closed("snapshot")
        const sequence = state.sequences.visible
        state.sequences.pin(sequence)
        return Effect.succeed(Snapshots.make(self, sequence))
      }),
      (s) => Effect.sync(() => state.sequences.unpin(Snapshots.release(s)))
    )

    /** Waits until every memtable frozen so far is in a table. */
    const awaitFlushed = (target: number): Effect.Effect<void, DbError> =>
      Effect.suspend(() => {
        const seen = state.lifecycle.changes
        if (state.lifecycle.backgroundError !== undefined) return Effect.fail(state.lifecycle.backgroundError)
        const pendingOldest = memtables.immutables()[0]
        if (pendingOldest === undefined || pendingOldest.logNumber > target) return Effect.void
        if (state.lifecycle.closed) return closed("flush")
        state.work.raise()
        return state.lifecycle.awaitChangeSince(seen).pipe(Effect.zipRight(awaitFlushed(target)))
      })

    const flush: Effect.Effect<void, DbError> = Effect.suspend(() => {
      if (state.lifecycle.closed) return closed("flush")
      return writer.rotate.pipe(
        Effect.zipRight(
          Effect.suspend(() => {
            const imms = memtables.immutables()
            return imms.length === 0 ? Effect.void : awaitFlushed(imms[imms.length - 1]!.logNumber)
          })
        )
      )
    })

    const stats: Effect.Effect<DbStats, DbError> = Effect.suspend(() =>
      state.lifecycle.closed ? closed("stats") : Effect.succeed(statsNow())
    )

    /** What `stats` reports, now (the metrics publisher reads it at close too). A declaration: used above. */
    function statsNow(): DbStats {
      const version = versions.current()
      const scores = compactionScores(version, resolved)
      const walBytes = wal.bytesWritten()
      const written = walBytes + state.counters.flushBytesWritten + state.counters.compactionBytesWritten
      const memtableBytes = memtables.bytes()
      const tableMetadataBytes = store.tableMetadataBytes()
      return {
        levels: version.levels.map((files, level) => ({
          level,
          tables: files.length,
          bytes: levelBytes(files),
          rawBytes: levelRawBytes(files),
          score: scores[level] ?? 0,
          bytesWritten: state.counters.levelBytesWritten[level] ?? 0,
          bytesRead: state.counters.levelBytesRead[level] ?? 0
        })),
        memtableBytes,
        backgroundWork: executor.kind,
        immutableMemtables: memtables.immutables().length,
        lastSequence: state.sequences.visible,
        userBytesWritten: state.counters.userBytesWritten,
        walBytesWritten: walBytes,
        flushBytesWritten: state.counters.flushBytesWritten,
        compactionBytesWritten: state.counters.compactionBytesWritten,
        compactionBytesRead: state.counters.compactionBytesRead,
        writeAmplification: state.counters.userBytesWritten === 0 ? 0 : written / state.counters.userBytesWritten,
        flushes: state.counters.flushes,
        compactions: state.counters.compactions,
        seekCompactions: state.counters.seekCompactions,
        stallMicros: state.counters.stallMicros,
        slowdowns: state.counters.slowdowns,
        blockCache: {
          hits: store.blockCache.hits,
          misses: store.blockCache.misses,
          usage: store.blockCache.usage,
          capacity: store.blockCache.capacity
        },
        openTables: store.openTables(),
        bloomChecks: store.counters.bloomChecks,
        bloomNegatives: store.counters.bloomNegatives,
        tableReads: state.counters.tableReads,
        gets: state.counters.gets,
        tablesReadPerGet: state.counters.gets === 0 ? 0 : state.counters.tableReads / state.counters.gets,
        recovery: state.counters.recovery,
        memory: {
          memtables: memtableBytes,
          blockCache: store.blockCache.usage,
          tableMetadata: tableMetadataBytes,
          total: memtableBytes + store.blockCache.usage + tableMetadataBytes,
          budget: resolved.memoryBudget
        }
      }
    }

    const { cursor, scan } = yield* makeScan((o) => readSequence("scan", o))

    /**
     * Deletes, chunk by chunk, the keys a cursor opened at the start sees, sparing every key
     * written since (the writer records them in a watcher registered before the cursor opens).
     */
    const deleteRange = (options?: DeleteRangeOptions): Effect.Effect<void, DbError> =>
      Effect.suspend(() => {
        if (state.lifecycle.closed) return closed("deleteRange")
        const o = readOptions("deleteRange", options, DELETE_RANGE_FIELDS)
        if (o instanceof InvalidArgument) return Effect.fail(o)
        const w = resolveWriteOptions("deleteRange", o.sync === undefined ? undefined : { sync: o.sync })
        if (w instanceof InvalidArgument) return Effect.fail(w)
        const range: Record<string, unknown> = {}
        for (const f of ["gt", "gte", "lt", "lte", "prefix", "reverse", "limit"] as const) if (o[f] !== undefined) range[f] = o[f]
        const written = new Set<string>()
        return Effect.scoped(
          Effect.gen(function* () {
            yield* writer.watchWrites(written)
            const c = yield* cursor({ ...(range as ScanOptions), keys: true, values: false })
            for (;;) {
              const entries = yield* c.next(DELETE_RANGE_CHUNK)
              if (entries.length === 0) break
              const keys = entries.map((e) => Buffer.from(e.key.buffer, e.key.byteOffset, e.key.byteLength).toString("latin1"))
              yield* writer.deleteUnwritten(keys, written, w.sync)
              // A long range lets other fibers in between its chunks.
              yield* Effect.yieldNow()
            }
          })
        )
      }).pipe(Effect.mapError((e) => (e instanceof InvalidArgument && e.method === "scan" ? new InvalidArgument({ method: "deleteRange", description: e.description }) : e)))

    const compactRange = (start?: Bytes, end?: Bytes): Effect.Effect<void, DbError> =>
      Effect.suspend(() => {
        if (state.lifecycle.closed) return closed("compactRange")
        const lo = resolveBound("compactRange", "start", start)
        const hi = resolveBound("compactRange", "end", end)
        if (lo instanceof InvalidArgument) return Effect.fail(lo)
        if (hi instanceof InvalidArgument) return Effect.fail(hi)
        if (lo !== undefined && hi !== undefined && lo > hi) {
          return Effect.fail(new InvalidArgument({ method: "compactRange", description: "start is after end" }))
        }
        // Whatever is in memtables goes to tables first, so the range compacts completely.
        return flush.pipe(
          Effect.zipRight(compactor.compactRange(lo, hi)),
          // Closing the database stops the compaction under this caller.
          Effect.catchAllCause((cause) => (state.lifecycle.closed ? closed("compactRange") : Effect.failCause(cause)))
        )
      })

    const approximateSize = (start?: Bytes, end?: Bytes, options?: ApproximateSizeOptions): Effect.Effect<number, DbError> =>
      Effect.suspend(() => {
        if (state.lifecycle.closed) return closed("approximateSize")
        const lo = resolveBound("approximateSize", "start", start)
        const hi = resolveBound("approximateSize", "end", end)
        if (lo instanceof InvalidArgument) return Effect.fail(lo)
        if (hi instanceof InvalidArgument) return Effect.fail(hi)
        const o = readOptions("approximateSize", options, ["includeMemtables"] as const)
        if (o instanceof InvalidArgument) return Effect.fail(o)
        if (o.includeMemtables !== undefined && typeof o.includeMemtables !== "boolean") {
          return Effect.fail(new InvalidArgument({ method: "approximateSize", description: "options.includeMemtables must be a boolean" }))
        }
        if (lo !== undefined && hi !== undefined && lo > hi) return Effect.succeed(0)
        return approximateSizeOf({ versions, store, memtables }, { start: lo, end: hi }, o.includeMemtables === true)
      })

    const fileSystem = yield* FileSystem
    const path = yield* Path
    const checkpoint = (target: string, options?: CheckpointOptions): Effect.Effect<CheckpointResult, DbError> =>
      Effect.suspend(() => {
        if (state.lifecycle.closed) return closed("checkpoint")
        const o = readOptions("checkpoint", options, ["link", "onProgress"] as const)
        if (o instanceof InvalidArgument) return Effect.fail(o)
        if (o.link !== undefined && typeof o.link !== "boolean") {
          return Effect.fail(new InvalidArgument({ method: "checkpoint", description: "options.link must be a boolean" }))
        }
        if (o.onProgress !== undefined && typeof o.onProgress !== "function") {
          return Effect.fail(new InvalidArgument({ method: "checkpoint", description: "options.onProgress must be a function" }))
        }
        const onProgress = o.onProgress as CheckpointOptions["onProgress"]
        return checkpointTo({ fs: fileSystem, path, directory: config.directory, versions, flush }, target, { link: o.link !== false, onProgress })
      })

    return {
      get,
      getMany,
      getSync,
      has,
      hasMany,
      put,
      delete: del,
      write,
      deleteRange,
      scan,
      cursor,
      snapshot,
      flush,
      compactRange,
      approximateSize,
      checkpoint,
      stats
    } satisfies DbService
  })


const DELETE_RANGE_FIELDS = ["gt", "gte", "lt", "lte", "prefix", "reverse", "limit", "sync"] as const
/** Keys deleted per batch by `deleteRange`. */
const DELETE_RANGE_CHUNK = 1000

/**
 * `createIfMissing` and `errorIfExists`: a database exists when its directory holds a CURRENT.
 * Checked before anything is created, so a refused open leaves the disk as it was.
 */
const checkExistence = (
  directory: string,
  current: string,
  options: { readonly createIfMissing: boolean; readonly errorIfExists: boolean }
): Effect.Effect<void, InvalidArgument | PlatformError, FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const exists = yield* fs.exists(current)
    if (!exists && !options.createIfMissing) {
      return yield* new InvalidArgument({ method: "open", description: `${directory} holds no database (createIfMissing is false)` })
    }
    if (exists && options.errorIfExists) {
      return yield* new InvalidArgument({ method: "open", description: `${directory} holds a database already (errorIfExists is true)` })
    }
  })
