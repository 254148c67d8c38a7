/**
 * An open file of the in-memory filesystem: a node, a cursor and the access the open flag gave.
 * Reads and writes move the cursor, except that an append handle writes at the end and leaves the
 * cursor where it was (as platform-node's handle does). A handle is open until its scope closes,
 * or dead after a crash; a closed or dead handle fails with EBADF (`BadResource`).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Option } from "effect"
import { attempt } from "./attempt.js"
import { errnoError } from "./errno.js"
import type { MemoryState } from "./state.js"
import { fileInfo, type FileNode, type Node } from "./tree.js"
import { PositionalRead, SyncAppend } from "../fs/fileCapabilities.js"

export interface Access {
  readonly readable: boolean
  readonly writable: boolean
  readonly append: boolean
}

export class MemoryFile implements FileSystem.File {
  readonly [FileSystem.FileTypeId]: FileSystem.FileTypeId = FileSystem.FileTypeId
  private position = 0
  private status: "open" | "closed" | "dead" = "open"

  constructor(
    readonly fd: FileSystem.File.Descriptor,
    private readonly node: Node,
    /** The normalized path the handle was opened with (what faults match on). */
    private readonly path: string,
    private readonly access: Access,
    private readonly state: MemoryState
  ) {}

  get stat() {
    return attempt(() => {
      this.begin("stat", "fstat")
      this.state.checkFault("stat", "stat", "fstat", this.fd, this.path)
      return fileInfo(this.node)
    })
  }

  get sync() {
    return attempt(() => {
      this.begin("sync", "fsync")
      this.state.checkFault("sync", "sync", "fsync", this.fd, this.path)
      if (this.node._tag === "File") {
        this.node.content.sync()
      } else {
        this.state.journal.sync(this.node)
        this.state.directorySyncs.set(this.path, (this.state.directorySyncs.get(this.path) ?? 0) + 1)
      }
      this.state.syncCount++
    })
  }

  seek(offset: FileSystem.SizeInput, from: FileSystem.SeekMode) {
    return Effect.sync(() => {
      const n = Number(offset)
      this.position = from === "start" ? n : this.position + n
    })
  }

  read(buffer: Uint8Array) {
    return attempt(() => {
      this.begin("read", "read")
      const file = this.readableFile("read")
      const n = file.content.read(this.position, buffer)
      this.position += n
      return FileSystem.Size(n)
    })
  }

  /** `pread`: reads at `position` without moving the cursor (see fileCapabilities.ts). */
  [PositionalRead](buffer: Uint8Array, position: number): number {
    this.begin("read", "read")
    const saved = this.position
    this.position = position
    try {
      return this.readableFile("read").content.read(position, buffer)
    } finally {
      this.position = saved
    }
  }

  readAlloc(size: FileSystem.SizeInput) {
    return attempt(() => {
      this.begin("readAlloc", "read")
      const file = this.readableFile("readAlloc")
      const bytes = file.content.slice(this.position, Number(size))
      if (bytes.length === 0) return Option.none()
      this.position += bytes.length
      return Option.some(bytes)
    })
  }

  truncate(length?: FileSystem.SizeInput) {
    return attempt(() => {
      this.begin("truncate", "ftruncate")
      if (!this.access.writable || this.node._tag !== "File") {
        throw errnoError("EINVAL", "truncate", "ftruncate", this.fd)
      }
      const n = length === undefined ? 0 : Number(length)
      if (n < 0) throw errnoError("EINVAL", "truncate", "ftruncate", this.fd)
      this.state.checkFault("truncate", "truncate", "ftruncate", this.fd, this.path)
      this.node.content.truncate(n)
      this.node.mtimeMs = Date.now()
      if (!this.access.append && this.position > n) this.position = n
    })
  }

  write(buffer: Uint8Array) {
    return attempt(() => FileSystem.Size(this.writeAt("write", buffer)))
  }

  writeAll(buffer: Uint8Array) {
    return attempt(() => {
      this.writeAt("writeAll", buffer)
    })
  }

  /** `writeAll`, synchronously (see fileCapabilities.ts). */
  [SyncAppend](buffer: Uint8Array): void {
    this.writeAt("writeAll", buffer)
  }

  /** Scope release: closes the handle (a dead handle stays dead). */
  close(): void {
    if (this.status !== "open") return
    this.status = "closed"
    this.state.handles.delete(this)
  }

  /** Crash: the handle dies. */
  kill(): void {
    this.status = "dead"
  }

  private writeAt(method: string, buffer: Uint8Array): number {
    this.begin(method, "write")
    if (!this.access.writable || this.node._tag !== "File") throw errnoError("EBADF", method, "write", this.fd)
    if (this.position < 0) throw errnoError("EINVAL", method, "write", this.fd)
    this.state.checkFault("write", method, "write", this.fd, this.path)
    const content = this.node.content
    if (this.access.append) {
      content.write(content.length, buffer)
    } else {
      content.write(this.position, buffer)
      this.position += buffer.length
    }
    this.node.mtimeMs = Date.now()
    return buffer.length
  }

  private readableFile(method: string): FileNode {
    this.ensureOpen(method, "read")
    if (!this.access.readable) throw errnoError("EBADF", method, "read", this.fd)
    if (this.node._tag !== "File") throw errnoError("EISDIR", method, "read", this.fd)
    if (this.position < 0) throw errnoError("EINVAL", method, "read", this.fd)
    this.state.checkFault("read", method, "read", this.fd, this.path)
    return this.node
  }

  /** A call on this handle begins (see `MemoryState.begin`); then the handle must be open. */
  private begin(method: string, syscall: string): void {
    this.state.begin(method, syscall, this.fd, this.path)
    this.ensureOpen(method, syscall)
  }

  private ensureOpen(method: string, syscall: string): void {
    if (this.status !== "open") throw errnoError("EBADF", method, syscall, this.fd)
  }
}
