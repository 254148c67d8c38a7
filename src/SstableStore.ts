/**
 * The `SstableStore` service: writing tables (`create`) and reading them (`get`, `iterator`)
 * through a bounded cache of open table readers and one LRU block cache shared by all tables.
 * Format: doc/table_format.md.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { FileSystem, type File } from "@effect/platform/FileSystem"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import { Corruption, NotSupported } from "./errors.js"
import { DbConfig } from "./internal/dbConfig.js"
import { tableFileName } from "./internal/fileNames.js"
import type { InternalIterator } from "./internal/iter/internalIterator.js"
import type { Kind } from "./internal/key/internalKey.js"
import { BlockCache } from "./internal/table/blockCache.js"
import { TableBuilder } from "./internal/table/tableBuilder.js"
import { openTable, openTableSync, type ReadAtSync, type TableCounters, type TableReader } from "./internal/table/tableReader.js"
import { hasPositionalRead, hasSyncOpen, PositionalRead, SyncOpen, type SyncOpenedFile } from "./internal/fileCapabilities.js"

const notSynchronous = new NotSupported({
  method: "getSync",
  description: "the file system cannot open and read files synchronously (use NodeSyncFileSystem or MemoryFileSystem, or get)"
})
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

/** The counters every table reader of the store bumps. */
export type ReadCounters = TableCounters

export interface SstableStore {
  /** Starts writing table `number`. */
  readonly create: (number: number) => Effect.Effect<TableSink, PlatformError>
  /** The newest entry of `key` with sequence <= seq in the table, if any. */
  readonly get: (
    meta: FileMeta,
    key: string,
    seq: number
  ) => Effect.Effect<{ readonly kind: Kind; readonly value: Uint8Array } | undefined, Corruption | PlatformError>
  /**
   * Runs `use` with the table's reader, opening it if needed. The reader stays pinned until `use`
   * ends, so the table cache cannot close it under an asynchronous read.
   */
  readonly withReader: <A, E>(
    meta: FileMeta,
    use: (reader: TableReader) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | Corruption | PlatformError>
  /**
   * The table's reader when it is open already (no I/O), for synchronous point reads: not pinned,
   * so use it only before the next yield.
   */
  readonly openReader: (number: number) => TableReader | undefined
  /**
   * The table's reader, opening it synchronously when it is not open (for `Db.getSync`); not
   * pinned. `NotSupported` when the file system cannot open and read without effects.
   */
  readonly openReaderSync: (meta: FileMeta) => TableReader | NotSupported | Corruption | PlatformError
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

/*
 * The table cache. Open readers sit in `open` in LRU order, each with a count of the readers using
 * it. A reader is pinned in the same synchronous step that finds it (see `pinOpen`), and only
 * unpinned readers are closed for capacity, so a reader handed to a caller is never closed under
 * it. While pins hold them the cache may exceed `maxOpenTables`; it shrinks back when pins are
 * released and after each open.
 */

interface OpenTable {
  readonly reader: TableReader
  /** Closes the table's file. */
  readonly close: Effect.Effect<void>
  /** The same as a plain call, for tables `openReaderSync` opened. */
  readonly closeSync?: () => void
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
  const counters: ReadCounters = { bloomChecks: 0, bloomNegatives: 0, blockReads: 0, blockSearches: 0 }
  /** Open readers in LRU order (a Map iterates in insertion order; a hit moves to the end). */
  const open = new Map<number, OpenTable>()
  /** Opens under way, shared by the callers that wait for the same table. */
  const opening = new Map<number, Effect.Effect<void, Corruption | PlatformError>>()
  /** Readers evicted while pinned, closed when unpinned. */
  const pinnedAway = new Map<number, OpenTable>()
  let written = 0

  /** Closes the table's reader for good (its file goes): at once, or with its last pin. */
  const closeTable = (number: number): Effect.Effect<void> => {
    const t = open.get(number)
    if (t === undefined) return Effect.void
    open.delete(number)
    if (t.pins > 0) {
      t.doomed = true
      pinnedAway.set(number, t)
      return Effect.void
    }
    return t.close
  }

  /**
   * Closes the least recently used unpinned readers while over capacity. Victims leave `open` in
   * the step that picks them, so nobody can pin one between the choice and the close.
   */
  const evictOverCapacity: Effect.Effect<void> = Effect.suspend(() => {
    const victims: Array<Effect.Effect<void>> = []
    let excess = open.size - options.maxOpenTables
    for (const [number, t] of open) {
      if (excess <= 0) break
      if (t.pins === 0) {
        open.delete(number)
        victims.push(t.close)
        excess--
      }
    }
    return Effect.forEach(victims, (close) => close, { discard: true })
  })

  /** The open table, moved to the most recently used end; undefined when it is not open. */
  const touch = (number: number): OpenTable | undefined => {
    const t = open.get(number)
    if (t === undefined) return undefined
    open.delete(number)
    open.set(number, t)
    return t
  }

  /** The open table with one more pin, for one caller; undefined when it is not open. */
  const pinOpen = (number: number): OpenTable | undefined => {
    const t = touch(number)
    if (t !== undefined) t.pins++
    return t
  }

  /** Pins the table into a reader's pin set (once per set); its reader, or undefined when it is not open. */
  const pinInto = (number: number, pins: TablePins): TableReader | undefined => {
    if (pins.has(number)) return (open.get(number) ?? pinnedAway.get(number))?.reader
    const t = pinOpen(number)
    if (t !== undefined) pins.add(number)
    return t?.reader
  }

  /** Drops one pin: a doomed reader closes with its last pin, and the cache shrinks back to capacity. */
  const unpinOne = (t: OpenTable): Effect.Effect<void> =>
    Effect.suspend(() => {
      t.pins--
      if (t.pins > 0 || !t.doomed) return evictOverCapacity
      if (pinnedAway.get(t.reader.fileNumber) === t) pinnedAway.delete(t.reader.fileNumber)
      return Effect.zipRight(t.close, evictOverCapacity)
    })

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

  /**
   * Opens the table's file and reader into `open`, unpinned. Uninterruptible: a caller interrupted
   * while the file opens (a scan under `Effect.timeout`) would otherwise leave the handle open in
   * a scope nobody closes until the database does; the open finishes and the table is cached.
   */
  const load = (meta: FileMeta): Effect.Effect<void, Corruption | PlatformError> =>
    Effect.uninterruptible(Effect.gen(function* () {
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
      }).pipe(Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, Exit.void))))
      // `getSync` may have opened the table meanwhile: keep that one.
      if (open.has(meta.number)) return yield* Scope.close(scope, Exit.void)
      // No eviction here: the caller has not pinned the reader yet. It evicts once it has.
      open.set(meta.number, { reader, close: Scope.close(scope, Exit.void), pins: 0, doomed: false })
    }))

  /**
   * The table's reader, opened now if needed, with no effect and no yield (for `Db.getSync`):
   * needs a file system that opens synchronously and handles with a positional read. Not pinned:
   * use it before the next yield. The cache may exceed capacity until the next eviction.
   */
  const openReaderSync = (meta: FileMeta): TableReader | NotSupported | Corruption | PlatformError => {
    const t = touch(meta.number)
    if (t !== undefined) return t.reader
    if (!hasSyncOpen(fs)) return notSynchronous
    let file: SyncOpenedFile
    try {
      file = fs[SyncOpen](config.file(tableFileName(meta.number)))
    } catch (e) {
      if (isPlatformError(e)) return e
      throw e
    }
    const readAtSync = readAtSyncOf(file)
    if (readAtSync === undefined) {
      file.close()
      return notSynchronous
    }
    let reader: TableReader | Corruption
    try {
      reader = openTableSync({
        fileNumber: meta.number,
        fileName: tableFileName(meta.number),
        fileSize: meta.size,
        readAt: (o, l) => Effect.try({ try: () => readAtSync(o, l), catch: (e) => e as PlatformError }),
        readAtSync,
        cache: blockCache,
        counters
      })
    } catch (e) {
      file.close()
      if (isPlatformError(e)) return e
      throw e
    }
    if (reader instanceof Corruption) {
      file.close()
      return reader
    }
    const closeSync = () => file.close()
    open.set(meta.number, { reader, close: Effect.sync(closeSync), closeSync, pins: 0, doomed: false })
    evictOverCapacitySync(meta.number)
    return reader
  }

  /**
   * `evictOverCapacity` for `openReaderSync`: closes the least recently used unpinned tables that
   * close without an effect (those it opened), sparing `keep`; the rest wait for the next eviction.
   */
  const evictOverCapacitySync = (keep: number): void => {
    let excess = open.size - options.maxOpenTables
    for (const [number, t] of open) {
      if (excess <= 0) break
      if (t.pins === 0 && t.closeSync !== undefined && number !== keep) {
        open.delete(number)
        t.closeSync()
        excess--
      }
    }
  }

  /** Opens the table into the cache, sharing an open already under way; pins nothing. */
  const ensureOpen = (meta: FileMeta): Effect.Effect<void, Corruption | PlatformError> =>
    Effect.suspend(() => {
      if (open.has(meta.number)) return Effect.void
      const inFlight = opening.get(meta.number)
      if (inFlight !== undefined) return inFlight
      const loading = Effect.runSync(Effect.cached(load(meta).pipe(Effect.ensuring(Effect.sync(() => opening.delete(meta.number))))))
      opening.set(meta.number, loading)
      return loading
    })

  /**
   * Opens the table, then runs `retry` (which pins it). A caller interrupted in between leaves the
   * table open and unpinned, so the cache shrinks back to capacity then, as a pin's release would.
   */
  const openThen = <A, E>(meta: FileMeta, retry: Effect.Effect<A, E>): Effect.Effect<A, E | Corruption | PlatformError> =>
    Effect.onInterrupt(Effect.zipRight(ensureOpen(meta), retry), () => evictOverCapacity)

  /**
   * Runs `use` with the table's reader pinned. When the table is not open, it is opened and the
   * pin retried: the pin is only ever taken in the step that finds the reader open.
   */
  const withReader = <A, E>(
    meta: FileMeta,
    use: (reader: TableReader) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | Corruption | PlatformError> =>
    Effect.acquireUseRelease(
      Effect.sync(() => pinOpen(meta.number)),
      (t): Effect.Effect<A, E | Corruption | PlatformError> =>
        t === undefined ? openThen(meta, withReader(meta, use)) : use(t.reader),
      (t) => (t === undefined ? Effect.void : unpinOne(t))
    )

  /** An iterator pinned into `pins`, opening the table first when needed. */
  const iterator = (meta: FileMeta, pins: TablePins, fillCache: boolean): Effect.Effect<InternalIterator, Corruption | PlatformError> =>
    Effect.suspend(() => {
      const reader = pinInto(meta.number, pins)
      if (reader === undefined) return openThen(meta, iterator(meta, pins, fillCache))
      // Pinned: an open just done may now push older unpinned readers out.
      return Effect.as(evictOverCapacity, reader.iterator(fillCache))
    })

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
    Effect.forEach([...open.values(), ...pinnedAway.values()], (t) => t.close, { discard: true })
  )

  return SstableStore.of({
    create,
    get: (meta, key, seq) => withReader(meta, (r) => r.get(key, seq)),
    withReader,
    openReader: (number) => touch(number)?.reader,
    openReaderSync,
    iterator: (meta, pins, fillCache = true) => iterator(meta, pins, fillCache),
    peekIterator: (meta, pins, fillCache = true) => pinInto(meta.number, pins)?.iterator(fillCache),
    unpin: (pins) =>
      Effect.suspend(() => {
        const toClose: Array<Effect.Effect<void>> = []
        for (const number of pins) {
          const t = open.get(number) ?? pinnedAway.get(number)
          if (t === undefined) continue
          t.pins--
          if (t.pins === 0 && t.doomed) {
            pinnedAway.delete(number)
            toClose.push(t.close)
          }
        }
        pins.clear()
        return Effect.forEach(toClose, (close) => close, { discard: true }).pipe(
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
