/**
 * Our Node filesystem against the shared suite, and platform-node's as the reference (a test that
 * passes there and fails on ours is a bug of ours); plus what only the synchronous handles do.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Layer } from "effect"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { fileSystemSuite } from "./fileSystemSuite.js"

fileSystemSuite("NodeSyncFileSystem", NodeSyncFileSystem.layer, { guardedHandles: true })
fileSystemSuite("NodeSyncFileSystem.layerContext", NodeSyncFileSystem.layerContext, { guardedHandles: true })
fileSystemSuite("platform-node NodeFileSystem (reference)", Layer.merge(NodeFileSystem.layer, NodePath.layer), {
  guardedHandles: false
})
