/**
 * The in-memory filesystem: the shared suite, then what only it does (crash, torn writes, faults,
 * byte flips, handle counting).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, type Scope } from "effect"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { expectSystemError, fileSystemSuite } from "./fileSystemSuite.js"

fileSystemSuite("MemoryFileSystem", MemoryFileSystem.layer, { guardedHandles: true })

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (s: string): Uint8Array => encoder.encode(s)
const text = (b: Uint8Array): string => decoder.decode(b)

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
        assert.deepStrictEqual((yield* fs.stat("/a")).nlink, Option.some(2))
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
        assert.strictEqual(yield* control.syncCount, 2)
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
        yield* control.crash()
        assert.strictEqual(text(yield* fs.readFile("/f")), "abcdef")
        assert.strictEqual(text(yield* fs.readFile("/g")), "0123")
      })))

  it.scoped("metadata is durable at once: created, renamed and removed files stay so", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory("/db")
        const f = yield* fs.open("/db/CURRENT.tmp", { flag: "w" })
        yield* f.writeAll(bytes("MANIFEST-1"))
        yield* f.sync
        yield* fs.rename("/db/CURRENT.tmp", "/db/CURRENT")
        yield* fs.writeFile("/db/old", bytes("x"))
        yield* fs.remove("/db/old")
        yield* control.crash()
        assert.deepStrictEqual(yield* fs.readDirectory("/db"), ["CURRENT"])
        assert.strictEqual(text(yield* fs.readFile("/db/CURRENT")), "MANIFEST-1")
      })))

  it.scoped("handles open at the crash are dead; new opens work", () =>
    withMemory((fs, control) =>
      Effect.gen(function*() {
        const f = yield* fs.open("/f", { flag: "w+" })
        yield* f.write(bytes("abc"))
        yield* f.sync
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
        assert.strictEqual(yield* control.syncCount, 1)
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
