/**
 * `@effect/experimental`'s `Persistence` backed by a stratadb database: the
 * `Persistence.BackingPersistence` that `Persistence.layerResult`, `PersistedCache` and
 * `RequestResolver.persisted` store their results in, as `Persistence/Lmdb` does with LMDB.
 * Import it from `stratadb/Persistence` (`@effect/experimental` is an optional peer dependency,
 * needed only by this module).
 *
 * Each store (`make(storeId)`) is a range of the database's keys: a store's key is
 * `"<n>:" ‖ storeId ‖ key` in UTF-8, `n` the decimal byte length of `storeId`'s UTF-8. The length
 * makes the store prefixes prefix-free: no store's keys fall under another's prefix, whatever the
 * ids (`"a"` and `"ab"`, `"a:b"` and `"a"`, ...). A value is its expiry time, a big-endian
 * float64 of epoch milliseconds by the Effect `Clock` (`+Infinity` for an entry without a time to
 * live), followed by the value's JSON in UTF-8 (empty for `undefined`).
 *
 * An entry whose expiry is not after the clock's current time is absent: `get` and `getMany` return
 * none for it and delete it (as Effect's own backends do; a `set` of the same key racing with that
 * delete from another fiber can lose, which for a cache is one more miss). `setMany` is one atomic
 * `Db.write`. `clear` deletes the store's keys as of one snapshot, in batches, and nothing else.
 * Writes are the database's writes without `sync`: they survive the process, not a power loss
 * (for fsync'd writes, give `fromDb` a `DbService` whose `put`, `delete` and `write` pass
 * `{ sync: true }`).
 * Errors are `PersistenceBackingError`s, as the interface requires, whose `cause` is the stratadb
 * error (`InvalidArgument` for a key or store id that is not well-formed UTF-16 or is too long,
 * `Corruption`, `DbClosed`, a `PlatformError`, ...) or the `JSON` error of a value that does not
 * serialise or a stored value that does not parse.
 */
import * as Persistence from "@effect/experimental/Persistence"
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { Chunk, type Clock, type Duration, Effect, Layer, Option, Stream } from "effect"
import { Db, type DbService } from "./Db.js"
import { type DbError, InvalidArgument } from "./errors.js"
import type { DbOptions } from "./Options.js"
import { WriteBatch } from "./WriteBatch.js"

/** Keys deleted per batch by `clear`. */
const CLEAR_BATCH = 1024

/** Bytes of the expiry before a value's JSON. */
const EXPIRY_BYTES = 8

/** `String.prototype.isWellFormed` (Node 20; ES2024, past this project's `lib`). */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

const backingError = (method: string) => (cause: unknown): Persistence.PersistenceBackingError =>
  Persistence.PersistenceBackingError.make(method, cause)

/** The UTF-8 of a store id or key, or the `InvalidArgument` stratadb itself gives a lone surrogate. */
const utf8 = (method: string, what: string, s: string): Buffer | InvalidArgument =>
  isWellFormed(s)
    ? Buffer.from(s, "utf8")
    : new InvalidArgument({ method, description: `${what} must be well-formed UTF-16 (no lone surrogates)` })

/** An entry's stored bytes: the expiry (`null`: none), then the value's JSON. Throws what `JSON.stringify` throws. */
const encodeEntry = (value: unknown, expires: number | null): Buffer => {
  const json: string | undefined = JSON.stringify(value)
  const length = json === undefined ? 0 : Buffer.byteLength(json, "utf8")
  const bytes = Buffer.allocUnsafe(EXPIRY_BYTES + length)
  bytes.writeDoubleBE(expires ?? Number.POSITIVE_INFINITY, 0)
  if (json !== undefined) bytes.write(json, EXPIRY_BYTES, "utf8")
  return bytes
}

/** A stored entry as a `Buffer` view, after checking it holds an expiry. Throws on bytes it did not write. */
const entryBytes = (stored: Uint8Array): Buffer => {
  if (stored.byteLength < EXPIRY_BYTES) {
    throw new Error(`stratadb/Persistence: a stored entry of ${stored.byteLength} bytes, shorter than its expiry`)
  }
  return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
}

/** A stored entry's expiry in epoch milliseconds (`+Infinity`: none). */
const expiryOf = (bytes: Buffer): number => bytes.readDoubleBE(0)

/** A stored entry's value. Throws what `JSON.parse` throws. */
const valueOf = (bytes: Buffer): unknown =>
  bytes.byteLength === EXPIRY_BYTES ? undefined : JSON.parse(bytes.toString("utf8", EXPIRY_BYTES))

/** The key prefix of a store: `"<n>:" ‖ storeId`, `n` the byte length of `storeId`'s UTF-8. */
const storePrefix = (storeId: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${storeId.byteLength}:`, "latin1"), storeId])

/** The store `storeId` over an open database, reading time from `clock`. */
const makeStore = (db: DbService, storeId: string, clock: Clock.Clock): Persistence.BackingPersistenceStore => {
  const id = utf8("make", "storeId", storeId)
  const prefix = id instanceof InvalidArgument ? id : storePrefix(id)

  /** The database key of `key` in this store. */
  const keyOf = (method: string, key: string): Buffer | InvalidArgument => {
    if (prefix instanceof InvalidArgument) return prefix
    const k = utf8(method, "key", key)
    return k instanceof InvalidArgument ? k : Buffer.concat([prefix, k])
  }

  /** Runs `f` on the database keys of `keys`, or fails for the first key that has none. */
  const withKeys = <A>(
    method: string,
    keys: Iterable<string>,
    f: (dbKeys: Array<Buffer>) => Effect.Effect<A, Persistence.PersistenceError>
  ): Effect.Effect<A, Persistence.PersistenceError> =>
    Effect.suspend(() => {
      const dbKeys: Array<Buffer> = []
      for (const key of keys) {
        const k = keyOf(method, key)
        if (k instanceof InvalidArgument) return Effect.fail(backingError(method)(k))
        dbKeys.push(k)
      }
      return f(dbKeys)
    })

  /**
   * The values of stored entries: none for a missing or expired one. The expired ones are deleted,
   * in one batch; a failure to delete them is ignored (the read is right either way).
   */
  const readEntries = (
    method: string,
    dbKeys: ReadonlyArray<Buffer>,
    stored: ReadonlyArray<Option.Option<Uint8Array>>
  ): Effect.Effect<Array<Option.Option<unknown>>, Persistence.PersistenceError> =>
    Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const values: Array<Option.Option<unknown>> = []
      const expired = WriteBatch.make()
      try {
        for (let i = 0; i < stored.length; i++) {
          const found = stored[i]!
          if (Option.isNone(found)) {
            values.push(Option.none())
            continue
          }
          const bytes = entryBytes(found.value)
          if (expiryOf(bytes) <= now) {
            expired.delete(dbKeys[i]!)
            values.push(Option.none())
          } else {
            values.push(Option.some(valueOf(bytes)))
          }
        }
      } catch (error) {
        return Effect.fail(backingError(method)(error))
      }
      return expired.length === 0 ? Effect.succeed(values) : Effect.as(Effect.ignore(db.write(expired)), values)
    })

  /** The entry `[key, value, ttl]` as a put into `batch`, or the error that refuses it. */
  const putInto = (
    method: string,
    batch: WriteBatch,
    key: string,
    value: unknown,
    ttl: Option.Option<Duration.Duration>
  ): Persistence.PersistenceBackingError | undefined => {
    const k = keyOf(method, key)
    if (k instanceof InvalidArgument) return backingError(method)(k)
    try {
      batch.put(k, encodeEntry(value, Persistence.unsafeTtlToExpires(clock, ttl)))
    } catch (error) {
      return backingError(method)(error)
    }
    return undefined
  }

  const write = (method: string, entries: ReadonlyArray<readonly [string, unknown, Option.Option<Duration.Duration>]>) =>
    Effect.suspend(() => {
      const batch = WriteBatch.make()
      for (const [key, value, ttl] of entries) {
        const error = putInto(method, batch, key, value, ttl)
        if (error !== undefined) return Effect.fail(error)
      }
      return Effect.mapError(db.write(batch), backingError(method))
    })

  return {
    get: (key) =>
      withKeys("get", [key], (dbKeys) =>
        db.get(dbKeys[0]!).pipe(
          Effect.mapError(backingError("get")),
          Effect.flatMap((stored) => readEntries("get", dbKeys, [stored])),
          Effect.map((values) => values[0]!)
        )
      ),
    getMany: (keys) =>
      withKeys("getMany", keys, (dbKeys) =>
        db.getMany(dbKeys).pipe(
          Effect.mapError(backingError("getMany")),
          Effect.flatMap((stored) => readEntries("getMany", dbKeys, stored))
        )
      ),
    set: (key, value, ttl) => write("set", [[key, value, ttl]]),
    setMany: (entries) => write("setMany", entries),
    remove: (key) => withKeys("remove", [key], (dbKeys) => Effect.mapError(db.delete(dbKeys[0]!), backingError("remove"))),
    clear: Effect.suspend(() =>
      prefix instanceof InvalidArgument
        ? Effect.fail(backingError("clear")(prefix))
        : db.scan({ prefix, values: false }).pipe(
            Stream.grouped(CLEAR_BATCH),
            Stream.runForEach((entries) =>
              db.write(Chunk.reduce(entries, WriteBatch.make(), (batch, entry) => batch.delete(entry.key)))
            ),
            Effect.mapError(backingError("clear"))
          )
    )
  }
}

/** The `BackingPersistence` over an open database: each `make(storeId)` a store of its keys. */
export const fromDb = (db: DbService): Persistence.BackingPersistence =>
  Persistence.BackingPersistence.of({
    [Persistence.BackingPersistenceTypeId]: Persistence.BackingPersistenceTypeId,
    make: (storeId) => Effect.map(Effect.clock, (clock) => makeStore(db, storeId, clock))
  })

/** The `BackingPersistence` over the `Db` in the context. */
export const layerFromDb: Layer.Layer<Persistence.BackingPersistence, never, Db> = Layer.effect(
  Persistence.BackingPersistence,
  Effect.map(Db, fromDb)
)

/** Opens a database on any `FileSystem` and serves it as a `BackingPersistence`; closing the layer closes it. */
export const layer = (options: DbOptions): Layer.Layer<Persistence.BackingPersistence, DbError, FileSystem | Path> =>
  layerFromDb.pipe(Layer.provide(Db.layer(options)))

/** The same on Node, needing nothing else (`Db.layerNode`). */
export const layerNode = (options: DbOptions): Layer.Layer<Persistence.BackingPersistence, DbError> =>
  layerFromDb.pipe(Layer.provide(Db.layerNode(options)))

/** `Persistence.ResultPersistence` (what `PersistedCache` needs) over the `Db` in the context. */
export const layerResultFromDb: Layer.Layer<Persistence.ResultPersistence, never, Db> = Persistence.layerResult.pipe(
  Layer.provide(layerFromDb)
)

/** `Persistence.ResultPersistence` over a database opened on any `FileSystem`. */
export const layerResult = (options: DbOptions): Layer.Layer<Persistence.ResultPersistence, DbError, FileSystem | Path> =>
  Persistence.layerResult.pipe(Layer.provide(layer(options)))

/** `Persistence.ResultPersistence` over a database on Node (`Db.layerNode`). */
export const layerResultNode = (options: DbOptions): Layer.Layer<Persistence.ResultPersistence, DbError> =>
  Persistence.layerResult.pipe(Layer.provide(layerNode(options)))
