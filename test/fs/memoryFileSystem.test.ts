/**
 * The in-memory filesystem: the shared suite, then what only it does (crash of file bytes and of
 * directory entries, torn writes, crash at the n-th call, faults, byte flips, handle counting).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
// Option-aware: chai's deepStrictEqual takes Option.some(x) and Option.none() for equal.
import { deepStrictEqual } from "@effect/vitest/utils"
import { Effect, Either, Option, type Scope } from "effect"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { expectSystemError, fileSystemSuite } from "./fileSystemSuite.js"

fileSystemSuite("MemoryFileSystem", MemoryFileSystem.layer, { guardedHandles: true })

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (s: string): Uint8Array => encoder.encode(s)
const text = (b: Uint8Array): string => decoder.decode(b)

/** fsync of a directory (what the engine's `syncDirectory` does): its entries become durable. */
const syncDir = (fs: FileSystem.FileSystem, path: string) =>
  Effect.scoped(Effect.flatMap(fs.open(path, { flag: "r" }), (dir) => dir.sync))

/** Writes a file through a handle and fsyncs it (not its directory). */
const writeSynced = (fs: FileSystem.FileSystem, path: string, content: string) =>
  Effect.scoped(Effect.gen(function*() {
    const f = yield* fs.open(path, { flag: "w" })
    yield* f.writeAll(bytes(content))
    yield* f.sync
  }))

/** Runs a test body with the filesystem and its controls, fresh for the test. */
const withMemory = <A, E>(
  body: (fs: FileSystem.FileSystem, control: MemoryFileSystem.MemoryFileSystem) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const control = yield* MemoryFileSystem.MemoryFileSystem
    return yield* body(fs, control)
  }).pipe(Effect.provide(MemoryFileSystem.layer))

describe("MemoryFileSystem paths", () => {
  it.scoped("relative paths resolve from / and paths are normalized", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("db")
        yield* fs.writeFile("db/./x/../CURRENT", bytes("m"))
        assert.strictEqual(text(yield* fs.readFile("/db/CURRENT")), "m")
        assert.strictEqual(text(yield* fs.readFile("//db//CURRENT/")), "m")
        assert.deepStrictEqual(yield* fs.readDirectory("/db"), ["CURRENT"])
        assert.deepStrictEqual(yield* control.listFiles, [{ path: "/db/CURRENT", size: 1 }])
        assert.strictEqual(yield* fs.realPath("db/../db/CURRENT"), "/db/CURRENT")
      })))

  it.scoped("errors carry the errno like platform-node's", () =>
    withMemory((fs) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(fs.readFile("/nope"))
        assert.strictEqual(error._tag, "SystemError")
        if (error._tag !== "SystemError") return
        assert.strictEqual(error.reason, "NotFound")
        assert.strictEqual(error.method, "readFile")
        assert.strictEqual(error.pathOrDescriptor, "/nope")
        assert.match(error.description ?? "", /^ENOENT: no such file or directory/)
        assert.strictEqual((error.cause as { code?: string }).code, "ENOENT")
      })))

  it.scoped("makeTempDirectory lives under /tmp with its prefix", () =>
    withMemory((fs) =>
      Effect.gen(function*() {
        const a = yield* fs.makeTempDirectory({ prefix: "db-" })
        const b = yield* fs.makeTempDirectory({ prefix: "db-" })
        assert.match(a, /^\/tmp\/db-.{6}$/)
        assert.notStrictEqual(a, b)
        const file = yield* fs.makeTempFile({ suffix: ".sst" })
        assert.match(file, /^\/tmp\/.+\/.+\.sst$/)
        assert.strictEqual((yield* fs.stat(file)).size, FileSystem.Size(0))
        yield* expectSystemError(fs.makeTempDirectory({ directory: "/missing" }), "NotFound")
      })))

  it.scoped("hard links share content", () =>
    withMemory((fs) =>
      Effect.gen(function*() {
        yield* fs.writeFile("/a", bytes("abc"))
        yield* fs.link("/a", "/b")
        yield* fs.writeFile("/b", bytes("d"), { flag: "a" })
        assert.strictEqual(text(yield* fs.readFile("/a")), "abcd")
        deepStrictEqual((yield* fs.stat("/a")).nlink, Option.some(2))
        yield* fs.remove("/a")
        assert.strictEqual(text(yield* fs.readFile("/b")), "abcd")
      })))

  it.scoped("unsupported methods fail with BadArgument", () =>
    withMemory((fs) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(fs.symlink("/a", "/b"))
        assert.strictEqual(error._tag, "BadArgument")
      })))
})

describe("MemoryFileSystem crash", () => {
  it.scoped("keeps exactly the bytes synced, per file", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const log = yield* fs.open("/log", { flag: "a" })
        yield* log.write(bytes("synced|"))
        yield* log.sync
        yield* log.write(bytes("lost"))
        yield* fs.writeFile("/unsynced", bytes("gone"))
        const other = yield* fs.open("/other", { flag: "w" })
        yield* other.write(bytes("all"))
        yield* other.sync
        yield* syncDir(fs, "/")
        assert.strictEqual(yield* control.syncCount, 3)
        yield* control.crash()
        assert.strictEqual(text(yield* fs.readFile("/log")), "synced|")
        assert.strictEqual(text(yield* fs.readFile("/other")), "all")
        assert.strictEqual((yield* fs.readFile("/unsynced")).length, 0)
        assert.deepStrictEqual(yield* control.listFiles, [
          { path: "/log", size: 7 },
          { path: "/other", size: 3 },
          { path: "/unsynced", size: 0 }
        ])
      })))

  it.scoped("restores synced bytes overwritten or truncated after the sync", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "w+" })
        yield* f.write(bytes("abcdef"))
        yield* f.sync
        yield* f.seek(1, "start")
        yield* f.write(bytes("XY"))
        yield* f.truncate(2)
        yield* f.write(bytes("123456789"))
        yield* fs.writeFile("/g", bytes("0123"))
        yield* Effect.scoped(Effect.flatMap(fs.open("/g", { flag: "r+" }), (g) => g.sync))
        yield* fs.truncate("/g", 1)
        yield* syncDir(fs, "/")
        yield* control.crash()
        assert.strictEqual(text(yield* fs.readFile("/f")), "abcdef")
        assert.strictEqual(text(yield* fs.readFile("/g")), "0123")
      })))

  it.scoped("a created and fsynced file vanishes without a sync of its directory", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* writeSynced(fs, "/data", "synced")
        yield* fs.writeFile("/other", bytes("x"))
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["data", "other", "tmp"])
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["tmp"])
        assert.isFalse(yield* fs.exists("/data"))
      })))

  it.scoped("a created file stays after a sync of its directory, with its synced bytes", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* writeSynced(fs, "/data", "synced")
        yield* fs.writeFile("/empty", bytes("unsynced bytes"))
        yield* syncDir(fs, "/")
        assert.strictEqual(yield* control.directorySyncs("/"), 1)
        yield* writeSynced(fs, "/late", "created after the directory sync")
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["data", "empty", "tmp"])
        assert.strictEqual(text(yield* fs.readFile("/data")), "synced")
        assert.strictEqual((yield* fs.readFile("/empty")).length, 0)
      })))

  it.scoped("an unsynced remove comes back with the synced bytes", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/old", { flag: "w" })
        yield* f.writeAll(bytes("kept"))
        yield* f.sync
        yield* f.writeAll(bytes("+lost"))
        yield* fs.writeFile("/gone", bytes("x"))
        yield* syncDir(fs, "/")
        yield* fs.remove("/old")
        yield* fs.remove("/gone")
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["tmp"])
        yield* control.crash()
        assert.strictEqual(text(yield* fs.readFile("/old")), "kept")
        deepStrictEqual((yield* fs.stat("/old")).nlink, Option.some(1))
        assert.strictEqual((yield* fs.readFile("/gone")).length, 0)
        yield* fs.remove("/old")
        yield* syncDir(fs, "/")
        yield* control.crash()
        assert.isFalse(yield* fs.exists("/old"))
      })))

  it.scoped("an unsynced rename is undone; a synced rename stays", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("/db")
        yield* syncDir(fs, "/")
        yield* writeSynced(fs, "/db/CURRENT", "MANIFEST-1")
        yield* syncDir(fs, "/db")
        yield* writeSynced(fs, "/db/CURRENT.tmp", "MANIFEST-2")
        yield* fs.rename("/db/CURRENT.tmp", "/db/CURRENT")
        assert.deepStrictEqual(yield* fs.readDirectory("/db"), ["CURRENT"])
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/db"), ["CURRENT"])
        assert.strictEqual(text(yield* fs.readFile("/db/CURRENT")), "MANIFEST-1")

        yield* writeSynced(fs, "/db/CURRENT.tmp", "MANIFEST-3")
        yield* fs.rename("/db/CURRENT.tmp", "/db/CURRENT")
        yield* syncDir(fs, "/db")
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/db"), ["CURRENT"])
        assert.strictEqual(text(yield* fs.readFile("/db/CURRENT")), "MANIFEST-3")
      })))

  it.scoped("a rename across directories is undone in the directory not synced", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("/a")
        yield* fs.makeDirectory("/b")
        yield* syncDir(fs, "/")
        yield* writeSynced(fs, "/a/x", "x")
        yield* syncDir(fs, "/a")
        yield* fs.rename("/a/x", "/b/x")
        yield* syncDir(fs, "/a")
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/a"), [])
        assert.deepStrictEqual(yield* fs.readDirectory("/b"), [])
      })))

  it.scoped("a directory made without a sync of its parent vanishes with everything in it", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("/kept")
        yield* syncDir(fs, "/")
        yield* fs.makeDirectory("/db")
        yield* writeSynced(fs, "/db/CURRENT", "MANIFEST-1")
        yield* syncDir(fs, "/db")
        yield* fs.makeDirectory("/kept/nested/deeper", { recursive: true })
        yield* syncDir(fs, "/kept/nested")
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/", { recursive: true }), ["kept", "tmp"])
        assert.isFalse(yield* fs.exists("/db/CURRENT"))
      })))

  it.scoped("torn metadata keeps a prefix of the pending operations, the same for one seed", () =>
    Effect.gen(function*() {
      const names = Array.from({ length: 10 }, (_, i) => `f${i}`)
      const survivors = (seed: number) =>
        withMemory((fs, control) =>
          Effect.gen(function*() {
            for (const name of names) yield* writeSynced(fs, `/${name}`, name)
            yield* control.crash({ tornWrites: true, seed })
            const kept = (yield* fs.readDirectory("/")).filter((name) => name !== "tmp")
            for (const name of kept) assert.strictEqual(text(yield* fs.readFile(`/${name}`)), name)
            return kept
          }))
      const counts = new Set<number>()
      for (let seed = 1; seed <= 40; seed++) {
        const kept = yield* survivors(seed)
        assert.deepStrictEqual(kept, names.slice(0, kept.length))
        assert.deepStrictEqual(yield* survivors(seed), kept)
        counts.add(kept.length)
      }
      assert.isAbove(counts.size, 5)
    }))

  it.scoped("handles open at the crash are dead; new opens work", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "w+" })
        yield* f.write(bytes("abc"))
        yield* f.sync
        yield* syncDir(fs, "/")
        assert.strictEqual(yield* control.openHandles, 1)
        yield* control.crash()
        assert.strictEqual(yield* control.openHandles, 0)
        yield* expectSystemError(f.write(bytes("x")), "BadResource")
        yield* expectSystemError(f.read(new Uint8Array(3)), "BadResource")
        yield* expectSystemError(f.sync, "BadResource")
        yield* expectSystemError(f.stat, "BadResource")
        const g = yield* fs.open("/f", { flag: "a+" })
        yield* g.write(bytes("d"))
        const buffer = new Uint8Array(10)
        assert.strictEqual(yield* g.read(buffer), FileSystem.Size(4))
        assert.strictEqual(text(buffer.subarray(0, 4)), "abcd")
        assert.strictEqual(yield* control.openHandles, 1)
      })))

  it.scoped("torn writes keep the synced bytes plus a prefix of the tail, the same for one seed", () =>
    Effect.gen(function*() {
      const survivor = (seed: number) =>
        withMemory((fs, control) =>
          Effect.gen(function*() {
            const f = yield* fs.open("/wal", { flag: "a" })
            yield* syncDir(fs, "/")
            yield* f.write(bytes("head"))
            yield* f.sync
            for (let i = 0; i < 10; i++) yield* f.write(bytes(`<record ${i}>`))
            yield* control.crash({ tornWrites: true, seed })
            return text(yield* fs.readFile("/wal"))
          }))
      const full = "head" + Array.from({ length: 10 }, (_, i) => `<record ${i}>`).join("")
      const lengths = new Set<number>()
      for (let seed = 1; seed <= 40; seed++) {
        const kept = yield* survivor(seed)
        assert.isTrue(full.startsWith(kept) && kept.startsWith("head"), kept)
        assert.strictEqual(yield* survivor(seed), kept)
        lengths.add(kept.length)
      }
      assert.isAbove(lengths.size, 10)
      assert.isTrue([...lengths].some((n) => n > 4 && n < full.length))
    }))

  it.scoped("a crash without torn writes drops the whole tail", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/wal", { flag: "a" })
        yield* syncDir(fs, "/")
        yield* f.write(new Uint8Array(1000).fill(7))
        yield* f.sync
        for (let i = 0; i < 100; i++) yield* f.write(new Uint8Array(50).fill(i))
        yield* control.crash({ seed: 3 })
        const kept = yield* fs.readFile("/wal")
        assert.strictEqual(kept.length, 1000)
        assert.isTrue(kept.every((b) => b === 7))
      })))
})

describe("MemoryFileSystem faults", () => {
  it.scoped("ENOSPC on write writes nothing and names the errno", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "a" })
        yield* f.write(bytes("abc"))
        yield* control.injectFault({ op: "write", error: "ENOSPC" })
        const error = yield* Effect.flip(f.write(bytes("defg")))
        assert.strictEqual(error._tag, "SystemError")
        if (error._tag === "SystemError") {
          assert.strictEqual(error.reason, "Unknown")
          assert.match(error.description ?? "", /^ENOSPC: no space left on device/)
        }
        yield* expectSystemError(f.writeAll(bytes("defg")))
        yield* expectSystemError(fs.writeFile("/g", bytes("x")))
        assert.strictEqual(text(yield* control.fileBytes("/f")), "abc")
        yield* control.clearFaults
        yield* f.write(bytes("d"))
        assert.strictEqual(text(yield* control.fileBytes("/f")), "abcd")
      })))

  it.scoped("times limits the failures, after lets calls through first", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "a" })
        yield* control.injectFault({ op: "write", error: "EIO", after: 1, times: 2 })
        const results: Array<boolean> = []
        for (const c of "abcde") results.push(Either.isRight(yield* Effect.either(f.write(bytes(c)))))
        assert.deepStrictEqual(results, [true, false, false, true, true])
        assert.strictEqual(text(yield* control.fileBytes("/f")), "ade")
      })))

  it.scoped("path predicates: a string, a pattern, a function", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("/db")
        yield* control.injectFault({ op: "sync", path: /\.log$/, error: "EIO" })
        yield* control.injectFault({ op: "open", path: "db/LOCK", error: "EIO" })
        yield* control.injectFault({ op: "remove", path: (p) => p.endsWith(".sst"), error: "EIO" })
        const log = yield* fs.open("/db/000001.log", { flag: "a" })
        yield* log.write(bytes("x"))
        yield* expectSystemError(log.sync)
        const sst = yield* fs.open("/db/000002.sst", { flag: "w" })
        yield* sst.sync
        yield* expectSystemError(Effect.scoped(fs.open("/db/LOCK", { flag: "w" })))
        assert.isFalse(yield* fs.exists("/db/LOCK"))
        yield* Effect.scoped(fs.open("/db/LOCK2", { flag: "w" }))
        yield* expectSystemError(fs.remove("/db/000002.sst"))
        assert.isTrue(yield* fs.exists("/db/000002.sst"))
        yield* fs.remove("/db/LOCK2")
        yield* syncDir(fs, "/")
        yield* syncDir(fs, "/db")
        assert.strictEqual(yield* control.syncCount, 3)
        yield* control.crash()
        assert.strictEqual((yield* fs.readFile("/db/000001.log")).length, 0)
      })))

  it.scoped("rename and read faults leave the files as they were", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.writeFile("/CURRENT.tmp", bytes("new"))
        yield* fs.writeFile("/CURRENT", bytes("old"))
        yield* control.injectFault({ op: "rename", path: "/CURRENT", error: "EIO", times: 1 })
        yield* expectSystemError(fs.rename("/CURRENT.tmp", "/CURRENT"))
        assert.strictEqual(text(yield* fs.readFile("/CURRENT")), "old")
        yield* control.injectFault({ op: "read", path: "/CURRENT", error: "EIO", times: 2 })
        yield* expectSystemError(fs.readFile("/CURRENT"))
        const f = yield* fs.open("/CURRENT")
        yield* expectSystemError(f.read(new Uint8Array(3)))
        assert.strictEqual(yield* f.read(new Uint8Array(3)), FileSystem.Size(3))
        yield* fs.rename("/CURRENT.tmp", "/CURRENT")
        assert.strictEqual(text(yield* fs.readFile("/CURRENT")), "new")
      })))
})

describe("MemoryFileSystem crashAt", () => {
  it.scoped("callCount counts file-system calls and handle calls but seek", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        assert.strictEqual(yield* control.callCount, 0)
        yield* fs.writeFile("/f", bytes("abc"))
        assert.strictEqual(yield* control.callCount, 1)
        yield* fs.exists("/f")
        yield* Effect.either(fs.stat("/missing"))
        assert.strictEqual(yield* control.callCount, 3)
        const f = yield* fs.open("/f", { flag: "r+" })
        yield* f.seek(1, "start")
        yield* f.read(new Uint8Array(1))
        yield* f.write(bytes("x"))
        yield* f.sync
        yield* f.stat
        yield* f.truncate(2)
        assert.strictEqual(yield* control.callCount, 9)
      })))

  it.scoped("the call numbered n does not happen, it and later calls fail EIO until restart", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "w" })
        yield* syncDir(fs, "/")
        yield* f.writeAll(bytes("abc"))
        yield* f.sync
        const before = yield* control.callCount
        yield* control.crashAt({ call: before + 2 })
        yield* f.writeAll(bytes("def"))
        const error = yield* Effect.flip(f.sync)
        assert.strictEqual(error._tag, "SystemError")
        if (error._tag === "SystemError") assert.match(error.description ?? "", /^EIO: i\/o error, fsync/)
        assert.strictEqual(yield* control.callCount, before + 2)
        assert.strictEqual(text(yield* control.fileBytes("/f")), "abc")
        yield* expectSystemError(f.writeAll(bytes("g")))
        yield* expectSystemError(fs.readFile("/f"))
        yield* expectSystemError(fs.writeFile("/g", bytes("g")))
        yield* expectSystemError(Effect.scoped(fs.open("/f")))
        yield* control.clearFaults
        yield* expectSystemError(fs.exists("/f"))
        assert.deepStrictEqual(yield* control.listFiles, [{ path: "/f", size: 3 }])
        yield* control.restart
        assert.strictEqual(text(yield* fs.readFile("/f")), "abc")
        yield* expectSystemError(f.writeAll(bytes("g")), "BadResource")
        const g = yield* fs.open("/f", { flag: "a" })
        yield* g.writeAll(bytes("d"))
        assert.strictEqual(text(yield* fs.readFile("/f")), "abcd")
      })))

  it.scoped("a crash at the directory sync after a rename leaves the rename undone", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* writeSynced(fs, "/CURRENT", "1")
        yield* syncDir(fs, "/")
        yield* writeSynced(fs, "/CURRENT.tmp", "2")
        yield* fs.rename("/CURRENT.tmp", "/CURRENT")
        // the next call is syncDir's open
        yield* control.crashAt({ call: (yield* control.callCount) + 1 })
        yield* expectSystemError(syncDir(fs, "/"))
        yield* control.restart
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["CURRENT", "tmp"])
        assert.strictEqual(text(yield* fs.readFile("/CURRENT")), "1")
      })))

  it.scoped("restart disarms a crash not yet fired; torn options reach the crash", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* control.crashAt({ call: 2 })
        yield* control.restart
        yield* fs.writeFile("/a", bytes("a"))
        yield* fs.writeFile("/b", bytes("b"))
        yield* fs.writeFile("/c", bytes("c"))
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["a", "b", "c", "tmp"])
        const lengths = new Set<number>()
        for (let seed = 1; seed <= 20; seed++) {
          const kept = yield* withMemory((fs, control) =>
            Effect.gen(function*() {
              for (const name of ["a", "b", "c"]) yield* fs.writeFile(`/${name}`, bytes(name))
              yield* control.crashAt({ call: 4, tornWrites: true, seed })
              yield* expectSystemError(fs.writeFile("/d", bytes("d")))
              yield* control.restart
              return (yield* fs.readDirectory("/")).filter((name) => name !== "tmp")
            }))
          assert.deepStrictEqual(kept, ["a", "b", "c"].slice(0, kept.length))
          lengths.add(kept.length)
        }
        assert.isAbove(lengths.size, 1)
      })))
})

describe("MemoryFileSystem faults by kind", () => {
  it.scoped("any fails every call on the matching paths, before it changes anything", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("/db")
        yield* fs.writeFile("/db/x", bytes("x"))
        const handle = yield* fs.open("/db/x", { flag: "r+" })
        yield* control.injectFault({ op: "any", path: /^\/db\//, error: "EIO" })
        yield* expectSystemError(fs.chmod("/db/x", 0o600))
        yield* expectSystemError(fs.stat("/db/x"))
        yield* expectSystemError(fs.exists("/db/x"))
        yield* expectSystemError(fs.utimes("/db/x", 0, 0))
        yield* expectSystemError(fs.writeFile("/db/y", bytes("y")))
        yield* expectSystemError(fs.copyFile("/db/x", "/z"))
        yield* expectSystemError(handle.writeAll(bytes("w")))
        yield* expectSystemError(handle.stat)
        assert.deepStrictEqual(yield* fs.readDirectory("/db"), ["x"])
        assert.isFalse(yield* fs.exists("/z"))
        assert.strictEqual(text(yield* control.fileBytes("/db/x")), "x")
        yield* control.clearFaults
        yield* control.injectFault({ op: "any", error: "ENOSPC", after: 2, times: 1 })
        const results: Array<boolean> = []
        for (let i = 0; i < 4; i++) results.push(Either.isRight(yield* Effect.either(fs.access("/db/x"))))
        assert.deepStrictEqual(results, [true, true, false, true])
      })))

  it.scoped("link, mkdir, readDirectory, stat and truncate faults", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.writeFile("/a", bytes("abc"))
        yield* control.injectFault({ op: "link", path: "/b", error: "EIO", times: 1 })
        yield* control.injectFault({ op: "mkdir", error: "ENOSPC", times: 2 })
        yield* control.injectFault({ op: "readDirectory", path: "/", error: "EIO", times: 1 })
        yield* control.injectFault({ op: "stat", path: "/a", error: "EIO", times: 2 })
        yield* control.injectFault({ op: "truncate", path: "/a", error: "EIO", times: 2 })
        yield* expectSystemError(fs.link("/a", "/b"))
        assert.isFalse(yield* fs.exists("/b"))
        yield* fs.link("/a", "/b")
        yield* expectSystemError(fs.makeDirectory("/d"))
        yield* expectSystemError(fs.makeTempDirectory())
        assert.deepStrictEqual(yield* fs.readDirectory("/tmp"), [])
        yield* fs.makeDirectory("/d")
        yield* expectSystemError(fs.readDirectory("/"))
        assert.deepStrictEqual(yield* fs.readDirectory("/"), ["a", "b", "d", "tmp"])
        yield* expectSystemError(fs.stat("/a"))
        const f = yield* fs.open("/a", { flag: "r+" })
        yield* expectSystemError(f.stat)
        assert.strictEqual((yield* f.stat).size, FileSystem.Size(3))
        yield* expectSystemError(fs.truncate("/a", 1))
        yield* expectSystemError(f.truncate(1))
        assert.strictEqual(text(yield* control.fileBytes("/a")), "abc")
        yield* f.truncate(1)
        assert.strictEqual(text(yield* control.fileBytes("/a")), "a")
      })))
})

describe("MemoryFileSystem controls", () => {
  it.scoped("flipByte flips current and synced bytes, with a mask", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "w+" })
        yield* f.write(Uint8Array.of(0, 1, 2, 3))
        yield* f.sync
        yield* f.write(Uint8Array.of(4))
        yield* control.flipByte("/f", 1)
        yield* control.flipByte("/f", 2, 0x10)
        yield* control.flipByte("/f", 4)
        assert.deepStrictEqual([...(yield* control.fileBytes("/f"))], [0, 0xfe, 0x12, 3, 0xfb])
        yield* syncDir(fs, "/")
        yield* control.crash()
        assert.deepStrictEqual([...(yield* fs.readFile("/f"))], [0, 0xfe, 0x12, 3])
        const error = yield* Effect.flip(control.flipByte("/f", 4))
        assert.strictEqual(error._tag, "BadArgument")
        yield* expectSystemError(control.flipByte("/missing", 0), "NotFound")
      })))

  it.scoped("flipByte reaches the synced copy after an overwrite", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "w+" })
        yield* f.write(Uint8Array.of(10, 20, 30))
        yield* f.sync
        yield* f.seek(0, "start")
        yield* f.write(Uint8Array.of(99))
        yield* control.flipByte("/f", 0, 1)
        assert.deepStrictEqual([...(yield* control.fileBytes("/f"))], [98, 20, 30])
        yield* syncDir(fs, "/")
        yield* control.crash()
        assert.deepStrictEqual([...(yield* fs.readFile("/f"))], [11, 20, 30])
      })))

  it.scoped("openHandles counts handles until their scope closes", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        assert.strictEqual(yield* control.openHandles, 0)
        yield* Effect.scoped(Effect.gen(function*() {
          yield* fs.open("/a", { flag: "w" })
          yield* fs.open("/a", { flag: "r" })
          assert.strictEqual(yield* control.openHandles, 2)
        }))
        assert.strictEqual(yield* control.openHandles, 0)
        yield* fs.writeFile("/b", bytes("x"))
        yield* fs.readFile("/b")
        assert.strictEqual(yield* control.openHandles, 0)
      })))

  it.scoped("fileBytes is a copy", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.writeFile("/f", bytes("abc"))
        const copy = yield* control.fileBytes("/f")
        copy[0] = 0
        assert.strictEqual(text(yield* fs.readFile("/f")), "abc")
        const read = yield* fs.readFile("/f")
        read[0] = 0
        assert.strictEqual(text(yield* fs.readFile("/f")), "abc")
      })))

  it.scoped("many small appends through a handle build the whole log", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/log", { flag: "a" })
        const record = new Uint8Array(116)
        for (let i = 0; i < 20_000; i++) {
          record.fill(i & 0xff)
          yield* f.write(record)
        }
        const content = yield* control.fileBytes("/log")
        assert.strictEqual(content.length, 116 * 20_000)
        for (const i of [0, 1, 255, 256, 19_999]) {
          assert.strictEqual(content[i * 116], i & 0xff)
          assert.strictEqual(content[i * 116 + 115], i & 0xff)
        }
        const chunk = yield* Effect.flatMap(fs.open("/log"), (r) =>
          Effect.zipRight(r.seek(116 * 300, "start"), r.readAlloc(116)))
        assert.isTrue(Option.isSome(chunk) && chunk.value.every((b) => b === (300 & 0xff)))
      })))
})
