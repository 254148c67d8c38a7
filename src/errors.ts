/**
 * The typed errors of stratadb. Absence of a key is `Option.none()`, never an error.
 * I/O failures surface as `@effect/platform`'s `PlatformError`.
 */
import type { PlatformError } from "@effect/platform/Error"
import { Schema } from "effect"

/** Bad input or bad options: nothing was written. */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  method: Schema.String,
  description: Schema.String
}) {
  override get message() {
    return `${this.method}: ${this.description}`
  }
}

/** Bytes on disk that fail a checksum or do not parse: names the file and the offset. */
export class Corruption extends Schema.TaggedError<Corruption>()("Corruption", {
  file: Schema.String,
  offset: Schema.Number,
  description: Schema.String
}) {
  override get message() {
    return `corruption in ${this.file} at offset ${this.offset}: ${this.description}`
  }
}

/** The database was used after its scope closed. */
export class DbClosed extends Schema.TaggedError<DbClosed>()("DbClosed", {
  method: Schema.String
}) {
  override get message() {
    return `${this.method}: the database is closed`
  }
}

/** Another open database (this process or another) holds the directory's LOCK. */
export class DbLocked extends Schema.TaggedError<DbLocked>()("DbLocked", {
  directory: Schema.String,
  description: Schema.String
}) {
  override get message() {
    return `${this.directory} is locked: ${this.description}`
  }
}

/** The operation cannot run on this file system or in this configuration (says why). */
export class NotSupported extends Schema.TaggedError<NotSupported>()("NotSupported", {
  method: Schema.String,
  description: Schema.String
}) {
  override get message() {
    return `${this.method}: ${this.description}`
  }
}

/** Every error a database operation can fail with. */
export type DbError = InvalidArgument | Corruption | DbClosed | DbLocked | NotSupported | PlatformError
