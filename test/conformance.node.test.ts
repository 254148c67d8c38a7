import { FileSystem } from "@effect/platform/FileSystem"
import { Effect } from "effect"
import * as NodeSyncFileSystem from "../src/NodeSyncFileSystem.js"
import { conformanceSuite } from "./conformanceSuite.js"

conformanceSuite(
  "Node file system",
  NodeSyncFileSystem.layer,
  Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-test-" }))
)
