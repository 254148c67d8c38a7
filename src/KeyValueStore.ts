/**
 * `@effect/platform`'s `KeyValueStore` backed by a stratadb database: the store an Effect program
 * already codes against (`KeyValueStore.KeyValueStore`, `prefix`, `SchemaStore`), durable and
 * crash-safe. Import it from `stratadb/KeyValueStore`.
 *
 * Keys are strings stored as their UTF-8 bytes; values are strings (UTF-8) or bytes, read back by
 * `get` (as UTF-8 text) or `getUint8Array`. `set` and `remove` are single unsynced writes: they
 * survive the process being killed, not power loss (for fsync'd writes, give `fromDb` a
 * `DbService` whose `put` and `delete` pass `{ sync: true }`).
 * `clear` and `size` read one snapshot. The database's errors become `PlatformError`s, as the
 * interface requires: bad input is a `BadArgument`, everything else a `SystemError` whose `cause`
 * is the stratadb error (`Corruption`, `DbClosed`, ...).
 */
import { BadArgument, isPlatformError, type PlatformError, SystemError } from "@effect/platform/Error"
import type { FileSystem } from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import type { Path } from "@effect/platform/Path"
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { Db, type DbService } from "./Db.js"
import type { DbError } from "./errors.js"
import type { DbOptions } from "./Options.js"
import { WriteBatch } from "./WriteBatch.js"

/** Keys deleted per batch by `clear`. */
const CLEAR_BATCH = 1024

const decoder = new TextDecoder()

/** A stratadb error as the `PlatformError` the `KeyValueStore` interface speaks. */
const toPlatformError = (method: string) => (error: DbError): PlatformError => {
  if (isPlatformError(error)) return error
  if (error._tag === "stratadb/InvalidArgument") {
    return new BadArgument({ module: "KeyValueStore", method, description: error.description, cause: error })
  }
  return new SystemError({ reason: "Unknown", module: "KeyValueStore", method, description: error.message, cause: error })
}

/** The `KeyValueStore` over an open database. */
export const fromDb = (db: DbService): KeyValueStore.KeyValueStore => {
  const keysOnly = db.scan({ values: false })
  return KeyValueStore.make({
    get: (key) =>
      db.get(key).pipe(
        Effect.map(Option.map((bytes) => decoder.decode(bytes))),
        Effect.mapError(toPlatformError("get"))
      ),
    getUint8Array: (key) => db.get(key).pipe(Effect.mapError(toPlatformError("getUint8Array"))),
    set: (key, value) => db.put(key, value).pipe(Effect.mapError(toPlatformError("set"))),
    remove: (key) => db.delete(key).pipe(Effect.mapError(toPlatformError("remove"))),
    has: (key) => db.get(key).pipe(Effect.map(Option.isSome), Effect.mapError(toPlatformError("has"))),
    clear: keysOnly.pipe(
      Stream.grouped(CLEAR_BATCH),
      Stream.runForEach((entries) =>
        db.write(Chunk.reduce(entries, WriteBatch.make(), (batch, entry) => batch.delete(entry.key)))
      ),
      Effect.mapError(toPlatformError("clear"))
    ),
    size: keysOnly.pipe(Stream.runCount, Effect.mapError(toPlatformError("size"))),
    isEmpty: db.scan({ values: false, limit: 1 }).pipe(
      Stream.runCount,
      Effect.map((n) => n === 0),
      Effect.mapError(toPlatformError("isEmpty"))
    )
  })
}

/** The `KeyValueStore` over the `Db` in the context. */
export const layerFromDb: Layer.Layer<KeyValueStore.KeyValueStore, never, Db> = Layer.effect(
  KeyValueStore.KeyValueStore,
  Effect.map(Db, fromDb)
)

/** Opens a database on any `FileSystem` and serves it as a `KeyValueStore`; closing the layer closes it. */
export const layer = (options: DbOptions): Layer.Layer<KeyValueStore.KeyValueStore, DbError, FileSystem | Path> =>
  layerFromDb.pipe(Layer.provide(Db.layer(options)))

/** The same on Node, needing nothing else (`Db.layerNode`). */
export const layerNode = (options: DbOptions): Layer.Layer<KeyValueStore.KeyValueStore, DbError> =>
  layerFromDb.pipe(Layer.provide(Db.layerNode(options)))
