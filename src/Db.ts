/**
 * The public database service. Provide `Db.layer({ directory })` (with a `FileSystem` and `Path`,
 * e.g. `NodeSyncFileSystem.layer`, `NodeContext.layer` or `MemoryFileSystem.layer`) and use the
 * operations below. Closing the layer's scope closes the database.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { Context, type Effect, Layer, type Option, type Scope, type Stream } from "effect"
import type { DbError } from "./errors.js"
import { makeDb } from "./internal/db.js"
import type { DbOptions } from "./Options.js"
import type { WriteBatch } from "./WriteBatch.js"
import type { DbStats } from "./Stats.js"
import * as NodeSyncFileSystem from "./NodeSyncFileSystem.js"

/** A key or value as given by the user: a string is stored as its UTF-8 bytes. */
export type Bytes = string | Uint8Array

export interface WriteOptions {
  /** Return only after the write is on stable storage (fsync). Default false. */
  readonly sync?: boolean
}

/** A point in time: reads with it see exactly the writes before it. */
export interface Snapshot {
  readonly sequence: number
}

export interface ReadOptions {
  readonly snapshot?: Snapshot
}

export interface ScanOptions extends ReadOptions {
  readonly gt?: Bytes
  readonly gte?: Bytes
  readonly lt?: Bytes
  readonly lte?: Bytes
  readonly prefix?: Bytes
  readonly reverse?: boolean
  readonly limit?: number
  /** Include keys (default true). With `false`, entries carry an empty key. */
  readonly keys?: boolean
  /** Include values (default true). With `false`, entries carry an empty value. */
  readonly values?: boolean
}

export interface Entry {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

export interface DbService {
  readonly get: (key: Bytes, options?: ReadOptions) => Effect.Effect<Option.Option<Uint8Array>, DbError>
  readonly getMany: (
    keys: ReadonlyArray<Bytes>,
    options?: ReadOptions
  ) => Effect.Effect<Array<Option.Option<Uint8Array>>, DbError>
  readonly put: (key: Bytes, value: Bytes, options?: WriteOptions) => Effect.Effect<void, DbError>
  readonly delete: (key: Bytes, options?: WriteOptions) => Effect.Effect<void, DbError>
  /** Applies every operation of the batch atomically. */
  readonly write: (batch: WriteBatch, options?: WriteOptions) => Effect.Effect<void, DbError>
  /** Entries in key order (or reverse), at a consistent point in time. */
  readonly scan: (options?: ScanOptions) => Stream.Stream<Entry, DbError>
  /** A snapshot held until the scope closes. */
  readonly snapshot: Effect.Effect<Snapshot, DbError, Scope.Scope>
  /** Writes the memtable to an L0 table and waits for it. */
  readonly flush: Effect.Effect<void, DbError>
  /** Compacts the tables overlapping [start, end] (everything when omitted) down to the bottom level. */
  readonly compactRange: (start?: Bytes, end?: Bytes) => Effect.Effect<void, DbError>
  readonly stats: Effect.Effect<DbStats, DbError>
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
