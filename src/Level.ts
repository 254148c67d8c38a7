/**
 * `stratadb/level`: a stratadb database as an [abstract-level](https://github.com/Level/abstract-level)
 * database, usable wherever `classic-level` is (`level-read-stream`, sublevels, encodings, hooks,
 * explicit snapshots, ...).
 *
 * ```ts
 * import { StrataLevel } from "stratadb/level"
 *
 * const db = new StrataLevel("./data", { valueEncoding: "json" })
 * await db.put("a", { x: 1 })
 * for await (const [key, value] of db.iterator({ gt: "a" })) console.log(key, value)
 * await db.close()
 * ```
 *
 * The options are abstract-level's (`keyEncoding`, `valueEncoding`, `createIfMissing`,
 * `errorIfExists`), stratadb's `DbOptions` (but `directory`, which is the location) and
 * `fileSystem`: the `FileSystem` and `Path` layer the database runs on, stratadb's Node file system
 * (`NodeSyncFileSystem.layer`) by default. The layer is built at each open: `MemoryFileSystem.layer`
 * gives a fresh, empty file system each time; to reopen what an in-memory database wrote, pass a
 * layer over one `MemoryFileSystem.make()` instance. On a file system without synchronous reads
 * (`NodeContext.layer`), `getSync` may fail with `LEVEL_NOT_SUPPORTED` and `get` reads asynchronously.
 *
 * Reads see an implicit snapshot taken when they are called: an iterator pins its point in time
 * when it is created, `get` and friends read synchronously at the call. `db.snapshot()` gives
 * explicit snapshots. Errors carry abstract-level's codes (`LEVEL_LOCKED`, `LEVEL_CORRUPTION`,
 * `LEVEL_IO_ERROR`, `LEVEL_NOT_SUPPORTED`, `LEVEL_DATABASE_NOT_OPEN`, `LEVEL_INVALID_KEY`, ...)
 * and the stratadb error as their `cause`.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { AbstractLevel } from "abstract-level"
import type {
  AbstractBatchOperation,
  AbstractBatchOptions,
  AbstractChainedBatch,
  AbstractClearOptions,
  AbstractDatabaseOptions,
  AbstractDelOptions,
  AbstractOpenOptions,
  AbstractPutOptions
} from "abstract-level"
import { Either, Effect, Exit, Layer, Option, Scope } from "effect"
import { Buffer } from "node:buffer"
import { Db, type Bytes, type DbService, type DeleteRangeOptions, type Entry, type Snapshot } from "./Db.js"
import type { DbError } from "./errors.js"
import { StrataChainedBatch, writeOptionsOf } from "./internal/level/chainedBatch.js"
import { exitError, StrataLevelError, toLevelError } from "./internal/level/errors.js"
import {
  engineSnapshotOf,
  type Mutable,
  type PrivateIteratorOptions,
  rangeOf,
  StrataIterator,
  StrataKeyIterator,
  StrataValueIterator
} from "./internal/level/iterator.js"
import { decoderFor, run } from "./internal/level/run.js"
import { StrataSnapshot } from "./internal/level/snapshot.js"
import * as NodeSyncFileSystem from "./NodeSyncFileSystem.js"
import { defaults, type DbOptions } from "./Options.js"
import type { BatchOp } from "./WriteBatch.js"

export { StrataLevelError } from "./internal/level/errors.js"

/** The file system a `StrataLevel` runs on: a layer giving `FileSystem` and `Path`. */
export type StrataLevelFileSystem = Layer.Layer<FileSystem | Path, unknown>

/** stratadb's options but `directory` (the location) and the two abstract-level has too. */
export type StrataEngineOptions = Omit<DbOptions, "directory" | "createIfMissing" | "errorIfExists">

/** The options of `new StrataLevel(location, options)` and of `open`. */
export interface StrataLevelOptions<K = string, V = string> extends AbstractDatabaseOptions<K, V>, StrataEngineOptions {
  /** The `FileSystem` and `Path` the database runs on. Default: `NodeSyncFileSystem.layer`. */
  readonly fileSystem?: StrataLevelFileSystem | undefined
}

/** The options of `db.open(options)`: abstract-level's and stratadb's. */
export interface StrataLevelOpenOptions extends AbstractOpenOptions, StrataEngineOptions {
  readonly fileSystem?: StrataLevelFileSystem | undefined
}

/** The data formats of the private API: keys and values reach the engine as they are. */
type Format = string | Buffer | Uint8Array

interface PrivateReadOptions {
  readonly keyEncoding?: string
  readonly valueEncoding?: string
  readonly snapshot?: unknown
}

interface PrivateBatchOperation {
  readonly type: "put" | "del"
  readonly key: unknown
  readonly value?: unknown
}

interface PrivateClearOptions extends PrivateIteratorOptions {}

/** The engine's options among what `_open` receives (abstract-level forwards every constructor option). */
const ENGINE_OPTION_NAMES: ReadonlyArray<string> = Object.keys(defaults).filter(
  (name) => name !== "createIfMissing" && name !== "errorIfExists"
)

const CLEAR_CHUNK = 1024

const notOpen = (message: string) => new StrataLevelError(message, "LEVEL_DATABASE_NOT_OPEN", undefined)

const isNotSupported = (error: DbError): boolean => error._tag === "stratadb/NotSupported"

const hasValue = (o: Option.Option<Uint8Array>): boolean => Option.isSome(o)

/** A read at an explicit snapshot, or at one pinned now for the read's duration. */
const atSnapshot = <A>(
  service: DbService,
  snapshot: Snapshot | undefined,
  read: (snapshot: Snapshot) => Effect.Effect<A, DbError>
): Effect.Effect<A, DbError> =>
  snapshot !== undefined ? read(snapshot) : Effect.scoped(Effect.flatMap(service.snapshot, read))

/** What the private API supports (abstract-level's manifest, enriched by its constructor). */
const manifest = {
  encodings: { buffer: true, view: true, utf8: true },
  implicitSnapshots: true,
  explicitSnapshots: true,
  has: true,
  getSync: true,
  permanence: true,
  seek: true,
  createIfMissing: true,
  errorIfExists: true,
  additionalMethods: { compactRange: true },
  signals: { iterators: true }
}

/** stratadb's write option on `put`, `del`, `batch` and `clear`: return once the write is durable (fsync). */
export interface StrataWriteOptions {
  readonly sync?: boolean | undefined
}

/** The write methods with their `sync` option typed (abstract-level's typings know no `sync`). */
export interface StrataLevel<KDefault = string, VDefault = string> {
  put(key: KDefault, value: VDefault): Promise<void>
  put<K = KDefault, V = VDefault>(key: K, value: V, options: AbstractPutOptions<K, V> & StrataWriteOptions): Promise<void>
  del(key: KDefault): Promise<void>
  del<K = KDefault>(key: K, options: AbstractDelOptions<K> & StrataWriteOptions): Promise<void>
  batch(operations: Array<AbstractBatchOperation<this, KDefault, VDefault>>): Promise<void>
  batch<K = KDefault, V = VDefault>(
    operations: Array<AbstractBatchOperation<this, K, V>>,
    options: AbstractBatchOptions<K, V> & StrataWriteOptions
  ): Promise<void>
  batch(): AbstractChainedBatch<this, KDefault, VDefault>
  clear(): Promise<void>
  clear<K = KDefault>(options: AbstractClearOptions<K> & StrataWriteOptions): Promise<void>
}

/** A stratadb database as an abstract-level database. */
export class StrataLevel<KDefault = string, VDefault = string> extends AbstractLevel<Format, KDefault, VDefault> {
  readonly #location: string
  #service: DbService | undefined = undefined
  #scope: Scope.CloseableScope | undefined = undefined

  constructor(location: string, options?: StrataLevelOptions<KDefault, VDefault>) {
    if (typeof location !== "string" || location === "") {
      throw new TypeError("The first argument 'location' must be a non-empty string")
    }
    // A fresh manifest per database: abstract-level fills it in.
    super(
      {
        ...manifest,
        encodings: { ...manifest.encodings },
        additionalMethods: { ...manifest.additionalMethods },
        signals: { ...manifest.signals }
      } as ConstructorParameters<typeof AbstractLevel>[0],
      options
    )
    this.#location = location
  }

  /** The directory of the database. */
  get location(): string {
    return this.#location
  }

  /** The open database's service (the engine's own API); throws `LEVEL_DATABASE_NOT_OPEN` when not open. */
  get service(): DbService {
    const service = this.#service
    if (service === undefined) throw notOpen("Database is not open")
    return service
  }

  protected async _open(options: StrataLevelOpenOptions & { readonly createIfMissing: boolean; readonly errorIfExists: boolean }): Promise<void> {
    const given = options as unknown as Record<string, unknown>
    const engine: Record<string, unknown> = {}
    for (const name of ENGINE_OPTION_NAMES) if (given[name] !== undefined) engine[name] = given[name]
    // classic-level's `compression` is a boolean (Snappy or not): false is "none", true the default.
    if (engine.compression === false) engine.compression = "none"
    else if (engine.compression === true) delete engine.compression
    const dbOptions = {
      ...engine,
      directory: this.#location,
      createIfMissing: options.createIfMissing,
      errorIfExists: options.errorIfExists
    } as DbOptions
    const fileSystem: StrataLevelFileSystem = options.fileSystem ?? NodeSyncFileSystem.layer
    const scope = Effect.runSync(Scope.make())
    const opening = Effect.gen(function* () {
      const context = yield* Layer.buildWithScope(fileSystem, scope)
      return yield* Db.make(dbOptions).pipe(Scope.extend(scope), Effect.provide(context))
    })
    const exit = await Effect.runPromiseExit(opening)
    if (Exit.isFailure(exit)) {
      // Whatever the open acquired (the LOCK, files) is released before the error is reported.
      await Effect.runPromise(Scope.close(scope, Exit.void))
      throw exitError(exit, "open")
    }
    this.#service = exit.value
    this.#scope = scope
  }

  protected async _close(): Promise<void> {
    const scope = this.#scope
    this.#service = undefined
    this.#scope = undefined
    if (scope !== undefined) await run(Scope.close(scope, Exit.void))
  }

  protected _get(key: Bytes, options: PrivateReadOptions): Promise<string | Uint8Array | undefined> {
    const service = this.service
    const snapshot = engineSnapshotOf(options.snapshot, service)
    const got = service.getSync(key, snapshot === undefined ? undefined : { snapshot })
    const decode = decoderFor(options.valueEncoding)
    if (Either.isRight(got)) return Promise.resolve(Option.isSome(got.right) ? decode(got.right.value) : undefined)
    if (!isNotSupported(got.left)) return Promise.reject(toLevelError(got.left))
    // A file system without synchronous reads: read asynchronously, at a snapshot pinned now.
    return run(atSnapshot(service, snapshot, (s) => service.get(key, { snapshot: s }))).then((value) =>
      Option.isSome(value) ? decode(value.value) : undefined
    )
  }

  protected _getSync(key: Bytes, options: PrivateReadOptions): string | Uint8Array | undefined {
    const service = this.service
    const snapshot = engineSnapshotOf(options.snapshot, service)
    const got = service.getSync(key, snapshot === undefined ? undefined : { snapshot })
    if (Either.isLeft(got)) throw toLevelError(got.left)
    return Option.isSome(got.right) ? decoderFor(options.valueEncoding)(got.right.value) : undefined
  }

  /**
   * Reads every key synchronously (one point in time: nothing else runs meanwhile). On a file
   * system without synchronous reads, the keys not read yet are read asynchronously at a snapshot
   * pinned at once, which is the same point in time.
   */
  #readMany<A>(
    keys: ReadonlyArray<Bytes>,
    options: PrivateReadOptions,
    map: (value: Option.Option<Uint8Array>) => A,
    many: (service: DbService, keys: ReadonlyArray<Bytes>, snapshot: Snapshot) => Effect.Effect<Array<A>, DbError>
  ): Promise<Array<A>> {
    const service = this.service
    const snapshot = engineSnapshotOf(options.snapshot, service)
    const readOptions = snapshot === undefined ? undefined : { snapshot }
    const out = new Array<A>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const got = service.getSync(keys[i]!, readOptions)
      if (Either.isRight(got)) {
        out[i] = map(got.right)
        continue
      }
      if (!isNotSupported(got.left)) return Promise.reject(toLevelError(got.left))
      const rest = keys.slice(i)
      return run(atSnapshot(service, snapshot, (s) => many(service, rest, s))).then((values) => {
        for (let j = 0; j < values.length; j++) out[i + j] = values[j]!
        return out
      })
    }
    return Promise.resolve(out)
  }

  protected _getMany(keys: Array<Bytes>, options: PrivateReadOptions): Promise<Array<string | Uint8Array | undefined>> {
    const decode = decoderFor(options.valueEncoding)
    const map = (value: Option.Option<Uint8Array>) => (Option.isSome(value) ? decode(value.value) : undefined)
    return this.#readMany(keys, options, map, (service, rest, snapshot) =>
      Effect.map(service.getMany(rest, { snapshot }), (values) => values.map(map))
    )
  }

  protected _has(key: Bytes, options: PrivateReadOptions): Promise<boolean> {
    return this.#readMany([key], options, hasValue, (service, rest, snapshot) => service.hasMany(rest, { snapshot })).then(
      (found) => found[0] === true
    )
  }

  protected _hasMany(keys: Array<Bytes>, options: PrivateReadOptions): Promise<Array<boolean>> {
    return this.#readMany(keys, options, hasValue, (service, rest, snapshot) => service.hasMany(rest, { snapshot }))
  }

  protected _put(key: Bytes, value: Bytes, options: { readonly sync?: unknown }): Promise<void> {
    return run(this.service.put(key, value, writeOptionsOf(options)))
  }

  protected _del(key: Bytes, options: { readonly sync?: unknown }): Promise<void> {
    return run(this.service.delete(key, writeOptionsOf(options)))
  }

  protected _batch(operations: Array<PrivateBatchOperation>, options: { readonly sync?: unknown }): Promise<void> {
    const ops = new Array<BatchOp>(operations.length)
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i]!
      ops[i] = op.type === "put"
        ? { kind: "put", key: op.key as Bytes, value: op.value as Bytes }
        : { kind: "delete", key: op.key as Bytes, value: undefined }
    }
    return run(this.service.write(ops, writeOptionsOf(options)))
  }

  protected _chainedBatch(): StrataChainedBatch<this, KDefault, VDefault> {
    return new StrataChainedBatch(this, this.service)
  }

  protected _clear(options: PrivateClearOptions & { readonly sync?: unknown }): Promise<void> {
    const service = this.service
    const snapshot = engineSnapshotOf(options.snapshot, service)
    if (snapshot !== undefined) return this.#clearAt(service, snapshot, options)
    const range: Mutable<DeleteRangeOptions> = rangeOf(options)
    if (options.reverse === true) range.reverse = true
    if (typeof options.limit === "number" && options.limit >= 0) range.limit = options.limit
    if (options.sync === true) range.sync = true
    return run(service.deleteRange(range))
  }

  /** `clear` with an explicit snapshot: deletes the keys the snapshot has in the range (and no others). */
  #clearAt(service: DbService, snapshot: Snapshot, options: PrivateClearOptions & { readonly sync?: unknown }): Promise<void> {
    const scan = {
      ...rangeOf(options),
      reverse: options.reverse === true,
      keys: true as const,
      values: false as const,
      snapshot,
      ...(typeof options.limit === "number" && options.limit >= 0 ? { limit: options.limit } : {})
    }
    const write = writeOptionsOf(options)
    const loop = (next: Effect.Effect<Array<Entry<Uint8Array, undefined>>, DbError>): Effect.Effect<void, DbError> =>
      Effect.flatMap(next, (entries) => {
        if (entries.length === 0) return Effect.void
        const ops = entries.map((e): BatchOp => ({ kind: "delete", key: e.key, value: undefined }))
        return Effect.zipRight(service.write(ops, write), loop(next))
      })
    return run(Effect.scoped(Effect.flatMap(service.cursor(scan), (cursor) => loop(cursor.next(CLEAR_CHUNK)))))
  }

  protected _iterator(options: PrivateIteratorOptions): StrataIterator<this, KDefault, VDefault> {
    return new StrataIterator(this, this.service, options)
  }

  protected _keys(options: PrivateIteratorOptions): StrataKeyIterator<this, KDefault> {
    return new StrataKeyIterator(this, this.service, options)
  }

  protected _values(options: PrivateIteratorOptions): StrataValueIterator<this, KDefault, VDefault> {
    return new StrataValueIterator(this, this.service, options)
  }

  protected _snapshot(options: object): StrataSnapshot {
    return new StrataSnapshot(this.service, options)
  }

  /**
   * Compacts the tables overlapping `[start, end]` down to the bottom level (stratadb's
   * `compactRange`; classic-level's method of the same name). Keys are encoded with the
   * database's key encoding, or `options.keyEncoding`.
   */
  compactRange(start: KDefault, end: KDefault): Promise<void>
  compactRange<K = KDefault>(start: K, end: K, options: { keyEncoding?: string | undefined }): Promise<void>
  async compactRange(start: unknown, end: unknown, options?: { keyEncoding?: string | undefined }): Promise<void> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    if (this.status === "opening") return this.deferAsync(() => this.compactRange(start, end, options ?? {}))
    if (this.status !== "open") {
      throw notOpen("Database is not open: cannot call compactRange()")
    }
    const keyEncoding = this.keyEncoding(options?.keyEncoding as "utf8")
    const encode = keyEncoding.encode.bind(keyEncoding) as (key: unknown) => Bytes
    return run(this.service.compactRange(encode(start), encode(end)))
  }
}
