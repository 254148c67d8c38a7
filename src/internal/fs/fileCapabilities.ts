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
 * - `SyncOpen` (on the `FileSystem` itself): opens a file for reading in one synchronous call, so
 *   `Db.getSync` can open a table it has not opened yet. The handle is the caller's to `close()`.
 *
 * - `NodeFiles` (on the `FileSystem` itself): its paths are the Node process's own files, so a
 *   worker thread of the process may open them itself (the background worker does).
 *
 * All throw a `PlatformError` on failure.
 */
import type { File } from "@effect/platform/FileSystem"

export const PositionalRead: unique symbol = Symbol.for("stratadb/PositionalRead")
export const SyncAppend: unique symbol = Symbol.for("stratadb/SyncAppend")
export const SyncOpen: unique symbol = Symbol.for("stratadb/SyncOpen")
export const NodeFiles: unique symbol = Symbol.for("stratadb/NodeFiles")

export interface PositionalReadFile {
  /** Reads into `buffer` from `position` without moving the cursor; bytes read (fewer only at EOF). */
  readonly [PositionalRead]: (buffer: Uint8Array, position: number) => number
}

export interface SyncAppendFile {
  /**
   * Writes all of `buffer` as `File.writeAll` would, synchronously; `buffer` is not kept after it
   * returns (the WAL reuses it for the next record).
   */
  readonly [SyncAppend]: (buffer: Uint8Array) => void
}

export const hasPositionalRead = (file: object): file is PositionalReadFile =>
  typeof (file as Partial<PositionalReadFile>)[PositionalRead] === "function"

export const hasSyncAppend = (file: object): file is SyncAppendFile =>
  typeof (file as Partial<SyncAppendFile>)[SyncAppend] === "function"

/** A read-only handle opened synchronously; `close` releases it (idempotent). */
export type SyncOpenedFile = File & { close(): void }

export interface SyncOpenFileSystem {
  /** Opens `path` for reading now. */
  readonly [SyncOpen]: (path: string) => SyncOpenedFile
}

export const hasSyncOpen = (fs: object): fs is SyncOpenFileSystem =>
  typeof (fs as Partial<SyncOpenFileSystem>)[SyncOpen] === "function"

/** Whether the file system's paths are the process's own files (NodeSyncFileSystem). */
export const hasNodeFiles = (fs: object): boolean => (fs as { readonly [NodeFiles]?: boolean })[NodeFiles] === true
