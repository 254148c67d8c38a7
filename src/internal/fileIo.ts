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

/** Replaces `path` atomically: write a temporary file, sync it, rename it over the target. */
export const replaceFileAtomically = (
  path: string,
  tempPath: string,
  bytes: Uint8Array
): Effect.Effect<void, PlatformError, FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    yield* writeFileSynced(tempPath, [bytes])
    yield* fs.rename(tempPath, path)
  })
