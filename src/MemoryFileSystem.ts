/**
 * An in-memory `FileSystem` with real file semantics (directories, cursors, append, truncate,
 * rename, hard links, temp directories), for tests, plus a control surface to simulate what disks
 * do to databases: power loss that keeps only fsynced bytes and fsynced directory entries
 * (`crash`, or `crashAt` a given call), optionally torn writes, injected errors (ENOSPC, EIO) by
 * operation and path, and bit flips.
 *
 * Paths are POSIX; relative paths resolve from "/". Errors are the `SystemError`s
 * `@effect/platform-node` gives for the same errno (same reason, same message shape), so code
 * behaves alike on this and on the Node filesystem. Opening a directory with flag "r" works (its
 * `sync` makes its entries durable, `read` fails EISDIR), as on Linux.
 *
 * Durability model: file contents are durable up to their last `File.sync`; `writeFile`,
 * `copyFile` and `truncate` by path are not syncs. A directory's entries are durable as of its last
 * directory sync (`File.sync` on a handle of the directory opened with flag "r"); a file's own sync
 * does not cover the name that points to it. Creates (`open` with a create flag, `writeFile`,
 * `copyFile`, `copy`, `link`, `makeDirectory`, `makeTemp*`), renames and removes change the entries
 * at once and are pending metadata operations of the directories they change (a rename across two
 * directories is pending in both) until each is synced. Power loss puts every directory back to
 * its durable entries and every file back to its synced bytes: an unsynced create is gone (with
 * everything in it, for a directory), an unsynced remove comes back with its synced bytes, an
 * unsynced rename is undone. With torn writes, the pending operations of a random prefix (in the
 * order they were made, across all directories, as a journaled file system commits metadata) are
 * replayed on top, and each file keeps a random prefix of its unsynced tail. "/" and "/tmp" are
 * durable from `make()`. `symlink` and `watch` are unsupported (they fail with `BadArgument`).
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Context, Effect, Layer } from "effect"
import * as internal from "./internal/memoryFileSystem/memoryFileSystem.js"

/** The kinds of operations a fault can fail (see `Fault`). */
export type FaultOp =
  | "any"
  | "write"
  | "read"
  | "sync"
  | "open"
  | "rename"
  | "remove"
  | "link"
  | "mkdir"
  | "readDirectory"
  | "stat"
  | "truncate"

/** The errno an injected fault fails with. */
export type FaultError = "ENOSPC" | "EIO"

/**
 * An injected fault. Operation kinds:
 * - `any`: every file-system call `callCount` counts, each once, before it does anything;
 * - `write`: `File.write`, `File.writeAll` and `writeFile`;
 * - `read`: `File.read`, `File.readAlloc` and `readFile`;
 * - `sync`: `File.sync` (of a file or of a directory);
 * - `open`: `open`, `readFile` and `writeFile`;
 * - `rename`, `remove`, `link`, `readDirectory`: those methods;
 * - `mkdir`: `makeDirectory`, and `makeTempDirectory*` and `makeTempFile*` (matched on the
 *   directory they make in, "/tmp" by default);
 * - `stat`: `stat` and `File.stat`;
 * - `truncate`: `truncate` and `File.truncate`.
 * Handle operations match on the (normalized) path the handle was opened with; `rename`, `link`
 * (and `any` on `copy`, `copyFile`, `symlink`) match if either path does.
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
  /**
   * Keep, after each file's synced bytes, a random prefix of its unsynced tail, and replay a random
   * prefix of the pending directory operations. Default false.
   */
  readonly tornWrites?: boolean
  /** Seed of the torn-write prefixes, for a reproducible crash. */
  readonly seed?: number
}

export interface CrashAtOptions extends CrashOptions {
  /** The number of the call to crash at, as `callCount` counts (the first call is 1). */
  readonly call: number
}

export interface FileEntry {
  readonly path: string
  readonly size: number
}

/** The test controls of an in-memory filesystem. */
export interface MemoryFileSystem {
  /**
   * Power loss: every directory goes back to its entries at its last sync, every file to its
   * content at its last `File.sync` (a file never synced becomes empty); with `tornWrites`, a
   * random prefix of the pending directory operations is replayed and each file keeps a random
   * prefix of its unsynced tail too (see the module's durability model). The handles open at the
   * crash are dead afterwards: their operations fail with `BadResource` and closing them does
   * nothing. The filesystem keeps working for new opens.
   */
  readonly crash: (options?: CrashOptions) => Effect.Effect<void>
  /**
   * Arms a power loss at the call numbered `options.call` (or at the next call, if that number has
   * passed): when that call is about to run, the filesystem crashes as `crash(options)` does
   * instead of running it, and that call and every later one fail with EIO (the machine is off)
   * until `restart`. Replaces a crash armed before and not yet fired.
   */
  readonly crashAt: (options: CrashAtOptions) => Effect.Effect<void>
  /**
   * Ends an outage that `crashAt` began (the filesystem works again for new opens; handles open
   * at the crash stay dead), and disarms a `crashAt` not yet fired. Faults are kept.
   */
  readonly restart: Effect.Effect<void>
  /**
   * Number of file-system calls so far, failed ones included: every `FileSystem` method (once per
   * call; the methods `FileSystem.make` derives count as the calls they make) and every `File`
   * method but `seek` (closing a handle is not a call). Never reset.
   */
  readonly callCount: Effect.Effect<number>
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
