/**
 * The public database service. Provide `Db.layer({ directory })` (with a `FileSystem` and `Path`,
 * e.g. `NodeSyncFileSystem.layer`, `NodeContext.layer` or `MemoryFileSystem.layer`) and use the
 * operations below. Closing the layer's scope closes the database.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { Context, type Effect, type Either, Layer, type Option, type Scope, type Stream } from "effect"
import type { DbError } from "./errors.js"
import { makeDb } from "./internal/db.js"
import type { DbOptions } from "./Options.js"
import type { BatchOp, WriteBatch } from "./WriteBatch.js"
import type { DbStats } from "./Stats.js"
import * as NodeSyncFileSystem from "./NodeSyncFileSystem.js"
import { SnapshotTypeId } from "./internal/snapshot.js"

/** A key or value as given by the user: a string is stored as its UTF-8 bytes. */
export type Bytes = string | Uint8Array

export interface WriteOptions {
  /** Return only after the write is on stable storage (fsync). Default false. */
  readonly sync?: boolean
}

/** The brand of `Snapshot`: a value of that type comes from `db.snapshot` only. */
export { SnapshotTypeId }

/**
 * A point in time of one database: reads given it see exactly the writes before it. Opaque: only
 * `db.snapshot` makes one, and a read refuses (`InvalidArgument`) a snapshot of another database,
 * an object made by hand, or a snapshot whose scope has closed.
 */
export interface Snapshot {
  readonly [SnapshotTypeId]: SnapshotTypeId
}

export interface ReadOptions {
  readonly snapshot?: Snapshot
}

/** A key range: bounds compare bytes (unsigned); `prefix` is the range of keys starting with it. */
export interface RangeOptions {
  readonly gt?: Bytes
  readonly gte?: Bytes
  readonly lt?: Bytes
  readonly lte?: Bytes
  readonly prefix?: Bytes
}

export interface ScanOptions extends ReadOptions, RangeOptions {
  readonly reverse?: boolean
  /** At most this many entries (counted across `Cursor.seek`s). */
  readonly limit?: number
  /** Include keys (default true). With `false`, entries' `key` is `undefined`. */
  readonly keys?: boolean
  /** Include values (default true). With `false`, entries' `value` is `undefined`. */
  readonly values?: boolean
}

/** What `deleteRange` deletes: the range, and with `limit` only the first entries in scan order. */
export interface DeleteRangeOptions extends RangeOptions, WriteOptions {
  readonly reverse?: boolean
  readonly limit?: number
}

/**
 * An open scan pulled and repositioned by its caller (LevelDB's `Iterator`, abstract-level's
 * iterator). It reads at one point in time (the snapshot given, else the moment it opened) and
 * holds that point, its version and its tables until its scope closes.
 */
export interface Cursor<A = Entry> {
  /** The next entries in scan order, at most `max` (fewer only at the end); empty at the end. */
  readonly next: (max: number) => Effect.Effect<Array<A>, DbError>
  /**
   * Moves to the first key at or after `target` (at or before, for a reverse cursor) without
   * reopening anything; the next `next` reads from there. A target outside the cursor's range
   * ends it. Fails with `InvalidArgument` (and does not move) for a bad target.
   */
  readonly seek: (target: Bytes) => Effect.Effect<void, DbError>
}

/**
 * An entry of a scan. `key` is `undefined` when the scan was given `keys: false` (the empty key is
 * a key like any other, so an absent key is not an empty one), `value` when given `values: false`.
 */
export interface Entry<K extends Uint8Array | undefined = Uint8Array, V extends Uint8Array | undefined = Uint8Array> {
  readonly key: K
  readonly value: V
}

/** A side of an entry for its flag: `false` leaves it out, `true` or no flag keeps it, a `boolean` may do either. */
type EntrySide<Flag> = [Flag] extends [false] ? undefined : [Flag] extends [true | undefined] ? Uint8Array : Uint8Array | undefined

/** The flag `name` of scan options `O` (undefined when `O` has none). */
type FlagOf<O, Name extends "keys" | "values"> = Name extends keyof O ? O[Name] : undefined

/**
 * The entries a scan with options `O` gives: `scan()` gives `Entry` (key and value),
 * `scan({ keys: false })` entries whose `key` is `undefined`, `scan({ values: false })` entries
 * whose `value` is, and options typed `ScanOptions` (flags not known) either.
 */
export type EntryOf<O> = Entry<EntrySide<FlagOf<O, "keys">>, EntrySide<FlagOf<O, "values">>>

export interface DbService {
  readonly get: (key: Bytes, options?: ReadOptions) => Effect.Effect<Option.Option<Uint8Array>, DbError>
  readonly getMany: (
    keys: ReadonlyArray<Bytes>,
    options?: ReadOptions
  ) => Effect.Effect<Array<Option.Option<Uint8Array>>, DbError>
  /**
   * `get` as a plain synchronous call: no fiber, no yield. Blocks the thread on I/O, which needs
   * synchronous file handles (`NodeSyncFileSystem`, `MemoryFileSystem`); on any other file system
   * a read that needs a table not yet open fails with `NotSupported`.
   */
  readonly getSync: (key: Bytes, options?: ReadOptions) => Either.Either<Option.Option<Uint8Array>, DbError>
  /** Whether the key has a value (read like `get`). */
  readonly has: (key: Bytes, options?: ReadOptions) => Effect.Effect<boolean, DbError>
  readonly hasMany: (keys: ReadonlyArray<Bytes>, options?: ReadOptions) => Effect.Effect<Array<boolean>, DbError>
  readonly put: (key: Bytes, value: Bytes, options?: WriteOptions) => Effect.Effect<void, DbError>
  readonly delete: (key: Bytes, options?: WriteOptions) => Effect.Effect<void, DbError>
  /** Applies every operation of the batch (a `WriteBatch` or an array of operations) atomically. */
  readonly write: (batch: WriteBatch | ReadonlyArray<BatchOp>, options?: WriteOptions) => Effect.Effect<void, DbError>
  /**
   * Deletes the entries in the range as they were when the call started: entries written after
   * it started are kept, and snapshots taken before it still see everything. Not atomic: a crash
   * midway leaves a prefix (in scan order) deleted. With `sync`, returns once the deletes are durable.
   */
  readonly deleteRange: (options?: DeleteRangeOptions) => Effect.Effect<void, DbError>
  /**
   * Entries in key order (or reverse), at a consistent point in time. With `keys: false` (or
   * `values: false`) the entries' `key` (or `value`) is `undefined`, in their type too.
   */
  readonly scan: <const O extends ScanOptions = {}>(options?: O) => Stream.Stream<EntryOf<O>, DbError>
  /** A scan as a cursor the caller pulls in chunks and can `seek`; closed with its scope. */
  readonly cursor: <const O extends ScanOptions = {}>(options?: O) => Effect.Effect<Cursor<EntryOf<O>>, DbError, Scope.Scope>
  /** A snapshot held until the scope closes. */
  readonly snapshot: Effect.Effect<Snapshot, DbError, Scope.Scope>
  /** Writes the memtable to an L0 table and waits for it. */
  readonly flush: Effect.Effect<void, DbError>
  /** Compacts the tables overlapping [start, end] (everything when omitted) down to the bottom level. */
  readonly compactRange: (start?: Bytes, end?: Bytes) => Effect.Effect<void, DbError>
  /**
   * The approximate bytes on disk of the keys in [start, end) (open where omitted), LevelDB's
   * `GetApproximateSizes`: tables inside the range count whole, a table straddling a bound by the
   * data blocks its index places in the range; with `includeMemtables`, plus the key and value
   * bytes of the memtables' entries in the range. Reads table indexes, no data block.
   */
  readonly approximateSize: (start?: Bytes, end?: Bytes, options?: ApproximateSizeOptions) => Effect.Effect<number, DbError>
  /**
   * A consistent copy of the database in `target` (a new or empty directory outside the
   * database's), made while it stays usable: the memtables are flushed, then the current
   * version's tables are hard-linked (copied where linking fails, or with `link: false`) and a fresh manifest and
   * CURRENT written. The copy opens as a database holding every write acknowledged before the
   * call, and of the writes made during it a prefix (exactly those up to `result.sequence`).
   * `InvalidArgument` for a target that exists and is not an empty directory, or lies in the
   * database's directory.
   */
  readonly checkpoint: (target: string, options?: CheckpointOptions) => Effect.Effect<CheckpointResult, DbError>
  readonly stats: Effect.Effect<DbStats, DbError>
}

export interface ApproximateSizeOptions {
  /** Count the memtables' entries in the range too (default false: tables only). */
  readonly includeMemtables?: boolean
}

/** Progress of a checkpoint, reported after each table. */
export interface CheckpointProgress {
  readonly tables: number
  readonly totalTables: number
  readonly bytes: number
  readonly totalBytes: number
}

/** What a checkpoint made. */
export interface CheckpointResult {
  /** The target directory (resolved). */
  readonly directory: string
  /** The copy holds exactly the writes with sequence numbers up to this one. */
  readonly sequence: number
  readonly tables: number
  /** Bytes of the tables. */
  readonly bytes: number
  /** Tables hard-linked into the target. */
  readonly linked: number
  /** Tables copied (linking failed). */
  readonly copied: number
}

export interface CheckpointOptions {
  /**
   * Hard-link the tables where the file system allows (default true). `false` copies every
   * table: a backup that shares no file with the database.
   */
  readonly link?: boolean
  /** Called after each table is linked or copied. */
  readonly onProgress?: (progress: CheckpointProgress) => Effect.Effect<void>
}

/**
 * The database service tag. `yield* Db` gives the `DbService`; `Db.layer(options)` opens one.
 */
export class Db extends Context.Tag("stratadb/Db")<Db, DbService>() {
  /** Opens the database in the layer's scope; closing the scope closes it. */
  static readonly layer = (options: DbOptions): Layer.Layer<Db, DbError, FileSystem | Path> =>
    Layer.scoped(Db, makeDb(options))

  /**
   * The database on Node, needing nothing else: `Db.layer` over stratadb's Node file system
   * (`NodeSyncFileSystem`: reads and appends on the calling thread, fsync on the thread pool).
   * The fast path; `NodeContext.layer`'s file system works too, several times slower.
   */
  static readonly layerNode = (options: DbOptions): Layer.Layer<Db, DbError> =>
    Db.layer(options).pipe(Layer.provide(NodeSyncFileSystem.layer))

  /** Opens the database in the current scope. */
  static readonly make = (options: DbOptions): Effect.Effect<DbService, DbError, FileSystem | Path | Scope.Scope> =>
    makeDb(options)
}
