/**
 * The `SstableStore` service: writing tables (`create`) and reading them (`get`, `iterator`)
 * through a bounded cache of open table readers and one LRU block cache shared by all tables.
 * Format: doc/table_format.md.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem, type File } from "@effect/platform/FileSystem"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import type { Corruption } from "./errors.js"
import { DbConfig } from "./internal/dbConfig.js"
import { tableFileName } from "./internal/fileNames.js"
import type { InternalIterator } from "./internal/iter/internalIterator.js"
import type { Kind } from "./internal/key/internalKey.js"
import { BlockCache } from "./internal/table/blockCache.js"
import { TableBuilder } from "./internal/table/tableBuilder.js"
import { openTable, type ReadAtSync, type TableReader } from "./internal/table/tableReader.js"
import { hasPositionalRead, PositionalRead } from "./internal/fileCapabilities.js"
import { Buffer } from "node:buffer"
export type { TableReader }
import type { FileMeta } from "./internal/version/fileMeta.js"

export interface TableSink {
  /** Adds an entry (internal-key order). */
  readonly add: (key: string, seq: number, kind: Kind, value: Uint8Array) => void
  /** Bytes the table will have if finished now (approximately). */
  readonly estimatedSize: () => number
  readonly entries: () => number
  /** Writes the completed blocks so far to the file. */
  readonly drain: Effect.Effect<void, PlatformError>
  /** Writes the rest, syncs and closes the file; the table's metadata. */
  readonly finish: Effect.Effect<FileMeta, PlatformError>
  /** Closes and deletes the unfinished file. */
  readonly abandon: Effect.Effect<void>
}

/** The tables one reader (a scan, a compaction) keeps open while it runs. */
export type TablePins = Set<number>

export interface ReadCounters {
  bloomChecks: number
  bloomNegatives: number
  blockReads: number
}

export interface SstableStore {
  /** Starts writing table `number`. */
  readonly create: (number: number) => Effect.Effect<TableSink, PlatformError>
  /** The newest entry of `key` with sequence <= seq in the table, if any. */
  readonly get: (
    meta: FileMeta,
    key: string,
    seq: number
  ) => Effect.Effect<{ readonly kind: Kind; readonly value: Uint8Array } | undefined, Corruption | PlatformError>
  /** The table's reader when it is open already (no I/O), for synchronous point reads. */
  readonly openReader: (number: number) => TableReader | undefined
  /** An iterator over the table's entries; the table stays open until `pins` is released. */
  readonly iterator: (
    meta: FileMeta,
    pins: TablePins,
    fillCache?: boolean
  ) => Effect.Effect<InternalIterator, Corruption | PlatformError>
  /** The same without I/O, when the table is open already. */
  readonly peekIterator: (meta: FileMeta, pins: TablePins, fillCache?: boolean) => InternalIterator | undefined
  /** Releases the tables a reader pinned. */
  readonly unpin: (pins: TablePins) => Effect.Effect<void>
  /** Closes the table's reader and drops its cached blocks (before its file is deleted). */
  readonly evict: (number: number) => Effect.Effect<void>
  readonly blockCache: BlockCache
  readonly counters: ReadCounters
  readonly openTables: () => number
  /** Bytes written to tables since open. */
  readonly bytesWritten: () => number
}

export const SstableStore = Context.GenericTag<SstableStore>("stratadb/SstableStore")

interface OpenTable {
  readonly reader: TableReader
  readonly scope: Scope.CloseableScope
  /** Readers (scans, compactions) using it: it is not closed while pinned. */
  pins: number
  /** Evicted or deleted while pinned: close when the last pin goes. */
  doomed: boolean
}

export const make: Effect.Effect<SstableStore, never, DbConfig | FileSystem | Scope.Scope> = Effect.gen(function* () {
  const config = yield* DbConfig
  const fs = yield* FileSystem
  const outer = yield* Scope.Scope
  const { options } = config
  const blockCache = new BlockCache(options.blockCacheSize)
  const counters: ReadCounters = { bloomChecks: 0, bloomNegatives: 0, blockReads: 0 }
  /** Open readers in LRU order (a Map iterates in insertion order; a hit moves to the end). */
  const open = new Map<number, OpenTable>()
  const opening = new Map<number, Effect.Effect<TableReader, Corruption | PlatformError>>()
  /** Readers evicted while pinned, closed when unpinned. */
  const pinnedAway = new Map<number, OpenTable>()
  let written = 0

  const closeTable = (number: number): Effect.Effect<void> => {
    const t = open.get(number)
    if (t === undefined) return Effect.void
    open.delete(number)
    if (t.pins > 0) {
      t.doomed = true
      pinnedAway.set(number, t)
      return Effect.void
    }
    return Scope.close(t.scope, Exit.void)
  }

  /** Closes the least recently used unpinned readers while over capacity. */
  const evictOverCapacity: Effect.Effect<void> = Effect.suspend(() => {
    const victims: Array<number> = []
    let excess = open.size - options.maxOpenTables
    for (const [number, t] of open) {
      if (excess <= 0) break
      if (t.pins === 0) {
        victims.push(number)
        excess--
      }
    }
    return Effect.forEach(victims, closeTable, { discard: true })
  })

  const pin = (number: number, pins: TablePins): void => {
    if (pins.has(number)) return
    const t = open.get(number)
    if (t === undefined) return
    t.pins++
    pins.add(number)
  }

  const readAtOf = (file: File) => {
    const mutex = Effect.unsafeMakeSemaphore(1)
    return (offset: number, length: number): Effect.Effect<Uint8Array, PlatformError> =>
      mutex.withPermits(1)(
        Effect.gen(function* () {
          yield* file.seek(offset, "start")
          const buffer = new Uint8Array(length)
          let filled = 0
          while (filled < length) {
            const n = Number(yield* file.read(buffer.subarray(filled)))
            if (n === 0) break
            filled += n
          }
          return filled === length ? buffer : buffer.subarray(0, filled)
        })
      )
  }

  /** A synchronous readAt when the handle has a positional read (our own file systems). */
  const readAtSyncOf = (file: File): ReadAtSync | undefined => {
    if (!hasPositionalRead(file)) return undefined
    const pread = file[PositionalRead]
    return (offset, length, into) => {
      const target = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length)
      const n = pread.call(file, target, offset)
      return n === length ? target : target.subarray(0, n)
    }
  }

  const load = (meta: FileMeta): Effect.Effect<TableReader, Corruption | PlatformError> =>
    Effect.gen(function* () {
      const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      const name = tableFileName(meta.number)
      const reader = yield* Effect.gen(function* () {
        const file = yield* fs.open(config.file(name), { flag: "r" }).pipe(Scope.extend(scope))
        const readAtSync = readAtSyncOf(file)
        return yield* openTable({
          fileNumber: meta.number,
          fileName: name,
          fileSize: meta.size,
          readAt: readAtSync === undefined ? readAtOf(file) : (o, l) => Effect.try({ try: () => readAtSync(o, l), catch: (e) => e as PlatformError }),
          ...(readAtSync === undefined ? {} : { readAtSync }),
          cache: blockCache,
          counters
        })
      }).pipe(Effect.tapErrorCause(() => Scope.close(scope, Exit.void)))
      open.set(meta.number, { reader, scope, pins: 0, doomed: false })
      yield* evictOverCapacity
      return reader
    })

  const readerOf = (meta: FileMeta): Effect.Effect<TableReader, Corruption | PlatformError> => {
    const t = open.get(meta.number)
    if (t !== undefined) {
      open.delete(meta.number)
      open.set(meta.number, t)
      return Effect.succeed(t.reader)
    }
    const inFlight = opening.get(meta.number)
    if (inFlight !== undefined) return inFlight
    const loading = Effect.runSync(Effect.cached(load(meta).pipe(Effect.ensuring(Effect.sync(() => opening.delete(meta.number))))))
    opening.set(meta.number, loading)
    return loading
  }

  const create = (number: number): Effect.Effect<TableSink, PlatformError> =>
    Effect.gen(function* () {
      const path = config.file(tableFileName(number))
      const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      const file = yield* fs.open(path, { flag: "w" }).pipe(Scope.extend(scope))
      const builder = new TableBuilder({
        blockSize: options.blockSize,
        restartInterval: options.blockRestartInterval,
        bitsPerKey: options.bloomBitsPerKey
      })
      const writeChunks = (chunks: ReadonlyArray<Uint8Array>) =>
        Effect.forEach(chunks, (c) => {
          written += c.byteLength
          return file.writeAll(c)
        }, { discard: true })
      return {
        add: (key, seq, kind, value) => builder.add(key, seq, kind, value),
        estimatedSize: () => builder.fileSize,
        entries: () => builder.entries,
        drain: Effect.suspend(() => writeChunks(builder.takeOutput())),
        finish: Effect.gen(function* () {
          yield* writeChunks(builder.takeOutput())
          yield* writeChunks(builder.finish())
          yield* file.sync
          yield* Scope.close(scope, Exit.void)
          return builder.fileMeta(number)
        }),
        abandon: Scope.close(scope, Exit.void).pipe(Effect.zipRight(fs.remove(path)), Effect.ignore)
      } satisfies TableSink
    })

  yield* Effect.addFinalizer(() =>
    Effect.forEach([...open.values(), ...pinnedAway.values()], (t) => Scope.close(t.scope, Exit.void), { discard: true })
  )

  return SstableStore.of({
    create,
    get: (meta, key, seq) => Effect.flatMap(readerOf(meta), (r) => r.get(key, seq)),
    openReader: (number) => {
      const t = open.get(number)
      if (t === undefined) return undefined
      open.delete(number)
      open.set(number, t)
      return t.reader
    },
    iterator: (meta, pins, fillCache = true) =>
      Effect.map(readerOf(meta), (r) => {
        pin(meta.number, pins)
        return r.iterator(fillCache)
      }),
    peekIterator: (meta, pins, fillCache = true) => {
      const t = open.get(meta.number)
      if (t === undefined) return undefined
      pin(meta.number, pins)
      return t.reader.iterator(fillCache)
    },
    unpin: (pins) =>
      Effect.suspend(() => {
        const toClose: Array<Scope.CloseableScope> = []
        for (const number of pins) {
          const t = open.get(number) ?? pinnedAway.get(number)
          if (t === undefined) continue
          t.pins--
          if (t.pins === 0 && t.doomed) {
            pinnedAway.delete(number)
            toClose.push(t.scope)
          }
        }
        pins.clear()
        return Effect.forEach(toClose, (scope) => Scope.close(scope, Exit.void), { discard: true }).pipe(
          Effect.zipRight(evictOverCapacity)
        )
      }),
    evict: (number) =>
      Effect.suspend(() => {
        blockCache.evictFile(number)
        return closeTable(number)
      }),
    blockCache,
    counters,
    openTables: () => open.size + pinnedAway.size,
    bytesWritten: () => written
  })
})

export const layer: Layer.Layer<SstableStore, never, DbConfig | FileSystem> = Layer.scoped(SstableStore, make)
