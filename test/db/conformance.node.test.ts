import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import { Effect, Layer } from "effect"
import * as BackgroundWork from "../../src/BackgroundWork.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { conformanceSuite } from "./conformanceSuite.js"
import { readApiSuite } from "./readApiSuite.js"

// NodeSyncFileSystem.layer runs background work in a worker thread; the same suite again inline.
conformanceSuite(
  "Node file system (background work in a worker thread)",
  NodeSyncFileSystem.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" })),
  "worker"
)

// Its bulk test reads 100,000 keys: the worker suite above reads 200,000 on the same file system.
conformanceSuite(
  "Node file system (background work inline)",
  Layer.merge(NodeSyncFileSystem.layer, BackgroundWork.inline),
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" })),
  "inline",
  100_000
)

// @effect/platform-node's own file system: no positional reads, so tables read through the
// seek-then-read path behind a semaphore. Its bulk test has 50,000 keys (200,000 took 97 s here):
// the path is the same at any size, and the two suites above read 200,000.
conformanceSuite(
  "NodeContext (platform-node's file system)",
  NodeContext.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" })),
  "inline",
  50_000
)

readApiSuite(
  "Node file system",
  NodeSyncFileSystem.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" })),
  true
)

readApiSuite(
  "NodeContext (platform-node's file system)",
  NodeContext.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" })),
  false
)
