/**
 * Small file helpers over `@effect/platform`'s FileSystem used by several services.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import { Effect } from "effect"

/** Writes `chunks` to a new file and syncs it before returning. */
export const writeFileSynced = (
  path: string,
  chunks: ReadonlyArray<Uint8Array>
): Effect.Effect<void, PlatformError, FileSystem> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const file = yield* fs.open(path, { flag: "w" })
      for (const chunk of chunks) yield* file.writeAll(chunk)
      yield* file.sync
    })
  )

/**
 * Makes the entries of `directory` durable (files created, renamed or removed in it): fsync of
 * the directory opened read-only, as LevelDB's and RocksDB's `FsyncDir`. A file's own fsync does
 * not cover the name that points to it.
 */
export const syncDirectory = (directory: string): Effect.Effect<void, PlatformError, FileSystem> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const handle = yield* fs.open(directory, { flag: "r" })
      yield* handle.sync
    })
  )

/**
 * Replaces `path` (in `directory`) atomically and durably: write a temporary file, sync it,
 * rename it over the target, sync the directory.
 */
export const replaceFileAtomically = (
  directory: string,
  path: string,
  tempPath: string,
  bytes: Uint8Array
): Effect.Effect<void, PlatformError, FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    yield* writeFileSynced(tempPath, [bytes])
    yield* fs.rename(tempPath, path)
    yield* syncDirectory(directory)
  })

/**
 * Creates `directory` and any missing parents, and makes each new name durable: the parent of
 * every directory created is synced (a new directory's entry is in its parent, which its own
 * fsync does not cover). Nothing is synced when the directory already exists.
 */
export const makeDirectoryDurably = (
  directory: string,
  dirname: (path: string) => string
): Effect.Effect<void, PlatformError, FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const missing: Array<string> = []
    for (let d = directory; !(yield* fs.exists(d)); d = dirname(d)) {
      missing.push(d)
      if (dirname(d) === d) break
    }
    if (missing.length === 0) return
    yield* fs.makeDirectory(directory, { recursive: true })
    for (let i = missing.length - 1; i >= 0; i--) yield* syncDirectory(dirname(missing[i]!))
  })
