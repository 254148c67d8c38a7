/**
 * The in-memory `FileSystem` (built with `FileSystem.make`) and its test controls, over one
 * `MemoryState`. Every operation is synchronous code that throws the `SystemError` Node would give
 * (see `errno.ts`), run through `attempt`; it begins with `state.begin` (counted, failed while the
 * power is off) and changes directory entries only through `state.journal` (pending until the
 * directory is synced).
 */
import { BadArgument, SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect, Stream } from "effect"
import type { FileEntry, MemoryFileSystem } from "../../MemoryFileSystem.js"
import { attempt } from "./attempt.js"
import { SyncOpen, type SyncOpenFileSystem } from "../fs/fileCapabilities.js"
import { type Errno, errnoError } from "./errno.js"
import { type Access, MemoryFile } from "./memoryFile.js"
import { join, normalize, segments } from "./path.js"
import { MemoryState } from "./state.js"
import { type DirectoryNode, type FileNode, fileInfo, lookup, lookupParent, type Node, walkFiles } from "./tree.js"

interface FlagSemantics extends Access {
  readonly create: boolean
  readonly truncate: boolean
  readonly exclusive: boolean
}

const flag = (
  readable: boolean,
  writable: boolean,
  append: boolean,
  create: boolean,
  truncate: boolean,
  exclusive: boolean
): FlagSemantics => ({ readable, writable, append, create, truncate, exclusive })

const FLAGS: Record<FileSystem.OpenFlag, FlagSemantics> = {
  "r": flag(true, false, false, false, false, false),
  "r+": flag(true, true, false, false, false, false),
  "w": flag(false, true, false, true, true, false),
  "w+": flag(true, true, false, true, true, false),
  "wx": flag(false, true, false, true, true, true),
  "wx+": flag(true, true, false, true, true, true),
  "a": flag(false, true, true, true, false, false),
  "a+": flag(true, true, true, true, false, false),
  "ax": flag(false, true, true, true, false, true),
  "ax+": flag(true, true, true, true, false, true)
}

const unsupported = (method: string) =>
  new BadArgument({
    module: "FileSystem",
    method,
    description: `${method} is not supported by the in-memory filesystem`
  })

const startsWith = (names: ReadonlyArray<string>, prefix: ReadonlyArray<string>): boolean =>
  names.length >= prefix.length && prefix.every((name, i) => names[i] === name)

const toMs = (time: Date | number): number => typeof time === "number" ? time * 1000 : time.getTime()

/** A fresh filesystem with an empty /tmp, and its controls. */
export const make = (): Effect.Effect<{
  readonly fileSystem: FileSystem.FileSystem
  readonly control: MemoryFileSystem
}> =>
  Effect.sync(() => {
    const state = new MemoryState()
    state.root.entries.set("tmp", state.newDirectory(0o777))
    return { fileSystem: makeFileSystem(state), control: makeControl(state) }
  })

const makeFileSystem = (state: MemoryState): FileSystem.FileSystem => {
  const root = state.root

  /** The node at `path`, or the errno Node gives. */
  const nodeAt = (method: string, syscall: string, path: string, dest?: string): Node => {
    const found = lookup(root, segments(path))
    if (typeof found === "string") throw errnoError(found, method, syscall, path, dest)
    return found
  }

  /** The directory that holds (or would hold) `names`' last name; `rootCode` is the errno for "/". */
  const parentOf = (
    method: string,
    syscall: string,
    path: string,
    names: ReadonlyArray<string>,
    rootCode: Errno,
    dest?: string
  ): DirectoryNode => {
    if (names.length === 0) throw errnoError(rootCode, method, syscall, path, dest)
    const dir = lookupParent(root, names)
    if (typeof dir === "string") throw errnoError(dir, method, syscall, path, dest)
    return dir
  }

  const addFile = (dir: DirectoryNode, name: string, mode?: number): FileNode => {
    const file = state.newFile(mode)
    state.journal.apply([dir, name, file])
    dir.mtimeMs = file.birthtimeMs
    return file
  }

  const unlinkEntry = (dir: DirectoryNode, name: string): void => {
    const node = dir.entries.get(name)
    if (node === undefined) return
    state.journal.apply([dir, name, undefined])
    dir.mtimeMs = Date.now()
    if (node._tag === "File") node.nlink--
  }

  /** Resolves `path` the way open(2) does with `semantics`, creating or truncating the file. */
  const openNode = (method: string, path: string, semantics: FlagSemantics, mode?: number): Node => {
    const names = segments(path)
    let node: Node
    if (names.length === 0) {
      if (semantics.exclusive) throw errnoError("EEXIST", method, "open", path)
      node = root
    } else {
      const dir = parentOf(method, "open", path, names, "EISDIR")
      const existing = dir.entries.get(names[names.length - 1]!)
      if (existing !== undefined) {
        if (semantics.exclusive) throw errnoError("EEXIST", method, "open", path)
        node = existing
      } else {
        if (!semantics.create) throw errnoError("ENOENT", method, "open", path)
        node = addFile(dir, names[names.length - 1]!, mode)
      }
    }
    if (node._tag === "Directory") {
      if (semantics.writable) throw errnoError("EISDIR", method, "open", path)
    } else if (semantics.truncate && node.content.length > 0) {
      node.content.truncate(0)
      node.mtimeMs = Date.now()
    }
    return node
  }

  const makeDirectories = (method: string, path: string, mode?: number): void => {
    const names = segments(path)
    let dir = root
    for (let i = 0; i < names.length; i++) {
      const existing = dir.entries.get(names[i]!)
      if (existing === undefined) {
        const created = state.newDirectory(mode)
        state.journal.apply([dir, names[i]!, created])
        dir.mtimeMs = created.birthtimeMs
        dir = created
      } else if (existing._tag === "Directory") {
        dir = existing
      } else {
        throw errnoError(i === names.length - 1 ? "EEXIST" : "ENOTDIR", method, "mkdir", path)
      }
    }
  }

  /** The start of a `makeTemp*` call: `begin`, then the `mkdir` faults, on the directory it makes in. */
  const beginMakeTemp = (method: string, options?: FileSystem.MakeTempDirectoryOptions): void => {
    const directory = options?.directory ?? "/tmp"
    state.begin(method, "mkdtemp", directory, normalize(directory))
    state.checkFault("mkdir", method, "mkdtemp", directory, normalize(directory))
  }

  const makeTempDirectoryNow = (method: string, options?: FileSystem.MakeTempDirectoryOptions): string => {
    const directory = options?.directory ?? "/tmp"
    if (options?.directory === undefined) makeDirectories(method, directory)
    const prefix = options?.prefix ?? ""
    for (;;) {
      const candidate = `${directory}/${prefix}${state.tempSuffix()}`
      const names = segments(candidate)
      const dir = parentOf(method, "mkdtemp", `${directory}/${prefix}XXXXXX`, names, "EEXIST")
      const name = names[names.length - 1]!
      if (dir.entries.has(name)) continue
      const created = state.newDirectory(0o700)
      state.journal.apply([dir, name, created])
      dir.mtimeMs = created.birthtimeMs
      return join(names)
    }
  }

  const makeTempFileNow = (method: string, options?: FileSystem.MakeTempFileOptions): string => {
    const directory = makeTempDirectoryNow(method, options)
    const name = state.tempSuffix() + (options?.suffix ?? "")
    addFile(lookup(root, segments(directory)) as DirectoryNode, name, 0o600)
    return `${directory}/${name}`
  }

  /** Cleanup of the scoped temporaries: removes `path` if still there, ignoring faults. */
  const removeQuietly = (path: string) =>
    Effect.sync(() => {
      if (state.power.off) return
      const names = segments(path)
      const dir = lookupParent(root, names)
      if (typeof dir !== "string" && names.length > 0) unlinkEntry(dir, names[names.length - 1]!)
    })

  const copyInto = (source: Node, names: ReadonlyArray<string>, overwrite: boolean, toPath: string): void => {
    let dir = root
    for (let i = 0; i < names.length - 1; i++) {
      const next = dir.entries.get(names[i]!)
      if (next === undefined) {
        const created = state.newDirectory()
        state.journal.apply([dir, names[i]!, created])
        dir = created
      } else if (next._tag === "Directory") {
        dir = next
      } else {
        throw errnoError("ENOTDIR", "copy", "cp", toPath)
      }
    }
    const name = names[names.length - 1]!
    const existing = dir.entries.get(name)
    if (source._tag === "File") {
      if (existing === undefined) addFile(dir, name, source.mode).content.replace(source.content.snapshot())
      else if (existing._tag === "Directory") throw errnoError("EISDIR", "copy", "cp", toPath)
      else if (overwrite) existing.content.replace(source.content.snapshot())
      return
    }
    if (existing === undefined) state.journal.apply([dir, name, state.newDirectory(source.mode)])
    else if (existing._tag !== "Directory") throw errnoError("ENOTDIR", "copy", "cp", toPath)
    for (const [child, node] of [...source.entries]) {
      copyInto(node, [...names, child], overwrite, `${toPath}/${child}`)
    }
  }

  const listDirectory = (dir: DirectoryNode, prefix: string, recursive: boolean, out: Array<string>): void => {
    for (const name of [...dir.entries.keys()].sort()) {
      const node = dir.entries.get(name)!
      out.push(prefix + name)
      if (recursive && node._tag === "Directory") listDirectory(node, prefix + name + "/", true, out)
    }
  }

  const openNow = (path: string, options: FileSystem.OpenFileOptions | undefined): MemoryFile => {
    const normalized = normalize(path)
    state.begin("open", "open", path, normalized)
    state.checkFault("open", "open", "open", path, normalized)
    const semantics = FLAGS[options?.flag ?? "r"]
    const node = openNode("open", path, semantics, options?.mode)
    const file = new MemoryFile(FileSystem.FileDescriptor(state.descriptor()), node, normalized, semantics, state)
    state.handles.add(file)
    return file
  }

  const syncOpen: SyncOpenFileSystem = { [SyncOpen]: (path: string) => openNow(path, { flag: "r" }) }
  return FileSystem.make({
    ...syncOpen,
    access: (path) =>
      attempt(() => {
        state.begin("access", "access", path, normalize(path))
        nodeAt("access", "access", path)
      }),

    copy: (fromPath, toPath, options) =>
      attempt(() => {
        state.begin("copy", "cp", fromPath, normalize(fromPath), { where: toPath, path: normalize(toPath) })
        const source = nodeAt("copy", "cp", fromPath, toPath)
        const from = segments(fromPath)
        const to = segments(toPath)
        if (to.length === 0 || (source._tag === "Directory" && startsWith(to, from))) {
          throw errnoError("EINVAL", "copy", "cp", fromPath, toPath)
        }
        copyInto(source, to, options?.overwrite ?? false, toPath)
      }),

    copyFile: (fromPath, toPath) =>
      attempt(() => {
        state.begin("copyFile", "copyfile", fromPath, normalize(fromPath), { where: toPath, path: normalize(toPath) })
        const source = nodeAt("copyFile", "copyfile", fromPath, toPath)
        if (source._tag === "Directory") throw errnoError("EISDIR", "copyFile", "copyfile", fromPath, toPath)
        const names = segments(toPath)
        const dir = parentOf("copyFile", "copyfile", fromPath, names, "EISDIR", toPath)
        const existing = dir.entries.get(names[names.length - 1]!)
        const bytes = source.content.snapshot()
        if (existing === undefined) addFile(dir, names[names.length - 1]!, source.mode).content.replace(bytes)
        else if (existing._tag === "Directory") throw errnoError("EISDIR", "copyFile", "copyfile", fromPath, toPath)
        else existing.content.replace(bytes)
      }),

    chmod: (path, mode) =>
      attempt(() => {
        state.begin("chmod", "chmod", path, normalize(path))
        const node = nodeAt("chmod", "chmod", path)
        node.mode = (node.mode & ~0o7777) | (mode & 0o7777)
      }),

    chown: (path, uid, gid) =>
      attempt(() => {
        state.begin("chown", "chown", path, normalize(path))
        const node = nodeAt("chown", "chown", path)
        node.uid = uid
        node.gid = gid
      }),

    link: (fromPath, toPath) =>
      attempt(() => {
        const paths = [fromPath, normalize(fromPath), { where: toPath, path: normalize(toPath) }] as const
        state.begin("link", "link", ...paths)
        state.checkFault("link", "link", "link", ...paths)
        const source = nodeAt("link", "link", fromPath, toPath)
        if (source._tag === "Directory") throw errnoError("EPERM", "link", "link", fromPath, toPath)
        const names = segments(toPath)
        const dir = parentOf("link", "link", fromPath, names, "EEXIST", toPath)
        if (dir.entries.has(names[names.length - 1]!)) throw errnoError("EEXIST", "link", "link", fromPath, toPath)
        state.journal.apply([dir, names[names.length - 1]!, source])
        source.nlink++
      }),

    makeDirectory: (path, options) =>
      attempt(() => {
        state.begin("makeDirectory", "mkdir", path, normalize(path))
        state.checkFault("mkdir", "makeDirectory", "mkdir", path, normalize(path))
        if (options?.recursive === true) return makeDirectories("makeDirectory", path, options.mode)
        const names = segments(path)
        const dir = parentOf("makeDirectory", "mkdir", path, names, "EEXIST")
        if (dir.entries.has(names[names.length - 1]!)) throw errnoError("EEXIST", "makeDirectory", "mkdir", path)
        const created = state.newDirectory(options?.mode)
        state.journal.apply([dir, names[names.length - 1]!, created])
        dir.mtimeMs = created.birthtimeMs
      }),

    makeTempDirectory: (options) =>
      attempt(() => {
        beginMakeTemp("makeTempDirectory", options)
        return makeTempDirectoryNow("makeTempDirectory", options)
      }),

    makeTempDirectoryScoped: (options) =>
      Effect.acquireRelease(
        attempt(() => {
          beginMakeTemp("makeTempDirectoryScoped", options)
          return makeTempDirectoryNow("makeTempDirectoryScoped", options)
        }),
        removeQuietly
      ),

    makeTempFile: (options) =>
      attempt(() => {
        beginMakeTemp("makeTempFile", options)
        return makeTempFileNow("makeTempFile", options)
      }),

    makeTempFileScoped: (options) =>
      Effect.acquireRelease(
        attempt(() => {
          beginMakeTemp("makeTempFileScoped", options)
          return makeTempFileNow("makeTempFileScoped", options)
        }),
        (path) => removeQuietly(join(segments(path).slice(0, -1)))
      ),

    open: (path, options) =>
      Effect.acquireRelease(
        attempt(() => openNow(path, options)),
        (file) => Effect.sync(() => file.close())
      ),


    readDirectory: (path, options) =>
      attempt(() => {
        state.begin("readDirectory", "scandir", path, normalize(path))
        state.checkFault("readDirectory", "readDirectory", "scandir", path, normalize(path))
        const node = nodeAt("readDirectory", "scandir", path)
        if (node._tag !== "Directory") throw errnoError("ENOTDIR", "readDirectory", "scandir", path)
        const out: Array<string> = []
        listDirectory(node, "", options?.recursive === true, out)
        return out
      }),

    readFile: (path) =>
      attempt(() => {
        const normalized = normalize(path)
        state.begin("readFile", "open", path, normalized)
        state.checkFault("open", "readFile", "open", path, normalized)
        const node = nodeAt("readFile", "open", path)
        if (node._tag === "Directory") throw errnoError("EISDIR", "readFile", "read", path)
        state.checkFault("read", "readFile", "read", path, normalized)
        return node.content.snapshot()
      }),

    readLink: (path) =>
      attempt(() => {
        state.begin("readLink", "readlink", path, normalize(path))
        nodeAt("readLink", "readlink", path)
        throw errnoError("EINVAL", "readLink", "readlink", path)
      }),

    realPath: (path) =>
      attempt(() => {
        state.begin("realPath", "realpath", path, normalize(path))
        nodeAt("realPath", "realpath", path)
        return normalize(path)
      }),

    remove: (path, options) =>
      attempt(() => {
        state.begin("remove", "rm", path, normalize(path))
        state.checkFault("remove", "remove", "rm", path, normalize(path))
        const names = segments(path)
        const dir = names.length === 0 ? "EPERM" : lookupParent(root, names)
        if (typeof dir === "string") {
          if (dir === "ENOENT" && options?.force === true) return
          throw errnoError(dir, "remove", "lstat", path)
        }
        const name = names[names.length - 1]!
        const node = dir.entries.get(name)
        if (node === undefined) {
          if (options?.force === true) return
          throw errnoError("ENOENT", "remove", "lstat", path)
        }
        if (node._tag === "Directory" && options?.recursive !== true) {
          throw new SystemError({
            reason: "Unknown",
            module: "FileSystem",
            method: "remove",
            pathOrDescriptor: path,
            syscall: "rm",
            description: `Path is a directory: rm returned EISDIR (is a directory) ${path}`
          })
        }
        unlinkEntry(dir, name)
      }),

    rename: (oldPath, newPath) =>
      attempt(() => {
        const paths = [oldPath, normalize(oldPath), { where: newPath, path: normalize(newPath) }] as const
        state.begin("rename", "rename", ...paths)
        state.checkFault("rename", "rename", "rename", ...paths)
        const from = segments(oldPath)
        const to = segments(newPath)
        const fromDir = parentOf("rename", "rename", oldPath, from, "EBUSY", newPath)
        const fromName = from[from.length - 1]!
        const source = fromDir.entries.get(fromName)
        if (source === undefined) throw errnoError("ENOENT", "rename", "rename", oldPath, newPath)
        const toDir = parentOf("rename", "rename", oldPath, to, "EBUSY", newPath)
        const toName = to[to.length - 1]!
        const target = toDir.entries.get(toName)
        if (target === source) return
        if (source._tag === "Directory" && startsWith(to, from)) {
          throw errnoError("EINVAL", "rename", "rename", oldPath, newPath)
        }
        if (target !== undefined) {
          if (source._tag === "File" && target._tag === "Directory") {
            throw errnoError("EISDIR", "rename", "rename", oldPath, newPath)
          }
          if (source._tag === "Directory" && target._tag === "File") {
            throw errnoError("ENOTDIR", "rename", "rename", oldPath, newPath)
          }
          if (target._tag === "Directory" && target.entries.size > 0) {
            throw errnoError("ENOTEMPTY", "rename", "rename", oldPath, newPath)
          }
          if (target._tag === "File") target.nlink--
        }
        state.journal.apply([fromDir, fromName, undefined], [toDir, toName, source])
        const now = Date.now()
        fromDir.mtimeMs = now
        toDir.mtimeMs = now
      }),

    stat: (path) =>
      attempt(() => {
        state.begin("stat", "stat", path, normalize(path))
        state.checkFault("stat", "stat", "stat", path, normalize(path))
        return fileInfo(nodeAt("stat", "stat", path))
      }),

    symlink: (target, path) =>
      attempt(() => {
        state.begin("symlink", "symlink", target, normalize(target), { where: path, path: normalize(path) })
        throw unsupported("symlink")
      }),

    truncate: (path, length) =>
      attempt(() => {
        state.begin("truncate", "open", path, normalize(path))
        const node = nodeAt("truncate", "open", path)
        if (node._tag === "Directory") throw errnoError("EISDIR", "truncate", "open", path)
        const n = length === undefined ? 0 : Number(length)
        if (n < 0) throw errnoError("EINVAL", "truncate", "ftruncate", path)
        state.checkFault("truncate", "truncate", "ftruncate", path, normalize(path))
        node.content.truncate(n)
        node.mtimeMs = Date.now()
      }),

    utimes: (path, atime, mtime) =>
      attempt(() => {
        state.begin("utimes", "utime", path, normalize(path))
        const node = nodeAt("utime", "utime", path)
        node.atimeMs = toMs(atime)
        node.mtimeMs = toMs(mtime)
      }),

    watch: (path) =>
      Stream.unwrap(attempt(() => {
        state.begin("watch", "watch", path, normalize(path))
        return Stream.fail(unsupported("watch"))
      })),

    writeFile: (path, data, options) =>
      attempt(() => {
        const normalized = normalize(path)
        state.begin("writeFile", "open", path, normalized)
        state.checkFault("open", "writeFile", "open", path, normalized)
        const semantics = FLAGS[options?.flag ?? "w"]
        const node = openNode("writeFile", path, semantics, options?.mode)
        if (node._tag === "Directory" || !semantics.writable) throw errnoError("EBADF", "writeFile", "write", path)
        state.checkFault("write", "writeFile", "write", path, normalized)
        node.content.write(semantics.append ? node.content.length : 0, data)
        node.mtimeMs = Date.now()
      })
  })
}

const makeControl = (state: MemoryState): MemoryFileSystem => {
  const fileAt = (method: string, path: string): FileNode => {
    const node = lookup(state.root, segments(path))
    if (typeof node === "string") throw errnoError(node, method, "open", path)
    if (node._tag === "Directory") throw errnoError("EISDIR", method, "read", path)
    return node
  }
  return {
    crash: (options) => Effect.sync(() => state.crash(options)),
    injectFault: (fault) => Effect.sync(() => state.faults.add(fault)),
    clearFaults: Effect.sync(() => state.faults.clear()),
    flipByte: (path, offset, mask = 0xff) =>
      attempt(() => {
        const file = fileAt("flipByte", path)
        if (!Number.isInteger(offset) || offset < 0 || !file.content.flip(offset, mask & 0xff)) {
          throw new BadArgument({
            module: "FileSystem",
            method: "flipByte",
            description: `offset ${offset} is outside ${path} (${file.content.length} bytes)`
          })
        }
      }),
    openHandles: Effect.sync(() => state.handles.size),
    listFiles: Effect.sync(() => {
      const out: Array<FileEntry> = []
      walkFiles(state.root, "/", (path, file) => out.push({ path, size: file.content.length }))
      return out
    }),
    fileBytes: (path) => attempt(() => fileAt("fileBytes", path).content.snapshot()),
    syncCount: Effect.sync(() => state.syncCount),
    callCount: Effect.sync(() => state.power.calls),
    crashAt: (options) => Effect.sync(() => state.power.crashAt(options)),
    restart: Effect.sync(() => state.power.restart()),
    directorySyncs: (path) => Effect.sync(() => state.directorySyncs.get(normalize(path)) ?? 0)
  }
}
