/**
 * An in-memory `FileSystem` with real file semantics (directories, cursors, append, truncate,
 * rename, hard links, temp directories), for tests, plus a control surface to simulate what disks
 * do to databases: power loss that keeps only fsynced bytes (`crash`), optionally torn writes,
 * injected errors (ENOSPC, EIO) by operation and path, and bit flips.
 *
 * Paths are POSIX; relative paths resolve from "/". Errors are the `SystemError`s
 * `@effect/platform-node` gives for the same errno (same reason, same message shape), so code
 * behaves alike on this and on the Node filesystem. Opening a directory with flag "r" works (its
 * `sync` is a no-op, `read` fails EISDIR), as on Linux.
 *
 * Durability model: file contents are durable up to their last `File.sync`; `writeFile`,
 * `copyFile` and `truncate` by path are not syncs. Metadata (create, rename, remove, mkdir) is
 * durable at once. `symlink` and `watch` are unsupported (they fail with `BadArgument`).
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Context, Effect, Layer } from "effect"
import * as internal from "./internal/memoryFileSystem/memoryFileSystem.js"

/** The kinds of operations a fault can fail. */
export type FaultOp = "write" | "sync" | "open" | "rename" | "remove" | "read"

/** The errno an injected fault fails with. */
export type FaultError = "ENOSPC" | "EIO"

/**
 * An injected fault. Operation kinds: `write` is `File.write`, `File.writeAll` and `writeFile`;
 * `read` is `File.read`, `File.readAlloc` and `readFile`; `sync` is `File.sync`; `open` is `open`,
 * `readFile` and `writeFile`; `rename` and `remove` are those methods. Handle operations match on the
 * (normalized) path the handle was opened with; `rename` matches if either path does.
 * A failed operation changes nothing.
 */
export interface Fault {
  readonly op: FaultOp
  /** Which paths (absolute, normalized): a path, a pattern or a predicate. Default: every path. */
  readonly path?: string | RegExp | ((path: string) => boolean)
  readonly error: FaultError
  /** How many matching calls fail. Default: all of them. */
  readonly times?: number
  /** How many matching calls succeed before the fault starts firing. Default 0. */
  readonly after?: number
}

export interface CrashOptions {
  /** Keep, after each file's synced bytes, a random prefix of its unsynced tail. Default false. */
  readonly tornWrites?: boolean
  /** Seed of the torn-write prefixes, for a reproducible crash. */
  readonly seed?: number
}

export interface FileEntry {
  readonly path: string
  readonly size: number
}

/** The test controls of an in-memory filesystem. */
export interface MemoryFileSystem {
  /**
   * Power loss: every file goes back to its content at its last `File.sync` (a file never synced
   * becomes empty); with `tornWrites`, each keeps a random prefix of its unsynced tail too. The
   * handles open at the crash are dead afterwards: their operations fail with `BadResource` and
   * closing them does nothing. The filesystem keeps working for new opens.
   */
  readonly crash: (options?: CrashOptions) => Effect.Effect<void>
  /** Arms a fault (see `Fault`). */
  readonly injectFault: (fault: Fault) => Effect.Effect<void>
  /** Disarms every fault. */
  readonly clearFaults: Effect.Effect<void>
  /** XORs the byte at `offset` of a file with `mask` (default 0xff), in its current and synced content. */
  readonly flipByte: (path: string, offset: number, mask?: number) => Effect.Effect<void, PlatformError>
  /** Number of file handles open now. */
  readonly openHandles: Effect.Effect<number>
  /** Every file with its current size, by path. */
  readonly listFiles: Effect.Effect<ReadonlyArray<FileEntry>>
  /** A copy of a file's current bytes. */
  readonly fileBytes: (path: string) => Effect.Effect<Uint8Array, PlatformError>
  /** Number of successful `File.sync` calls so far. */
  readonly syncCount: Effect.Effect<number>
  /** Number of successful `File.sync` calls on a handle of directory `path` (opened with flag "r"). */
  readonly directorySyncs: (path: string) => Effect.Effect<number>
}

export const MemoryFileSystem: Context.Tag<MemoryFileSystem, MemoryFileSystem> = Context.GenericTag<
  MemoryFileSystem
>("stratadb/MemoryFileSystem")

/** A fresh, empty in-memory filesystem (with /tmp) and its controls. */
export const make: () => Effect.Effect<{
  readonly fileSystem: FileSystem.FileSystem
  readonly control: MemoryFileSystem
}> = internal.make

/** A fresh, empty in-memory filesystem per build, with its controls and the POSIX `Path`. */
export const layer: Layer.Layer<FileSystem.FileSystem | Path.Path | MemoryFileSystem> = Layer.merge(
  Layer.effectContext(
    Effect.map(make(), ({ control, fileSystem }) =>
      Context.make(FileSystem.FileSystem, fileSystem).pipe(Context.add(MemoryFileSystem, control)))
  ),
  Path.layer
)
