/**
 * Test helpers: open a database in a scope of its own, text <-> bytes.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { Effect, Option, type Scope } from "effect"
import { Db, type DbService } from "../src/Db.js"
import type { DbError } from "../src/errors.js"
import type { DbOptions } from "../src/Options.js"

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
export const textOf = (value: Option.Option<Uint8Array>): string | undefined =>
  Option.match(value, { onNone: () => undefined, onSome: text })

/** Runs `f` with a database open on `options`, closing it afterwards. */
export const withDb = <A, E, R>(
  options: DbOptions,
  f: (db: DbService) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | DbError, Exclude<R, Scope.Scope> | FileSystem | Path> =>
  Effect.scoped(Effect.flatMap(Db.make(options), f)) as Effect.Effect<A, E | DbError, Exclude<R, Scope.Scope> | FileSystem | Path>

/** Small sizes so that tests exercise flushes and many tables. */
export const small = (directory: string, extra: Partial<DbOptions> = {}): DbOptions => ({
  directory,
  writeBufferSize: 64 * 1024,
  blockSize: 1024,
  ...extra
})
