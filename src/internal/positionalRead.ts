/**
 * An optional capability of the File handles stratadb ships (NodeSyncFileSystem, MemoryFileSystem):
 * a synchronous positional read, `pread`. `@effect/platform`'s `File` only has a cursor (`seek`
 * then `read`, two steps), so for any other FileSystem the table reader keeps the cursor pair
 * behind a semaphore; with this capability a block read is one synchronous call and a point read
 * that misses the block cache stays synchronous from start to end.
 */
import type { PlatformError } from "@effect/platform/Error"

export const PositionalRead: unique symbol = Symbol.for("stratadb/PositionalRead")

export interface PositionalReadFile {
  /**
   * Reads into `buffer` from file offset `position` without moving the cursor; returns the bytes
   * read (fewer only at the end of the file). Throws a `PlatformError` on failure.
   */
  readonly [PositionalRead]: (buffer: Uint8Array, position: number) => number
}

export const hasPositionalRead = (file: object): file is PositionalReadFile =>
  typeof (file as Partial<PositionalReadFile>)[PositionalRead] === "function"

/** Thrown-error guard shared by the callers: a PlatformError is data, anything else a defect. */
export type PositionalReadError = PlatformError
