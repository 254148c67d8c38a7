/**
 * The Node `FileSystem` for stratadb: `@effect/platform-node`'s, except that file handles from
 * `open` read, write, seek, truncate and stat synchronously on the calling thread (`fs.writeSync`,
 * `fs.readSync` at a cursor the handle keeps, `fs.ftruncateSync`, `fs.fstatSync`) and `sync` is an
 * asynchronous `fs.fdatasync`, so fsync does not block the event loop. Measured on Node 20: a
 * 116-byte `File.write` costs ~1-2 us here against ~50 us through platform-node's thread pool.
 * Everything else (directories, rename, readFile, ...) is platform-node's. Errors are the
 * same `SystemError`s (a closed handle fails with `BadResource`).
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Layer } from "effect"
import type { BackgroundWork } from "./BackgroundWork.js"
import * as BackgroundWorkLayers from "./BackgroundWork.js"
import { fileSystemLayer } from "./internal/nodeSyncFileSystem/nodeSyncFileSystem.js"

/**
 * stratadb's Node filesystem, Node's `Path`, and background work in a worker thread
 * (`BackgroundWork.worker`; provide `BackgroundWork.inline` closer to the database to opt out).
 */
export const layer: Layer.Layer<FileSystem.FileSystem | Path.Path | BackgroundWork> = Layer.mergeAll(
  fileSystemLayer,
  NodePath.layer,
  BackgroundWorkLayers.worker
)

/** Everything `NodeContext.layer` provides, with stratadb's Node filesystem. */
export const layerContext: Layer.Layer<NodeContext.NodeContext> = Layer.mergeAll(
  NodePath.layer,
  NodeCommandExecutor.layer,
  NodeTerminal.layer,
  NodeWorker.layerManager
).pipe(Layer.provideMerge(fileSystemLayer))
