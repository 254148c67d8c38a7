/**
 * The typed errors of stratadb. Absence of a key is `Option.none()`, never an error.
 * I/O failures surface as `@effect/platform`'s `PlatformError`.
 *
 * Each error's `_tag` is namespaced (`"stratadb/Corruption"`, ...), so that `Effect.catchTag`
 * cannot confuse it with another library's `Corruption`; every instance carries `DbErrorTypeId`,
 * which `isDbError` checks (as `isPlatformError` checks `@effect/platform`'s errors).
 */
import type { PlatformError } from "@effect/platform/Error"
import { Predicate, Schema } from "effect"

/** The mark every stratadb error carries (`isDbError` looks for it). */
export const DbErrorTypeId: unique symbol = Symbol.for("stratadb/DbError")
export type DbErrorTypeId = typeof DbErrorTypeId

/** Bad input or bad options: nothing was written. */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("stratadb/InvalidArgument", {
  method: Schema.String,
  description: Schema.String
}) {
  // On the prototype, so it is neither a field of the schema nor copied into each instance.
  get [DbErrorTypeId](): DbErrorTypeId {
    return DbErrorTypeId
  }
  override get message() {
    return `${this.method}: ${this.description}`
  }
}

/** Bytes on disk that fail a checksum or do not parse: names the file and the offset. */
export class Corruption extends Schema.TaggedError<Corruption>()("stratadb/Corruption", {
  file: Schema.String,
  offset: Schema.Number,
  description: Schema.String
}) {
  get [DbErrorTypeId](): DbErrorTypeId {
    return DbErrorTypeId
  }
  override get message() {
    return `corruption in ${this.file} at offset ${this.offset}: ${this.description}`
  }
}

/** The database was used after its scope closed. */
export class DbClosed extends Schema.TaggedError<DbClosed>()("stratadb/DbClosed", {
  method: Schema.String
}) {
  get [DbErrorTypeId](): DbErrorTypeId {
    return DbErrorTypeId
  }
  override get message() {
    return `${this.method}: the database is closed`
  }
}

/** Another open database (this process or another) holds the directory's LOCK. */
export class DbLocked extends Schema.TaggedError<DbLocked>()("stratadb/DbLocked", {
  directory: Schema.String,
  description: Schema.String
}) {
  get [DbErrorTypeId](): DbErrorTypeId {
    return DbErrorTypeId
  }
  override get message() {
    return `${this.directory} is locked: ${this.description}`
  }
}

/** The operation cannot run on this file system or in this configuration (says why). */
export class NotSupported extends Schema.TaggedError<NotSupported>()("stratadb/NotSupported", {
  method: Schema.String,
  description: Schema.String
}) {
  get [DbErrorTypeId](): DbErrorTypeId {
    return DbErrorTypeId
  }
  override get message() {
    return `${this.method}: ${this.description}`
  }
}

/**
 * The background fiber (flushes, compactions) died of a defect: something threw that no part of
 * the engine expected (a bug, or a `FileSystem` that throws instead of failing with a
 * `PlatformError`). It is not a statement about the bytes on disk: what was acknowledged is in
 * the WAL and reopening recovers it.
 *
 * Like any background failure it is kept as the database's background error: the background
 * work stops, and every later write, `flush` and `compactRange` fails with this same error, which
 * the caller can catch (`Effect.catchTag("stratadb/BackgroundDefect")`). `cause` is what was
 * thrown (also the `Error.cause` of this error, so a log shows its stack); it is logged once, at
 * error level, when the fiber dies.
 */
export class BackgroundDefect extends Schema.TaggedError<BackgroundDefect>()("stratadb/BackgroundDefect", {
  description: Schema.String,
  cause: Schema.Defect
}) {
  get [DbErrorTypeId](): DbErrorTypeId {
    return DbErrorTypeId
  }
  override get message() {
    return `background work died: ${this.description}`
  }
}

/** The errors stratadb defines (every `DbError` but `PlatformError`), each marked with `DbErrorTypeId`. */
export type StratadbError = InvalidArgument | Corruption | DbClosed | DbLocked | NotSupported | BackgroundDefect

/** Every error a database operation can fail with. */
export type DbError = StratadbError | PlatformError

/**
 * Whether `u` is one of stratadb's errors (`InvalidArgument`, `Corruption`, `DbClosed`,
 * `DbLocked`, `NotSupported`, `BackgroundDefect`), of this copy of the package or another: it
 * checks the `DbErrorTypeId` mark, not the class. `PlatformError` stays `@effect/platform`'s
 * (`isPlatformError`), so the guard narrows to `StratadbError`, leaving a `PlatformError` in the
 * other branch.
 */
export const isDbError = (u: unknown): u is StratadbError => Predicate.hasProperty(u, DbErrorTypeId)
