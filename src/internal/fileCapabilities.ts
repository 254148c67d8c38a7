/**
 * Optional capabilities of the File handles stratadb ships (NodeSyncFileSystem, MemoryFileSystem).
 * `@effect/platform`'s `File` has only a cursor and effectful calls; on these handles the same
 * operations also exist as plain synchronous calls, which keep the hot paths free of effect steps:
 *
 * - `PositionalRead` (`pread`): a block read is one call without moving the cursor; for any other
 *   FileSystem the table reader keeps `seek` + `read` behind a semaphore.
 * - `SyncAppend`: a WAL record is handed to the OS in one call, so a lone write is synchronous from
 *   start to end; for any other FileSystem the WAL uses `File.writeAll`.
 *
 * Both throw a `PlatformError` on failure.
 */
export const PositionalRead: unique symbol = Symbol.for("stratadb/PositionalRead")
export const SyncAppend: unique symbol = Symbol.for("stratadb/SyncAppend")

export interface PositionalReadFile {
  /** Reads into `buffer` from `position` without moving the cursor; bytes read (fewer only at EOF). */
  readonly [PositionalRead]: (buffer: Uint8Array, position: number) => number
}

export interface SyncAppendFile {
  /** Writes all of `buffer` as `File.writeAll` would, synchronously. */
  readonly [SyncAppend]: (buffer: Uint8Array) => void
}

export const hasPositionalRead = (file: object): file is PositionalReadFile =>
  typeof (file as Partial<PositionalReadFile>)[PositionalRead] === "function"

export const hasSyncAppend = (file: object): file is SyncAppendFile =>
  typeof (file as Partial<SyncAppendFile>)[SyncAppend] === "function"
