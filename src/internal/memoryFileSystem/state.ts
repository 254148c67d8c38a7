/**
 * The whole state of one in-memory filesystem: the tree and its directory journal, the open
 * handles, the armed faults, the power and the counters; and the events that act on all of it:
 * the beginning of a call, a fault check and a crash.
 */
import type { CrashOptions, FaultOp } from "../../MemoryFileSystem.js"
import { DirectoryJournal } from "./directoryJournal.js"
import { errnoError } from "./errno.js"
import { FileContent } from "./fileContent.js"
import { seededRandom } from "../seededRandom.js"
import { Faults } from "./faults.js"
import type { MemoryFile } from "./memoryFile.js"
import { Power } from "./power.js"
import type { DirectoryNode, FileNode } from "./tree.js"
import { walkFiles } from "./tree.js"

export class MemoryState {
  readonly root: DirectoryNode
  readonly handles = new Set<MemoryFile>()
  readonly faults = new Faults()
  readonly journal = new DirectoryJournal()
  readonly power = new Power()
  syncCount = 0
  /** Successful syncs of directory handles, by normalized path. */
  readonly directorySyncs = new Map<string, number>()
  private nextIno = 1
  private nextFd = 3
  private nextTemp = 0

  constructor() {
    this.root = this.newDirectory(0o755)
  }

  newFile(mode = 0o644): FileNode {
    const now = Date.now()
    return {
      _tag: "File",
      ino: this.nextIno++,
      mode: 0o100000 | (mode & 0o7777),
      uid: 0,
      gid: 0,
      atimeMs: now,
      mtimeMs: now,
      birthtimeMs: now,
      content: new FileContent(),
      nlink: 1
    }
  }

  newDirectory(mode = 0o755): DirectoryNode {
    const now = Date.now()
    return {
      _tag: "Directory",
      ino: this.nextIno++,
      mode: 0o40000 | (mode & 0o7777),
      uid: 0,
      gid: 0,
      atimeMs: now,
      mtimeMs: now,
      birthtimeMs: now,
      entries: new Map()
    }
  }

  descriptor(): number {
    return this.nextFd++
  }

  /** A fresh six-character name suffix for temporary files and directories. */
  tempSuffix(): string {
    return (this.nextTemp++).toString(36).padStart(6, "0")
  }

  /**
   * A file-system call begins (see `checkFault` for the arguments): counts it, cuts the power if
   * it is the armed call, fails with EIO while the power is off, then fires the faults of kind
   * `any`. Before anything else of the call, so a failed call changes nothing.
   */
  begin(
    method: string,
    syscall: string,
    where: string | number,
    path: string,
    other?: { readonly where: string; readonly path: string }
  ): void {
    const cut = this.power.tick()
    if (cut !== undefined) this.crash(cut)
    if (this.power.off) throw errnoError("EIO", method, syscall, where, other?.where)
    this.checkFault("any", method, syscall, where, path, other)
  }

  /**
   * Throws the errno of the first armed fault that fires for this call. `where` is the path or
   * descriptor named in the error, `path` the normalized path faults match on; `other` is the
   * second path of a rename.
   */
  checkFault(
    op: FaultOp,
    method: string,
    syscall: string,
    where: string | number,
    path: string,
    other?: { readonly where: string; readonly path: string }
  ): void {
    const code = this.faults.check(op, path, other?.path)
    if (code !== undefined) throw errnoError(code, method, syscall, where, other?.where)
  }

  /**
   * Power loss: open handles die; each directory goes back to its durable entries plus, with torn
   * writes, the pending operations of a random prefix (see `DirectoryJournal`); each file left goes
   * back to its synced bytes plus, with torn writes, a random prefix of its unsynced tail. Link
   * counts are recounted.
   */
  crash(options?: CrashOptions): void {
    for (const handle of this.handles) handle.kill()
    this.handles.clear()
    const random = options?.tornWrites === true ? seededRandom(options.seed ?? (Math.random() * 2 ** 32)) : undefined
    const pending = this.journal.pendingOperations()
    const kept = random === undefined ? 0 : Math.floor(random() * (pending.length + 1))
    const firstLost = kept < pending.length ? pending[kept]! : Infinity
    this.journal.crash(this.root, (op) => op < firstLost)
    const keepTail = random === undefined ? () => 0 : (tail: number) => Math.floor(random() * (tail + 1))
    const files = new Set<FileNode>()
    walkFiles(this.root, "/", (_, file) => {
      if (!files.has(file)) {
        files.add(file)
        file.nlink = 0
        file.content.revert(keepTail)
      }
      file.nlink++
    })
  }
}
