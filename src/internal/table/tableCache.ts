/**
 * The table cache (LevelDB's `TableCache`): the open table readers, in CLOCK order, within two
 * bounds: at most `maxOpenTables` of them, and at most `maxResidentBytes` of the metadata they keep
 * in memory (`TableReader.residentBytes`: filter, index, properties; the memory budget's share,
 * unbounded without one). `acquire` is the one lookup: it finds the table's reader or opens it,
 * synchronously when the file system can (`SyncOpen`, and a handle with a positional read) or
 * else as an effect, and pins it for the caller, who `release`s it. Scans and compactions pin
 * through `iterator`, into a set of pins they drop together (`unpin`).
 *
 * A pin is only ever taken in the step that finds the reader open, and only unpinned readers are
 * closed for capacity, so a reader handed out is never closed under its user. While pins hold
 * them the cache may exceed its bounds; it shrinks back at the next open or unpin, or at the
 * release of a last pin when tables close synchronously. A table evicted (its file about to be
 * deleted) while pinned is closed with its last pin; until then its bytes still count (they are
 * still in memory), so other tables may be closed for them.
 */
import { isPlatformError } from "@effect/platform/Error"
import type { FileSystem } from "@effect/platform/FileSystem"
import { Effect, Exit, Scope } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import { hasSyncOpen, SyncOpen, type SyncOpenedFile, type SyncOpenFileSystem } from "../fs/fileCapabilities.js"
import { tableFileName } from "../fs/fileNames.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import type { FileMeta } from "../version/fileMeta.js"
import type { BlockCache } from "./blockCache.js"
import { isTableError, type TableError, tableFileOf } from "./tableFile.js"
import { openTable, type TableCounters, TableReader } from "./tableReader.js"

/** An open table in the cache, as `acquire` hands it out. */
export class CachedTable {
  /** Users (point reads, scans, compactions): a pinned table is not closed. */
  pins = 0
  /** Evicted while pinned: closed once the last pin goes. */
  doomed = false
  /** Acquired since eviction last passed it: it gets a second chance (the CLOCK rule). */
  referenced = false

  constructor(
    readonly number: number,
    readonly reader: TableReader,
    /** Closes the table's file. */
    readonly close: Effect.Effect<void>,
    /** The same as a plain call, for files opened synchronously. */
    readonly closeSync: (() => void) | undefined
  ) {}
}

/** The tables one reader (a scan, a compaction) keeps open while it runs. */
export type TablePins = Set<number>

export interface TableCache {
  /**
   * The table's reader, pinned for the caller until `release`: now (open already, or opened
   * synchronously), the failure of a synchronous open, or the effect that opens the table and
   * then pins it. That effect waits for the open interruptibly but pins uninterruptibly: run it
   * where interruption is masked (the acquire of `Effect.acquireUseRelease`), so that the pin it
   * returns is always released.
   */
  readonly acquire: (meta: FileMeta) => CachedTable | TableError | Effect.Effect<CachedTable, TableError>
  /** Drops a pin `acquire` took. */
  readonly release: (table: CachedTable) => void
  /** An iterator over the table's entries; the table stays pinned in `pins` until `unpin`. */
  readonly iterator: (meta: FileMeta, pins: TablePins, fillCache: boolean) => Effect.Effect<InternalIterator, TableError>
  /** The same now, when the table is open or opens synchronously; else undefined (use `iterator`). */
  readonly peekIterator: (meta: FileMeta, pins: TablePins, fillCache: boolean) => InternalIterator | undefined
  /** Drops the pins of a set, and shrinks the cache back to its bound. */
  readonly unpin: (pins: TablePins) => Effect.Effect<void>
  /** Closes the table's reader (once unpinned) and drops its cached blocks, before its file is deleted. */
  readonly evict: (number: number) => Effect.Effect<void>
  /** Table readers open. */
  readonly size: () => number
  /** Estimated bytes the open table readers keep in memory (`TableReader.residentBytes`, summed). */
  readonly residentBytes: () => number
  /** Closes every reader (the database closes). */
  readonly closeAll: Effect.Effect<void>
}

export const makeTableCache = (deps: {
  readonly fs: FileSystem
  /** The path of a file of the database's directory. */
  readonly path: (name: string) => string
  readonly maxOpenTables: number
  /** Bound on the sum of `residentBytes` of open tables (`Infinity`: none). */
  readonly maxResidentBytes: number
  readonly blockCache: BlockCache
  readonly counters: TableCounters
  /** The scope the handles of tables opened with effects live in (each in a child scope). */
  readonly scope: Scope.Scope
}): TableCache => {
  const { fs, path, maxOpenTables, maxResidentBytes, blockCache, counters } = deps
  /**
   * Open tables in CLOCK order (LevelDB's LRU, approximated): a Map iterates in insertion order,
   * a hit only marks its table `referenced`, and eviction walks from the oldest, moving a
   * referenced table to the end (flag cleared) and closing the first unpinned one that is not.
   * Moving the table on every hit instead (delete and set) cost a fifth of a missing-key read.
   */
  const open = new Map<number, CachedTable>()
  /** Opens under way with effects, shared by the callers that wait for the same table. */
  const opening = new Map<number, Effect.Effect<void, TableError>>()
  /** Tables evicted while pinned, closed when unpinned. */
  const pinnedAway = new Map<number, CachedTable>()
  /** Whether tables open synchronously: until a handle turns out to have no positional read. */
  let syncOpens = hasSyncOpen(fs)
  /**
   * `residentBytes` summed over the tables in `open` and `pinnedAway`: a table counts from the step
   * that puts it in `open` to the step that takes it out of both (just before it is closed).
   */
  let resident = 0

  /** Over a bound: too many tables, or too many bytes. */
  const overBound = (): boolean => open.size > maxOpenTables || resident > maxResidentBytes

  /** Puts a table just opened into `open`, counting its bytes. */
  const admit = (table: CachedTable): void => {
    open.set(table.number, table)
    resident += table.reader.residentBytes
  }

  const acquire = (meta: FileMeta): CachedTable | TableError | Effect.Effect<CachedTable, TableError> => {
    const number = meta.number
    const table = open.get(number)
    if (table !== undefined) {
      table.referenced = true
      table.pins++
      return table
    }
    return syncOpens ? openNow(meta) : openThenAcquire(meta)
  }

  const release = (table: CachedTable): void => {
    table.pins--
    if (table.pins !== 0) return
    // A close that needs an effect waits for the next `evictOverCapacity`.
    if (table.doomed) {
      if (table.closeSync !== undefined) {
        pinnedAway.delete(table.number)
        resident -= table.reader.residentBytes
        table.closeSync()
      }
      return
    }
    // The last pin held the cache over a bound (the open that pinned it could not close it): the
    // cache shrinks back now rather than at the next open, so a bound holds between reads.
    if (overBound()) for (const victim of victimsOverCapacity(true)) victim.closeSync!()
  }

  /**
   * Opens the table now, pinned, and closes unpinned tables over the bound. A handle without a
   * positional read is closed, and opens take the effect from then on.
   */
  const openNow = (meta: FileMeta): CachedTable | TableError | Effect.Effect<CachedTable, TableError> => {
    const name = tableFileName(meta.number)
    let handle: SyncOpenedFile
    try {
      handle = (fs as unknown as SyncOpenFileSystem)[SyncOpen](path(name))
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
    const file = tableFileOf(handle, meta.number, name, meta.size)
    if (file.readAtSync === undefined) {
      handle.close()
      syncOpens = false
      return openThenAcquire(meta)
    }
    const reader = openTable(file, blockCache, counters)
    if (!(reader instanceof TableReader)) {
      handle.close()
      // Over a synchronous read `openTable` answers now: this is its failure.
      return reader as TableError
    }
    const close = () => handle.close()
    const table = new CachedTable(meta.number, reader, Effect.sync(close), close)
    table.pins = 1
    admit(table)
    // Only tables that close without an effect: on a file system that opens synchronously, all of them.
    for (const victim of victimsOverCapacity(true)) victim.closeSync!()
    return table
  }

  /**
   * Opens the table with effects (or waits for the open under way), then pins it and closes what
   * the open pushed over the bound. An interruption while waiting leaves the table open and
   * unpinned, so the cache shrinks back then, as a release would.
   */
  const openThenAcquire = (meta: FileMeta): Effect.Effect<CachedTable, TableError> =>
    Effect.zipRight(
      Effect.interruptible(Effect.onInterrupt(ensureOpen(meta), () => evictOverCapacity)),
      Effect.suspend(() => {
        // Pinned without the mark of a hit: a table just opened has not been used again.
        const loaded = open.get(meta.number)
        if (loaded !== undefined) {
          loaded.pins++
          return Effect.as(evictOverCapacity, loaded)
        }
        // Closed again before this step: opened anew.
        const table = acquire(meta)
        if (table instanceof CachedTable) return Effect.as(evictOverCapacity, table)
        return isTableError(table) ? Effect.fail(table) : table
      })
    )

  /** Opens the table into the cache, sharing an open already under way; pins nothing. */
  const ensureOpen = (meta: FileMeta): Effect.Effect<void, TableError> =>
    Effect.suspend(() => {
      if (open.has(meta.number)) return Effect.void
      const inFlight = opening.get(meta.number)
      if (inFlight !== undefined) return inFlight
      const loading = Effect.runSync(Effect.cached(load(meta).pipe(Effect.ensuring(Effect.sync(() => opening.delete(meta.number))))))
      opening.set(meta.number, loading)
      return loading
    })

  /**
   * Opens the table's file and reader into `open`, unpinned (the caller pins, then evicts).
   * Uninterruptible: a caller interrupted while the file opens would otherwise leave the handle
   * open in a scope nobody closes until the database does; the open finishes and is cached.
   */
  const load = (meta: FileMeta): Effect.Effect<void, TableError> =>
    Effect.uninterruptible(Effect.gen(function* () {
      const scope = yield* Scope.fork(deps.scope, ExecutionStrategy.sequential)
      const name = tableFileName(meta.number)
      const reader = yield* Effect.gen(function* () {
        const handle = yield* fs.open(path(name), { flag: "r" }).pipe(Scope.extend(scope))
        const opened = openTable(tableFileOf(handle, meta.number, name, meta.size), blockCache, counters)
        if (opened instanceof TableReader) return opened
        return yield* (isTableError(opened) ? Effect.fail(opened) : opened)
      }).pipe(Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, Exit.void))))
      if (open.has(meta.number)) return yield* Scope.close(scope, Exit.void)
      admit(new CachedTable(meta.number, reader, Scope.close(scope, Exit.void), undefined))
    }))

  /**
   * Takes out of `open` unpinned tables, in CLOCK order (see `open`), until the cache is within
   * both bounds or no table is left to take; only those that close synchronously when `syncOnly`.
   * The caller closes them.
   */
  const victimsOverCapacity = (syncOnly: boolean): Array<CachedTable> => {
    const victims: Array<CachedTable> = []
    // A table moved to the end is met again later in this walk, its flag cleared: the walk ends.
    for (const [number, t] of open) {
      if (!overBound()) break
      if (t.pins > 0 || (syncOnly && t.closeSync === undefined)) continue
      if (t.referenced) {
        t.referenced = false
        open.delete(number)
        open.set(number, t)
        continue
      }
      open.delete(number)
      resident -= t.reader.residentBytes
      victims.push(t)
    }
    return victims
  }

  /**
   * Closes the doomed tables whose last pin went and the unpinned tables over
   * the bound. Victims leave the maps in the step that picks them, so nobody can pin one between
   * the choice and the close.
   */
  const evictOverCapacity: Effect.Effect<void> = Effect.suspend(() => {
    const victims: Array<Effect.Effect<void>> = []
    for (const [number, t] of pinnedAway) {
      if (t.pins === 0) {
        pinnedAway.delete(number)
        resident -= t.reader.residentBytes
        victims.push(t.close)
      }
    }
    for (const victim of victimsOverCapacity(false)) victims.push(victim.close)
    return victims.length === 0 ? Effect.void : Effect.forEach(victims, (close) => close, { discard: true })
  })

  /** The table's reader pinned into `pins` (once per set): now, the failure now, or the effect opening it. */
  const pinInto = (meta: FileMeta, pins: TablePins): TableReader | TableError | Effect.Effect<TableReader, TableError> => {
    const number = meta.number
    if (pins.has(number)) {
      const held = open.get(number) ?? pinnedAway.get(number)
      if (held !== undefined) return held.reader
    }
    const table = acquire(meta)
    if (table instanceof CachedTable) {
      pins.add(number)
      return table.reader
    }
    if (isTableError(table)) return table
    // Masked from the pin to its record in `pins`, which `unpin` releases.
    return Effect.uninterruptible(Effect.map(table, (t) => {
      pins.add(number)
      return t.reader
    }))
  }

  const iterator = (meta: FileMeta, pins: TablePins, fillCache: boolean): Effect.Effect<InternalIterator, TableError> =>
    Effect.suspend(() => {
      const reader = pinInto(meta, pins)
      if (reader instanceof TableReader) return Effect.succeed(reader.iterator(fillCache))
      if (isTableError(reader)) return Effect.fail(reader)
      return Effect.map(reader, (r) => r.iterator(fillCache))
    })

  const peekIterator = (meta: FileMeta, pins: TablePins, fillCache: boolean): InternalIterator | undefined => {
    const reader = pinInto(meta, pins)
    // An open that must wait, or failed, is left to `iterator`, which waits or reports the failure.
    return reader instanceof TableReader ? reader.iterator(fillCache) : undefined
  }

  const unpin = (pins: TablePins): Effect.Effect<void> =>
    Effect.suspend(() => {
      for (const number of pins) {
        const t = open.get(number) ?? pinnedAway.get(number)
        if (t !== undefined) t.pins--
      }
      pins.clear()
      return evictOverCapacity
    })

  const evict = (number: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      blockCache.evictFile(number)
      const t = open.get(number)
      if (t === undefined) return evictOverCapacity
      open.delete(number)
      if (t.pins > 0) {
        t.doomed = true
        pinnedAway.set(number, t)
        return evictOverCapacity
      }
      resident -= t.reader.residentBytes
      return Effect.zipRight(t.close, evictOverCapacity)
    })

  const closeAll: Effect.Effect<void> = Effect.suspend(() => {
    const all = [...open.values(), ...pinnedAway.values()]
    open.clear()
    pinnedAway.clear()
    resident = 0
    return Effect.forEach(all, (t) => t.close, { discard: true })
  })

  return {
    acquire,
    release,
    iterator,
    peekIterator,
    unpin,
    evict,
    size: () => open.size + pinnedAway.size,
    residentBytes: () => resident,
    closeAll
  }
}
