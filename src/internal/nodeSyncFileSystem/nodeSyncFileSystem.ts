/**
 * platform-node's `FileSystem` with `open` replaced: handles are `SyncFile`s. Opening goes through
 * the thread pool (`fs.open`); closing is `fs.closeSync` when the handle's scope closes.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer } from "effect"
import * as NFS from "node:fs"
import { nodeError } from "./nodeError.js"
import { SyncFile } from "./syncFile.js"
import { NodeFiles, SyncOpen, type SyncOpenFileSystem } from "../fs/fileCapabilities.js"

const openFile = (path: string, options?: FileSystem.OpenFileOptions): Effect.Effect<SyncFile, PlatformError> => {
  const flag = options?.flag ?? "r"
  return Effect.async<SyncFile, PlatformError>((resume) => {
    try {
      NFS.open(path, flag, options?.mode, (error, fd) => {
        resume(
          error === null
            ? Effect.succeed(new SyncFile(FileSystem.FileDescriptor(fd), flag.startsWith("a")))
            : Effect.fail(nodeError("open", error, path))
        )
      })
    } catch (error) {
      resume(Effect.fail(nodeError("open", error, path)))
    }
  })
}

/** `SyncOpen`: a read-only handle opened on the calling thread. */
const openSync = (path: string): SyncFile => {
  try {
    return new SyncFile(FileSystem.FileDescriptor(NFS.openSync(path, "r")), false)
  } catch (error) {
    throw nodeError("open", error, path)
  }
}

const syncOpen: SyncOpenFileSystem & { readonly [NodeFiles]: true } = { [SyncOpen]: openSync, [NodeFiles]: true }

const open: FileSystem.FileSystem["open"] = (path, options) =>
  Effect.acquireRelease(openFile(path, options), (file) => Effect.sync(() => file.close()))

/** platform-node's filesystem with synchronous handles. */
export const fileSystemLayer: Layer.Layer<FileSystem.FileSystem> = Layer.effect(
  FileSystem.FileSystem,
  Effect.map(FileSystem.FileSystem, (node) => FileSystem.make({ ...node, open, ...syncOpen }))
).pipe(Layer.provide(NodeFileSystem.layer))
