/**
 * `StrataLevel` (stratadb/level) beyond abstract-level's suite: the package export, reopening
 * (Node, a shared MemoryFileSystem), data in tables (flushes, compaction), a file system without
 * synchronous reads (the asynchronous fallback of `get`, `getMany`, `has`, `hasMany`), the error
 * codes (LOCKED, CORRUPTION, IO_ERROR, NOT_SUPPORTED, INVALID_KEY, INVALID_VALUE, DATABASE_NOT_OPEN),
 * `seek` within a range and the limit across seeks, `getSync`, `clear` (range, limit, reverse,
 * snapshot, later writes) and the additional `compactRange`.
 */
import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { join } from "node:path"
import { StrataLevel as Exported } from "stratadb/level"
import { afterAll, describe, expect, it } from "vitest"
import { StrataLevel, type StrataLevelFileSystem, type StrataLevelOptions } from "../../src/Level.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { Corruption } from "../../src/errors.js"
import { decodeFooter } from "../../src/internal/table/footer.js"
import { decodeProperties } from "../../src/internal/table/properties.js"
import { FOOTER_SIZE } from "../../src/internal/table/tableFormat.js"

const root = mkdtempSync(join(tmpdir(), "stratadb-level-test-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let directories = 0
const freshDirectory = () => join(root, `db${directories++}`)

/** One in-memory file system kept across opens (`MemoryFileSystem.layer` is a fresh one per open). */
const sharedMemory = () => {
  const { control, fileSystem } = Effect.runSync(MemoryFileSystem.make())
  const layer: StrataLevelFileSystem = Layer.merge(Layer.succeed(FileSystem, fileSystem), Path.layer)
  return { control, layer }
}

/** The error a promise rejects with (fails the test when it resolves). */
const rejection = async (promise: Promise<unknown>): Promise<Error & { code?: string; cause?: any }> => {
  try {
    await promise
  } catch (e) {
    return e as Error & { code?: string }
  }
  throw new Error("expected a rejection")
}

const thrown = (f: () => unknown): Error & { code?: string; cause?: any } => {
  try {
    f()
  } catch (e) {
    return e as Error & { code?: string }
  }
  throw new Error("expected a throw")
}

const keyOf = (i: number) => `key${String(i).padStart(5, "0")}`
const valueOf = (i: number) => `value ${i} ${"x".repeat(i % 50)}`

const withDb = async <A>(
  options: StrataLevelOptions<any, any> & { readonly location?: string },
  f: (db: StrataLevel<any, any>) => Promise<A>
): Promise<A> => {
  const db = new StrataLevel<any, any>(options.location ?? freshDirectory(), options)
  await db.open()
  try {
    return await f(db)
  } finally {
    await db.close()
  }
}

describe("StrataLevel", () => {
  it("is what the package export stratadb/level gives", () => {
    expect(Exported).toBe(StrataLevel)
  })

  it("declares its manifest", async () => {
    const db = new StrataLevel(freshDirectory())
    expect(db.supports).toMatchObject({
      implicitSnapshots: true,
      explicitSnapshots: true,
      has: true,
      getSync: true,
      permanence: true,
      seek: true,
      createIfMissing: true,
      errorIfExists: true,
      additionalMethods: { compactRange: true },
      signals: { iterators: true }
    })
    expect(db.supports.encodings).toMatchObject({ buffer: true, view: true, utf8: true, json: true })
    await db.close()
  })

  it("refuses a location that is not a non-empty string", () => {
    expect(() => new StrataLevel("")).toThrow(TypeError)
    expect(() => new StrataLevel(undefined as unknown as string)).toThrow(TypeError)
  })

  it("keeps writes across a reopen on the Node file system (entries, sublevels, encodings)", async () => {
    const location = freshDirectory()
    const db = new StrataLevel<string, unknown>(location, { valueEncoding: "json" })
    await db.put("a", { n: 1 })
    await db.batch([
      { type: "put", key: "b", value: [2] },
      { type: "put", key: "c", value: "three" },
      { type: "del", key: "a" }
    ])
    await db.sublevel("sub").put("x", "in a sublevel")
    await db.batch().put("d", 4).write({ sync: true })
    await db.put("e", 5, { sync: true })
    await db.batch([{ type: "put", key: "f", value: 6 }], { sync: true })
    await db.del("f", { sync: true })
    expect(db.location).toBe(location)
    await db.close()

    const again = new StrataLevel<string, unknown>(location, { valueEncoding: "json" })
    expect(await again.get("a")).toBeUndefined()
    expect(await again.get("b")).toEqual([2])
    expect(await again.getMany(["c", "d", "e", "zz"])).toEqual(["three", 4, 5, undefined])
    expect(await again.sublevel("sub").get("x")).toBe("in a sublevel")
    expect(await again.keys({ gte: "a" }).all()).toEqual(["b", "c", "d", "e"])
    await again.close()
  })

  it("reads data from tables: every read method, forward and reverse, after flushes and a reopen", async () => {
    const location = freshDirectory()
    const n = 3000
    const expected = Array.from({ length: n }, (_, i) => [keyOf(i), valueOf(i)] as [string, string])
    // A 4 KiB write buffer: the data ends up in many tables.
    const options = { location, writeBufferSize: 4096, blockSize: 256 }
    await withDb(options, async (db) => {
      // In a shuffled order, in batches of 100.
      const order = expected.map((_, i) => (i * 7919) % n)
      for (let i = 0; i < n; i += 100) {
        await db.batch(order.slice(i, i + 100).map((j) => ({ type: "put" as const, key: keyOf(j), value: valueOf(j) })))
      }
    })
    await withDb(options, async (db) => {
      expect(await db.iterator().all()).toEqual(expected)
      expect(await db.iterator({ reverse: true }).all()).toEqual(expected.slice().reverse())
      expect(await db.keys({ gte: keyOf(100), lt: keyOf(200) }).all()).toEqual(expected.slice(100, 200).map((e) => e[0]))
      expect(await db.values({ gt: keyOf(2990) }).all()).toEqual(expected.slice(2991).map((e) => e[1]))
      expect(await db.iterator({ limit: 10, reverse: true }).all()).toEqual(expected.slice(-10).reverse())

      // next(): one entry at a time, from the buffer the iterator refills in growing chunks.
      const it = db.iterator()
      const seen: Array<[string, string]> = []
      for (let e = await it.next(); e !== undefined; e = await it.next()) seen.push(e as [string, string])
      await it.close()
      expect(seen).toEqual(expected)

      // next() then nextv() then all(): the buffer is served first, nothing is lost or repeated.
      const mixed = db.iterator()
      const first = await mixed.next()
      const chunk = await mixed.nextv(500)
      const rest = await mixed.all()
      expect([first, ...chunk, ...rest]).toEqual(expected)

      for await (const [key, value] of db.iterator({ gte: keyOf(1500), limit: 3 })) {
        expect(value).toBe(valueOf(Number(String(key).slice(3))))
      }
      expect(await db.get(keyOf(1234))).toBe(valueOf(1234))
      expect(db.getSync(keyOf(4))).toBe(valueOf(4))
      expect(await db.has(keyOf(2999))).toBe(true)
      expect(await db.hasMany([keyOf(0), "nope", keyOf(1)])).toEqual([true, false, true])

      await db.compactRange(keyOf(0), keyOf(n))
      expect(await db.iterator().all()).toEqual(expected)
    })
  })

  it("runs on a MemoryFileSystem kept across opens", async () => {
    const { layer, control } = sharedMemory()
    const options = { location: "/data/db", fileSystem: layer }
    await withDb(options, async (db) => {
      await db.put("k", "v")
      await db.batch([{ type: "put", key: "k2", value: "v2" }])
    })
    await withDb(options, async (db) => {
      expect(await db.get("k")).toBe("v")
      expect(db.getSync("k2")).toBe("v2")
    })
    const files = Effect.runSync(control.listFiles).map((f) => f.path)
    expect(files).toContain("/data/db/CURRENT")
  })

  it("runs on MemoryFileSystem.layer (a fresh in-memory file system per open)", async () => {
    await withDb({ location: "/db", fileSystem: MemoryFileSystem.layer }, async (db) => {
      await db.put("a", "1")
      expect(await db.iterator().all()).toEqual([["a", "1"]])
    })
  })

  it("reads through the asynchronous path on a file system without synchronous reads", async () => {
    const location = freshDirectory()
    const options = { location, fileSystem: NodeContext.layer, writeBufferSize: 4096 }
    await withDb(options, async (db) => {
      for (let i = 0; i < 200; i += 50) {
        await db.batch(Array.from({ length: 50 }, (_, j) => ({ type: "put" as const, key: keyOf(i + j), value: valueOf(i + j) })))
      }
      await db.compactRange(keyOf(0), keyOf(1000))
    })
    await withDb(options, async (db) => {
      // The tables are not open yet: a synchronous read cannot open them on this file system.
      const error = thrown(() => db.getSync(keyOf(7)))
      expect(error.code).toBe("LEVEL_NOT_SUPPORTED")
      expect(error.cause?._tag).toBe("stratadb/NotSupported")

      // get falls back to an asynchronous read at a snapshot pinned at the call.
      const pending = db.get(keyOf(7))
      const overwrite = db.put(keyOf(7), "later")
      expect(await pending).toBe(valueOf(7))
      await overwrite
      expect(await db.get(keyOf(7))).toBe("later")

      expect(await db.getMany([keyOf(1), "missing", keyOf(150)])).toEqual([valueOf(1), undefined, valueOf(150)])
      expect(await db.has(keyOf(199))).toBe(true)
      expect(await db.has("missing")).toBe(false)
      expect(await db.hasMany([keyOf(0), "missing", keyOf(100)])).toEqual([true, false, true])
      const snapshot = db.snapshot()
      await db.del(keyOf(2))
      expect(await db.get(keyOf(2), { snapshot })).toBe(valueOf(2))
      expect(await db.get(keyOf(2))).toBeUndefined()
      await snapshot.close()
      expect(await db.iterator({ gte: keyOf(190) }).all()).toEqual(
        Array.from({ length: 10 }, (_, i) => [keyOf(190 + i), valueOf(190 + i)])
      )
    })
  })

  describe("error codes", () => {
    it("LEVEL_LOCKED: a second database on an open directory", async () => {
      const location = freshDirectory()
      await withDb({ location }, async () => {
        const second = new StrataLevel(location)
        const error = await rejection(second.open())
        expect(error.code).toBe("LEVEL_DATABASE_NOT_OPEN")
        expect(error.cause?.code).toBe("LEVEL_LOCKED")
        expect(error.cause?.cause?._tag).toBe("stratadb/DbLocked")
        await second.close()
      })
      // Closing released the lock.
      await withDb({ location }, async (db) => expect(db.status).toBe("open"))
    })

    it("createIfMissing and errorIfExists", async () => {
      const location = freshDirectory()
      const missing = new StrataLevel(location, { createIfMissing: false })
      const error = await rejection(missing.open())
      expect(error.code).toBe("LEVEL_DATABASE_NOT_OPEN")
      expect(error.cause?.message).toMatch(/does not exist/)
      expect(error.cause?.cause?._tag).toBe("stratadb/InvalidArgument")
      await missing.close()

      await withDb({ location }, async () => undefined)
      const exists = new StrataLevel(location, { errorIfExists: true })
      const error2 = await rejection(exists.open())
      expect(error2.code).toBe("LEVEL_DATABASE_NOT_OPEN")
      expect(error2.cause?.message).toMatch(/exists/)
      await exists.close()
    })

    it("a bad engine option: the open fails with a TypeError as its cause", async () => {
      const db = new StrataLevel(freshDirectory(), { writeBufferSize: 1 })
      const error = await rejection(db.open())
      expect(error.code).toBe("LEVEL_DATABASE_NOT_OPEN")
      expect(error.cause).toBeInstanceOf(TypeError)
      expect(error.cause?.cause?._tag).toBe("stratadb/InvalidArgument")
      expect(error.cause?.message).toMatch(/writeBufferSize/)
      await db.close()
    })

    it("options that are not the engine's are ignored (as classic-level ignores others')", async () => {
      await withDb({ cacheSize: 10, blockRestartInterval: 16, paranoidChecks: true } as never, async (db) => {
        await db.put("a", "b")
        expect(await db.get("a")).toBe("b")
      })
    })

    it("classic-level's boolean compression: true is the default (lz4), false stores blocks raw; the engine's names pass through", async () => {
      for (const [compression, expected] of [[true, 4], [false, 0], ["zlib", 2], [undefined, 4]] as const) {
        const location = freshDirectory()
        await withDb({ location, compression } as never, async (db) => {
          for (let i = 0; i < 200; i++) await db.put(`key${String(i).padStart(4, "0")}`, "a value that compresses well ".repeat(4))
          await Effect.runPromise(db.service.flush)
        })
        const tables = fs.readdirSync(location).filter((f) => f.endsWith(".sst"))
        expect(tables.length).toBeGreaterThan(0)
        for (const table of tables) {
          const bytes = fs.readFileSync(path.join(location, table))
          const footer = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE), table, bytes.length)
          if (footer instanceof Corruption) throw footer
          const properties = decodeProperties(bytes.subarray(footer.properties.offset, footer.properties.offset + footer.properties.size), table, 0)
          if (properties instanceof Corruption) throw properties
          expect([compression, properties.compressionType]).toEqual([compression, expected])
        }
      }
    })

    it("LEVEL_INVALID_KEY and LEVEL_INVALID_VALUE", async () => {
      await withDb({ maxKeySize: 8, maxValueSize: 4 }, async (db) => {
        const long = await rejection(db.put("a key that is too long", "v"))
        expect(long.code).toBe("LEVEL_INVALID_KEY")
        expect(long.cause?._tag).toBe("stratadb/InvalidArgument")
        expect((await rejection(db.batch([{ type: "put", key: "a key that is too long", value: "v" }]))).code).toBe("LEVEL_INVALID_KEY")
        expect((await rejection(db.del("a key that is too long"))).code).toBe("LEVEL_INVALID_KEY")
        // A lone surrogate has no UTF-8 form.
        expect((await rejection(db.put("\uD800", "v"))).code).toBe("LEVEL_INVALID_KEY")
        expect((await rejection(db.put("k", "too large"))).code).toBe("LEVEL_INVALID_VALUE")
        expect((await rejection(db.batch().put("k", "too large").write())).code).toBe("LEVEL_INVALID_VALUE")
        // Nothing was written.
        expect(await db.keys().all()).toEqual([])
      })
    })

    it("LEVEL_IO_ERROR: a write the file system fails", async () => {
      const { layer, control } = sharedMemory()
      await withDb({ location: "/db", fileSystem: layer }, async (db) => {
        await db.put("before", "1")
        Effect.runSync(control.injectFault({ op: "write", error: "EIO" }))
        const error = await rejection(db.put("after", "2", { sync: true }))
        expect(error.code).toBe("LEVEL_IO_ERROR")
        expect(error.cause?._tag).toBe("SystemError")
        Effect.runSync(control.clearFaults)
      })
    })

    it("LEVEL_CORRUPTION: a damaged table", async () => {
      const { layer, control } = sharedMemory()
      const options = { location: "/db", fileSystem: layer, writeBufferSize: 4096 }
      await withDb(options, async (db) => {
        await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: "put" as const, key: keyOf(i), value: valueOf(i) })))
        await db.compactRange(keyOf(0), keyOf(100))
      })
      const tables = Effect.runSync(control.listFiles).filter((f) => f.path.endsWith(".sst"))
      expect(tables.length).toBeGreaterThan(0)
      for (const table of tables) Effect.runSync(control.flipByte(table.path, 10))
      await withDb(options, async (db) => {
        const error = await rejection(db.get(keyOf(0)))
        expect(error.code).toBe("LEVEL_CORRUPTION")
        expect(error.cause?._tag).toBe("stratadb/Corruption")
        expect(thrown(() => db.getSync(keyOf(0))).code).toBe("LEVEL_CORRUPTION")
        expect((await rejection(db.iterator().all())).code).toBe("LEVEL_CORRUPTION")
      })
    })

    it("LEVEL_DATABASE_NOT_OPEN: the service and compactRange of a closed database", async () => {
      const db = new StrataLevel(freshDirectory())
      await db.open()
      expect(db.service).toBeDefined()
      await db.close()
      expect(thrown(() => db.service).code).toBe("LEVEL_DATABASE_NOT_OPEN")
      expect((await rejection(db.compactRange("a", "b"))).code).toBe("LEVEL_DATABASE_NOT_OPEN")
      expect((await rejection(db.get("a"))).code).toBe("LEVEL_DATABASE_NOT_OPEN")
    })

    it("a snapshot of another database is refused", async () => {
      await withDb({}, async (a) => {
        await withDb({}, async (b) => {
          const snapshot = a.snapshot()
          await expect(b.get("x", { snapshot })).rejects.toBeInstanceOf(TypeError)
          expect(() => b.getSync("x", { snapshot })).toThrow(TypeError)
          await expect(b.iterator({ snapshot }).all()).rejects.toBeInstanceOf(TypeError)
          await snapshot.close()
        })
      })
    })
  })

  describe("seek", () => {
    const letters = "abcdefghij".split("")
    const load = (db: StrataLevel<any, any>) => db.batch(letters.map((k) => ({ type: "put" as const, key: k, value: k.toUpperCase() })))

    it("moves forward and backward within a range", async () => {
      await withDb({}, async (db) => {
        await load(db)
        const it = db.iterator({ gte: "c", lte: "h" })
        expect(await it.next()).toEqual(["c", "C"])
        it.seek("f")
        expect(await it.next()).toEqual(["f", "F"])
        it.seek("d")
        expect(await it.nextv(2)).toEqual([["d", "D"], ["e", "E"]])
        it.seek("ee") // between keys: lands on the next one
        expect(await it.all()).toEqual([["f", "F"], ["g", "G"], ["h", "H"]])
      })
    })

    it("on a reverse iterator, lands at or before the target", async () => {
      await withDb({}, async (db) => {
        await load(db)
        const it = db.keys({ gt: "b", lt: "i", reverse: true })
        it.seek("ee")
        expect(await it.nextv(3)).toEqual(["e", "d", "c"])
        expect(await it.next()).toBeUndefined()
        it.seek("a") // below the range: the end
        expect(await it.next()).toBeUndefined()
        it.seek("g") // a seek after the end starts again
        expect(await it.all()).toEqual(["g", "f", "e", "d", "c"])
      })
    })

    it("a target outside the range ends the iterator, on either side (abstract-level's table, as classic-level does)", async () => {
      // The cases of abstract-level's "seek() respects range" test, whose assertions never run
      // (it collects async functions and awaits them without calling them).
      const cases: Array<[Record<string, unknown>, string, string | undefined]> = [
        [{ gt: "5" }, "4", undefined], [{ gt: "5" }, "5", undefined], [{ gt: "5" }, "6", "6"],
        [{ gte: "5" }, "4", undefined], [{ gte: "5" }, "5", "5"], [{ gte: "5" }, "6", "6"],
        [{ gte: "5", gt: "7" }, "4", undefined], [{ gte: "5", gt: "7" }, "5", "5"], [{ gte: "5", gt: "7" }, "6", "6"],
        [{ gte: "5", gt: "3" }, "4", undefined], [{ gte: "5", gt: "3" }, "5", "5"], [{ gte: "5", gt: "3" }, "6", "6"],
        [{ lt: "5" }, "4", "4"], [{ lt: "5" }, "5", undefined], [{ lt: "5" }, "6", undefined],
        [{ lte: "5" }, "4", "4"], [{ lte: "5" }, "5", "5"], [{ lte: "5" }, "6", undefined],
        [{ lte: "5", lt: "3" }, "4", "4"], [{ lte: "5", lt: "3" }, "5", "5"], [{ lte: "5", lt: "3" }, "6", undefined],
        [{ lte: "5", lt: "7" }, "4", "4"], [{ lte: "5", lt: "7" }, "5", "5"], [{ lte: "5", lt: "7" }, "6", undefined],
        [{ lt: "5", reverse: true }, "4", "4"], [{ lt: "5", reverse: true }, "5", undefined], [{ lt: "5", reverse: true }, "6", undefined],
        [{ lte: "5", reverse: true }, "4", "4"], [{ lte: "5", reverse: true }, "5", "5"], [{ lte: "5", reverse: true }, "6", undefined],
        [{ gt: "5", reverse: true }, "4", undefined], [{ gt: "5", reverse: true }, "5", undefined], [{ gt: "5", reverse: true }, "6", "6"],
        [{ gte: "5", reverse: true }, "4", undefined], [{ gte: "5", reverse: true }, "5", "5"], [{ gte: "5", reverse: true }, "6", "6"],
        [{ gt: "7", lt: "8" }, "7", undefined], [{ gte: "7", lt: "8" }, "7", "7"], [{ gte: "7", lt: "8" }, "8", undefined],
        [{ gt: "7", lte: "8" }, "8", "8"]
      ]
      await withDb({}, async (db) => {
        await db.batch(Array.from({ length: 10 }, (_, i) => ({ type: "put" as const, key: String(i), value: String(i) })))
        const mismatches: Array<string> = []
        for (const [range, target, expected] of cases) {
          for (const afterRead of [false, true]) {
            const it = db.keys(range)
            if (afterRead) await it.next()
            it.seek(target)
            const got = await it.next()
            await it.close()
            if (got !== expected) {
              mismatches.push(`seek(${target}) on ${JSON.stringify(range)}${afterRead ? " after a read" : ""}: ${got} instead of ${expected}`)
            }
          }
        }
        expect(mismatches).toEqual([])

        // A target in another encoding than the range's is compared as bytes all the same.
        const it = db.keys({ gt: "5" })
        it.seek(Buffer.from("5"), { keyEncoding: "buffer" })
        expect(await it.next()).toBeUndefined()
        it.seek(Uint8Array.from([0x37]), { keyEncoding: "view" })
        expect(await it.next()).toBe("7")
        await it.close()
      })
    })

    it("the limit counts delivered entries across seeks, not the ones buffered and dropped", async () => {
      await withDb({}, async (db) => {
        await load(db)
        const it = db.values({ limit: 4 })
        expect(await it.next()).toBe("A")
        expect(await it.next()).toBe("B") // buffered more than it delivered
        it.seek("h")
        expect(await it.next()).toBe("H")
        it.seek("a")
        expect(await it.nextv(10)).toEqual(["A"])
        expect(await it.next()).toBeUndefined()
        await it.close()
      })
    })

    it("keeps the iterator's point in time (seek does not see later writes)", async () => {
      await withDb({}, async (db) => {
        await load(db)
        const it = db.iterator({ gte: "e" })
        await db.put("ea", "new")
        await db.del("f")
        it.seek("e")
        expect(await it.nextv(3)).toEqual([["e", "E"], ["f", "F"], ["g", "G"]])
        await it.close()
      })
    })

    it("with buffer keys (byte order)", async () => {
      await withDb({ keyEncoding: "buffer", valueEncoding: "utf8" }, async (db) => {
        const keys = [0x00, 0x7f, 0x80, 0xc0, 0xff].map((b) => Buffer.from([1, b]))
        await db.batch(keys.map((k, i) => ({ type: "put" as const, key: k, value: String(i) })))
        const it = db.keys()
        it.seek(Buffer.from([1, 0x80]))
        const rest = await it.all()
        expect(rest.every((k) => Buffer.isBuffer(k))).toBe(true)
        expect(rest).toEqual(keys.slice(2))
      })
    })
  })

  it("getSync: encodings, snapshots, missing keys", async () => {
    await withDb({}, async (db) => {
      await db.put("k", "v1")
      const snapshot = db.snapshot()
      await db.put("k", "v2")
      expect(db.getSync("k")).toBe("v2")
      expect(db.getSync("k", { snapshot })).toBe("v1")
      expect(db.getSync("missing")).toBeUndefined()
      const asBuffer = db.getSync("k", { valueEncoding: "buffer" })
      expect(Buffer.isBuffer(asBuffer)).toBe(true)
      expect(Buffer.from("v2").equals(asBuffer as Buffer)).toBe(true)
      const asView = db.getSync("k", { valueEncoding: "view" })
      expect(asView).toBeInstanceOf(Uint8Array)
      expect(new TextDecoder().decode(asView as Uint8Array)).toBe("v2")
      await snapshot.close()
      expect(thrown(() => db.getSync("k", { snapshot })).code).toBe("LEVEL_SNAPSHOT_NOT_OPEN")
    })
  })

  it("get reads at the call (an implicit snapshot): a write issued after it is not seen", async () => {
    await withDb({}, async (db) => {
      await db.put("k", "old")
      const read = db.get("k")
      const many = db.getMany(["k"])
      const has = db.has("k")
      const write = db.del("k")
      expect(await read).toBe("old")
      expect(await many).toEqual(["old"])
      expect(await has).toBe(true)
      await write
      expect(await db.has("k")).toBe(false)
    })
  })

  describe("clear", () => {
    const load = (db: StrataLevel<any, any>) =>
      db.batch(Array.from({ length: 10 }, (_, i) => ({ type: "put" as const, key: `0${i}`, value: String(i) })))

    it("a range, a limit, in reverse", async () => {
      await withDb({}, async (db) => {
        await load(db)
        await db.clear({ gte: "02", limit: 3 })
        expect(await db.keys().all()).toEqual(["00", "01", "05", "06", "07", "08", "09"])
        await db.clear({ reverse: true, limit: 2 })
        expect(await db.keys().all()).toEqual(["00", "01", "05", "06", "07"])
        await db.clear({ gt: "01", lt: "07" })
        expect(await db.keys().all()).toEqual(["00", "01", "07"])
        await db.clear()
        expect(await db.keys().all()).toEqual([])
      })
    })

    it("keeps writes issued after it", async () => {
      await withDb({}, async (db) => {
        await load(db)
        const clearing = db.clear()
        const writing = db.put("05", "again")
        await Promise.all([clearing, writing])
        expect(await db.iterator().all()).toEqual([["05", "again"]])
      })
    })

    it("with a snapshot: deletes only what the snapshot has", async () => {
      await withDb({}, async (db) => {
        await load(db)
        const snapshot = db.snapshot()
        await db.put("10", "new")
        await db.put("011", "new between")
        await db.clear({ snapshot, gte: "01", lt: "05", reverse: true, limit: 3 })
        expect(await db.keys().all()).toEqual(["00", "01", "011", "05", "06", "07", "08", "09", "10"])
        // The snapshot still sees everything it had.
        expect((await db.keys({ snapshot }).all()).length).toBe(10)
        await snapshot.close()
      })
    })
  })

  it("sublevels: iteration, clear and seek stay within the sublevel", async () => {
    await withDb({}, async (db) => {
      const a = db.sublevel("a")
      const b = db.sublevel("b")
      await a.batch([{ type: "put", key: "1", value: "a1" }, { type: "put", key: "2", value: "a2" }])
      await b.put("1", "b1")
      await db.put("z", "root")
      expect(await a.iterator().all()).toEqual([["1", "a1"], ["2", "a2"]])
      const it = a.keys()
      it.seek("2")
      expect(await it.all()).toEqual(["2"])
      await a.clear()
      expect(await a.keys().all()).toEqual([])
      expect(await b.get("1")).toBe("b1")
      expect(await db.get("z")).toBe("root")
    })
  })

  it("aborts an iterator read on its signal", async () => {
    await withDb({}, async (db) => {
      await db.put("a", "1")
      const controller = new AbortController()
      const it = db.iterator({ signal: controller.signal })
      const read = it.nextv(10)
      controller.abort()
      const error = await rejection(read)
      expect(error.code).toBe("LEVEL_ABORTED")
      expect(error.name).toBe("AbortError")
      await it.close()
    })
  })
})
