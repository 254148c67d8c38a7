/**
 * A table file read by offset, and the failures reading one can meet. Every read of a table (its
 * footer and metadata at open, its data blocks after) goes through a `TableFile`: `readAtSync`
 * when the handle has a positional read (stratadb's own file systems, see fileCapabilities.ts: a
 * read is then one plain call, no effect), `readAt` otherwise (`seek` + `read` behind a lock, for
 * any other `FileSystem`).
 *
 * Readers built on it answer in one shape: a value now, a failure now (`TableError`, returned, not
 * thrown), or an effect when the file system must wait. Callers test for the value first (the hot
 * path), then `isTableError`; what remains is the effect.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import type { File } from "@effect/platform/FileSystem"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { Corruption, NotSupported } from "../../errors.js"
import { hasPositionalRead, PositionalRead } from "../fs/fileCapabilities.js"

/** What reading a table can fail with. */
export type TableError = Corruption | NotSupported | PlatformError

/** True for a `TableError` (errors are values on the synchronous paths). */
export const isTableError = (u: unknown): u is TableError =>
  u instanceof Corruption || u instanceof NotSupported || isPlatformError(u)

/** Reads `length` bytes at `offset` (fewer only at the end of the file). */
export type ReadAt = (offset: number, length: number) => Effect.Effect<Uint8Array, PlatformError>

/**
 * `ReadAt` in one synchronous call, into `into` when given (which must hold `length` bytes);
 * throws a `PlatformError` on failure.
 */
export type ReadAtSync = (offset: number, length: number, into?: Uint8Array) => Uint8Array

export interface TableFile {
  readonly number: number
  /** The file's name, for `Corruption` reports. */
  readonly name: string
  readonly size: number
  readonly readAt: ReadAt
  /** Present when the handle reads synchronously: then every read uses it. */
  readonly readAtSync: ReadAtSync | undefined
}

/** The `TableFile` over an open handle of table `number`. */
export const tableFileOf = (handle: File, number: number, name: string, size: number): TableFile => {
  const readAtSync = readAtSyncOf(handle)
  return {
    number,
    name,
    size,
    readAt: readAtSync === undefined ? readAtOf(handle) : (offset, length) => readNow(readAtSync, offset, length),
    readAtSync
  }
}

const readNow = (readAtSync: ReadAtSync, offset: number, length: number): Effect.Effect<Uint8Array, PlatformError> =>
  Effect.try({ try: () => readAtSync(offset, length), catch: (e) => e as PlatformError })

/** The positional read as a `ReadAtSync`, when the handle has one. */
const readAtSyncOf = (handle: File): ReadAtSync | undefined => {
  if (!hasPositionalRead(handle)) return undefined
  const pread = handle[PositionalRead]
  return (offset, length, into) => {
    const target = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length)
    const n = pread.call(handle, target, offset)
    return n === length ? target : target.subarray(0, n)
  }
}

/** `seek` + `read` until `length` bytes or the end of the file; the lock keeps two reads' seeks apart. */
const readAtOf = (handle: File): ReadAt => {
  const lock = Effect.unsafeMakeSemaphore(1)
  return (offset, length) =>
    lock.withPermits(1)(
      Effect.gen(function* () {
        yield* handle.seek(offset, "start")
        const buffer = new Uint8Array(length)
        let filled = 0
        while (filled < length) {
          const n = Number(yield* handle.read(buffer.subarray(filled)))
          if (n === 0) break
          filled += n
        }
        return filled === length ? buffer : buffer.subarray(0, filled)
      })
    )
}
