import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import { Effect } from "effect"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { conformanceSuite } from "./conformanceSuite.js"
import { readApiSuite } from "./readApiSuite.js"

conformanceSuite(
  "Node file system",
  NodeSyncFileSystem.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" }))
)

// @effect/platform-node's own file system: no positional reads, so tables read through the
// seek-then-read path behind a semaphore.
conformanceSuite(
  "NodeContext (platform-node's file system)",
  NodeContext.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" }))
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
