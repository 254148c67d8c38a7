/**
 * The directory tree of the in-memory filesystem: inodes (files and directories) and name lookup.
 * Lookups return the node, or the errno that POSIX gives for the path (ENOENT when a name is
 * missing, ENOTDIR when a name on the way is a file).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Option } from "effect"
import type { FileContent } from "./fileContent.js"

interface NodeBase {
  readonly ino: number
  mode: number
  uid: number
  gid: number
  atimeMs: number
  mtimeMs: number
  readonly birthtimeMs: number
}

export interface FileNode extends NodeBase {
  readonly _tag: "File"
  readonly content: FileContent
  /** Directory entries naming this file (hard links). */
  nlink: number
}

export interface DirectoryNode extends NodeBase {
  readonly _tag: "Directory"
  readonly entries: Map<string, Node>
}

export type Node = FileNode | DirectoryNode

/** The node at `names` from `root`. */
export const lookup = (root: DirectoryNode, names: ReadonlyArray<string>): Node | "ENOENT" | "ENOTDIR" => {
  let node: Node = root
  for (let i = 0; i < names.length; i++) {
    if (node._tag !== "Directory") return "ENOTDIR"
    const next: Node | undefined = node.entries.get(names[i]!)
    if (next === undefined) return "ENOENT"
    node = next
  }
  return node
}

/** The directory holding the last of `names` (which must not be empty). */
export const lookupParent = (
  root: DirectoryNode,
  names: ReadonlyArray<string>
): DirectoryNode | "ENOENT" | "ENOTDIR" => {
  const parent = lookup(root, names.slice(0, -1))
  if (typeof parent === "string") return parent
  return parent._tag === "Directory" ? parent : "ENOTDIR"
}

/** Every file under `dir` with its absolute path, in name order. */
export const walkFiles = (dir: DirectoryNode, prefix: string, visit: (path: string, file: FileNode) => void): void => {
  for (const name of [...dir.entries.keys()].sort()) {
    const node = dir.entries.get(name)!
    const path = prefix === "/" ? "/" + name : prefix + "/" + name
    if (node._tag === "File") visit(path, node)
    else walkFiles(node, path, visit)
  }
}

const BLOCK = 4096

/** `stat` of a node, shaped like platform-node's. */
export const fileInfo = (node: Node): FileSystem.File.Info => {
  const size = node._tag === "File" ? node.content.length : BLOCK
  return {
    type: node._tag,
    mtime: Option.some(new Date(node.mtimeMs)),
    atime: Option.some(new Date(node.atimeMs)),
    birthtime: Option.some(new Date(node.birthtimeMs)),
    dev: 1,
    ino: Option.some(node.ino),
    mode: node.mode,
    nlink: Option.some(node._tag === "File" ? node.nlink : 2),
    uid: Option.some(node.uid),
    gid: Option.some(node.gid),
    rdev: Option.some(0),
    size: FileSystem.Size(size),
    blksize: Option.some(FileSystem.Size(BLOCK)),
    blocks: Option.some(Math.ceil(size / BLOCK) * (BLOCK / 512))
  }
}
