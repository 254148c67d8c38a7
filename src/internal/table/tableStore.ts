/**
 * The `TableStore` service: the database's tables. Writing one (`create`: a `TableBuilder`
 * streamed to its file), and reading them through the table cache (internal/table/tableCache.ts:
 * `acquire`/`release` for point reads, `iterator` for scans and compactions) over one LRU block
 * cache shared by all tables (whose policy internal/table/blockFetch.ts owns).
 * Format: doc/table_format.md.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import { compressionForLevel, tableMetadataBudget } from "../../Options.js"
import { DbConfig } from "../dbConfig.js"
import { tableFileName } from "../fs/fileNames.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import type { Kind } from "../key/internalKey.js"
import { BlockCache } from "./blockCache.js"
import { makeTableCache, type TableCache, type TablePins } from "./tableCache.js"
import { TableBuilder } from "./tableBuilder.js"
import type { TableError } from "./tableFile.js"
import type { TableCounters } from "./tableReader.js"
import type { FileMeta } from "../version/fileMeta.js"

export type { TablePins }

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

/** The counters every table reader of the store bumps. */
export type ReadCounters = TableCounters

export interface TableStore {
  /**
   * Starts writing table `number`, for `level` (which picks its compression,
   * `compressionForLevel`); 0 when not given, as for a flush.
   */
  readonly create: (number: number, level?: number) => Effect.Effect<TableSink, PlatformError>
  /** Deletes a table written but never named by the manifest (the outputs of a failed job). */
  readonly discard: (number: number) => Effect.Effect<void>
  /**
   * Writes table `number` with `write`, which finishes the sink; the unfinished file is abandoned
   * if `write` fails or is interrupted, including right after the file is created. `level` as for
   * `create`.
   */
  readonly writeTable: <A, E>(
    number: number,
    write: (sink: TableSink) => Effect.Effect<A, E>,
    level?: number
  ) => Effect.Effect<A, E | PlatformError>
  /** The table cache's lookup: the table's reader, pinned until `release` (see `TableCache`). */
  readonly acquire: TableCache["acquire"]
  readonly release: TableCache["release"]
  /**
   * An iterator over the table's entries (filling the block cache unless `fillCache` is false);
   * the table stays open until `pins` is released.
   */
  readonly iterator: (meta: FileMeta, pins: TablePins, fillCache?: boolean) => Effect.Effect<InternalIterator, TableError>
  /** The same now, when the table is open or opens synchronously. */
  readonly peekIterator: (meta: FileMeta, pins: TablePins, fillCache?: boolean) => InternalIterator | undefined
  /** Releases the tables a reader pinned. */
  readonly unpin: TableCache["unpin"]
  /** Closes the table's reader and drops its cached blocks (before its file is deleted). */
  readonly evict: TableCache["evict"]
  readonly blockCache: BlockCache
  readonly counters: ReadCounters
  readonly openTables: () => number
  /** Estimated bytes of metadata (filters, indexes, properties) the open tables keep in memory. */
  readonly tableMetadataBytes: () => number
}

export const TableStore = Context.GenericTag<TableStore>("stratadb/TableStore")

export const make: Effect.Effect<TableStore, never, DbConfig | FileSystem | Scope.Scope> = Effect.gen(function* () {
  const config = yield* DbConfig
  const fs = yield* FileSystem
  const outer = yield* Scope.Scope
  const { options } = config
  const blockCache = new BlockCache(options.blockCacheSize)
  const counters: ReadCounters = { bloomChecks: 0, bloomNegatives: 0, blockReads: 0, blockSearches: 0 }
  const tables = makeTableCache({
    fs,
    path: (name) => config.file(name),
    maxOpenTables: options.maxOpenTables,
    maxResidentBytes: tableMetadataBudget(options),
    blockCache,
    counters,
    scope: outer
  })

  const create = (number: number, level = 0): Effect.Effect<TableSink, PlatformError> =>
    Effect.gen(function* () {
      const path = config.file(tableFileName(number))
      const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      const file = yield* fs.open(path, { flag: "w" }).pipe(Scope.extend(scope))
      const builder = new TableBuilder({
        blockSize: options.blockSize,
        restartInterval: options.blockRestartInterval,
        bitsPerKey: options.bloomBitsPerKey,
        compression: compressionForLevel(options, level)
      })
      const writeChunks = (chunks: ReadonlyArray<Uint8Array>) => Effect.forEach(chunks, (c) => file.writeAll(c), { discard: true })
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

  yield* Effect.addFinalizer(() => tables.closeAll)

  const writeTable = <A, E>(
    number: number,
    write: (sink: TableSink) => Effect.Effect<A, E>,
    level = 0
  ): Effect.Effect<A, E | PlatformError> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(create(number, level), (sink) => restore(write(sink)).pipe(Effect.onError(() => sink.abandon)))
    )

  const discard = (number: number): Effect.Effect<void> => fs.remove(config.file(tableFileName(number))).pipe(Effect.ignore)

  return TableStore.of({
    create,
    discard,
    writeTable,
    acquire: tables.acquire,
    release: tables.release,
    iterator: (meta, pins, fillCache = true) => tables.iterator(meta, pins, fillCache),
    peekIterator: (meta, pins, fillCache = true) => tables.peekIterator(meta, pins, fillCache),
    unpin: tables.unpin,
    evict: tables.evict,
    blockCache,
    counters,
    openTables: tables.size,
    tableMetadataBytes: tables.residentBytes
  })
})

export const layer: Layer.Layer<TableStore, never, DbConfig | FileSystem> = Layer.scoped(TableStore, make)
