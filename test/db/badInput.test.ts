/**
 * Bad input: typed errors, and nothing written.
 */
import { assert, describe, it } from "@effect/vitest"
// Option-aware: chai's deepStrictEqual takes Option.some(x) and Option.none() for equal.
import { deepStrictEqual } from "@effect/vitest/utils"
import { Buffer } from "node:buffer"
import { Effect, Either, Layer, Option, Stream } from "effect"
import { Db, type DbService } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { DbOptions } from "../../src/Options.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import { textOf, withDb } from "../support.js"

const failsWith = <A, E extends { _tag: string }, R>(effect: Effect.Effect<A, E, R>, tag: string) =>
  Effect.map(Effect.either(effect), (r) => {
    assert.isTrue(Either.isLeft(r), `expected ${tag}, got success`)
    if (Either.isLeft(r)) assert.strictEqual(r.left._tag, tag, String(r.left))
  })

/** A resizable `ArrayBuffer` (Node 20; ES2024, past this project's `lib`). */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void
}
const resizable = (byteLength: number, maxByteLength: number): ResizableArrayBuffer =>
  new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ResizableArrayBuffer)(byteLength, {
    maxByteLength
  })

const lastSequence = (db: DbService) => Effect.map(db.stats, (s) => s.lastSequence)

describe("bad input", () => {
  it.effect("bad keys, values, batches and options are InvalidArgument and write nothing", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/bad", maxKeySize: 16, maxValueSize: 32 }, (db) =>
        Effect.gen(function* () {
          yield* db.put("ok", "fine")
          const before = yield* lastSequence(db)
          const anyDb = db as unknown as { put: (...a: Array<unknown>) => Effect.Effect<void, { _tag: string }> ; delete: (...a: Array<unknown>) => Effect.Effect<void, { _tag: string }>; get: (...a: Array<unknown>) => Effect.Effect<unknown, { _tag: string }> }
          yield* failsWith(db.put("k".repeat(17), "v"), "stratadb/InvalidArgument")
          yield* failsWith(db.put("é".repeat(9), "v"), "stratadb/InvalidArgument") // 18 UTF-8 bytes
          yield* failsWith(db.put("k", "v".repeat(33)), "stratadb/InvalidArgument")
          yield* failsWith(db.put("k", new Uint8Array(33)), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.put(42, "v"), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.put(null, "v"), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.put("k", { not: "bytes" }), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.put("k", undefined), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.put("k", "v", { sync: "yes" }), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.delete(7), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.delete(42), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.get(42), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.get({}), "stratadb/InvalidArgument")
          yield* failsWith(db.write(WriteBatch.make().put("a", "1").put("b", "v".repeat(33))), "stratadb/InvalidArgument")
          yield* failsWith(db.write(WriteBatch.make().put("a", "1").delete(42 as unknown as string)), "stratadb/InvalidArgument")
          yield* failsWith(db.write({} as WriteBatch), "stratadb/InvalidArgument")
          assert.strictEqual(yield* lastSequence(db), before, "a refused write took a sequence number")
          assert.isTrue(Option.isNone(yield* db.get("a")))
          // Exactly at the limits is fine.
          yield* db.put("k".repeat(16), "v".repeat(32))
          assert.strictEqual(yield* lastSequence(db), before + 1)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("bad options fail the open with InvalidArgument", () =>
    Effect.gen(function* () {
      const bad: Array<unknown> = [
        { directory: "" },
        { directory: "/x", writeBufferSize: -1 },
        { directory: "/x", writeBufferSize: 1.5 },
        { directory: "/x", blockSize: "4k" },
        { directory: "/x", bloomBitsPerKey: 100 },
        { directory: "/x", compaction: "random" },
        { directory: "/x", level0SlowdownTrigger: 2, level0CompactionTrigger: 4 },
        { directory: "/x", noSuchOption: true },
        null
      ]
      for (const options of bad) {
        yield* failsWith(withDb(options as DbOptions, () => Effect.void), "stratadb/InvalidArgument")
      }
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("use after close fails with DbClosed", () =>
    Effect.gen(function* () {
      const db = yield* Effect.scoped(Db.make({ directory: "/closed" }))
      yield* failsWith(db.put("k", "v"), "stratadb/DbClosed")
      yield* failsWith(db.get("k"), "stratadb/DbClosed")
      yield* failsWith(db.delete("k"), "stratadb/DbClosed")
      yield* failsWith(db.write(WriteBatch.make().put("a", "b")), "stratadb/DbClosed")
      yield* failsWith(db.flush, "stratadb/DbClosed")
      yield* failsWith(db.stats, "stratadb/DbClosed")
      yield* failsWith(db.getMany(["k"]), "stratadb/DbClosed")
      yield* failsWith(Stream.runCollect(db.scan()), "stratadb/DbClosed")
      yield* failsWith(Effect.scoped(db.snapshot), "stratadb/DbClosed")
      yield* failsWith(db.compactRange(), "stratadb/DbClosed")
      // Nothing was written by the refused put.
      yield* withDb({ directory: "/closed" }, (db2) => Effect.map(db2.get("k"), (v) => assert.isTrue(Option.isNone(v))))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
  it.effect("a batch holding null, a non-object, an op without a key or a throwing op is InvalidArgument", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/batch" }, (db) =>
        Effect.gen(function* () {
          yield* db.put("ok", "fine")
          const before = yield* lastSequence(db)
          const good = { kind: "put", key: "a", value: "1" }
          const throwingOp = { kind: "put", value: "v", get key(): string { throw new Error("boom") } }
          const revoked = Proxy.revocable({}, {})
          revoked.revoke()
          const throwingArray = new Proxy([good], {
            get: () => {
              throw new Error("no reading")
            }
          })
          const throwsProxy = { kind: "put", value: "v", get key(): string { throw new Proxy({}, { getPrototypeOf: () => { throw new Error("again") } }) } }
          const batches: Array<unknown> = [
            { ops: [good, throwsProxy] },
            { ops: [null] },
            { ops: [good, null] },
            { ops: [good, 42] },
            { ops: [good, "put"] },
            { ops: [good, undefined] },
            { ops: new Array(2) },
            { ops: [good, { kind: "put", value: "v" }] },
            { ops: [good, { kind: "delete" }] },
            { ops: [good, { key: "b", value: "v" }] },
            { ops: [good, throwingOp] },
            { ops: [good, revoked.proxy] },
            { ops: throwingArray },
            { ops: "ab" },
            { get ops(): never { throw new Error("boom") } },
            revoked.proxy,
            null,
            "batch"
          ]
          const anyWrite = db.write as (...a: Array<unknown>) => Effect.Effect<void, { _tag: string }>
          for (const batch of batches) yield* failsWith(anyWrite(batch), "stratadb/InvalidArgument")
          // A real WriteBatch whose ops array was reached into is validated the same way.
          const wb = WriteBatch.make().put("a", "1")
          ;(wb.ops as Array<unknown>).push(null)
          yield* failsWith(db.write(wb), "stratadb/InvalidArgument")
          assert.strictEqual(yield* lastSequence(db), before, "a refused batch took a sequence number")
          assert.isTrue(Option.isNone(yield* db.get("a")))
          // A hand-built batch of good ops is written like a WriteBatch.
          yield* anyWrite({ ops: [good, { kind: "delete", key: "ok" }] })
          assert.strictEqual(yield* lastSequence(db), before + 2)
          assert.strictEqual(textOf(yield* db.get("a")), "1")
          assert.isTrue(Option.isNone(yield* db.get("ok")))
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("options with throwing getters are InvalidArgument, at open and on every call, and are read once", () =>
    Effect.gen(function* () {
      const boom = (): never => {
        throw new Error("getter says no")
      }
      const badOpen: Array<unknown> = [
        { get directory() { return boom() } },
        { directory: "/x", get writeBufferSize() { return boom() } },
        new Proxy({ directory: "/x" }, { ownKeys: boom }),
        new Proxy({ directory: "/x" }, { getPrototypeOf: boom }),
        [],
        "/x"
      ]
      for (const options of badOpen) {
        yield* failsWith(withDb(options as DbOptions, () => Effect.void), "stratadb/InvalidArgument")
        yield* failsWith(Effect.scoped(Layer.build(Db.layer(options as DbOptions))), "stratadb/InvalidArgument")
      }
      // Each option is read once: a getter that would fail on a second read opens fine.
      let reads = 0
      const once = {
        get directory() {
          if (reads++ > 0) throw new Error("read twice")
          return "/once"
        }
      }
      yield* withDb(once as DbOptions, () => Effect.void)
      assert.strictEqual(reads, 1)

      yield* withDb({ directory: "/getters" }, (db) =>
        Effect.gen(function* () {
          yield* db.put("a", "1")
          const before = yield* lastSequence(db)
          const anyDb = db as unknown as Record<string, (...a: Array<unknown>) => Effect.Effect<unknown, { _tag: string }>>
          const scanWith = (o: unknown) => Stream.runCollect(db.scan(o as never))
          yield* failsWith(anyDb.put!("b", "2", { get sync() { return boom() } }), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.delete!("a", { get sync() { return boom() } }), "stratadb/InvalidArgument")
          yield* failsWith(
            anyDb.write!(WriteBatch.make().put("b", "2"), { get sync() { return boom() } }),
            "stratadb/InvalidArgument"
          )
          yield* failsWith(anyDb.put!("b", "2", new Proxy({}, { get: boom })), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.get!("a", { get snapshot() { return boom() } }), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.getMany!(["a"], { get snapshot() { return boom() } }), "stratadb/InvalidArgument")
          yield* failsWith(anyDb.get!("a", { snapshot: { get sequence() { return boom() } } }), "stratadb/InvalidArgument")
          yield* failsWith(scanWith({ get snapshot() { return boom() } }), "stratadb/InvalidArgument")
          for (const field of ["gt", "gte", "lt", "lte", "prefix", "limit", "reverse", "keys", "values"]) {
            yield* failsWith(scanWith(Object.defineProperty({}, field, { get: boom, enumerable: true })), "stratadb/InvalidArgument")
          }
          yield* failsWith(anyDb.getMany!(new Proxy(["a"], { get: boom })), "stratadb/InvalidArgument")
          // Keys are read by index, not through the array's (replaceable) iterator.
          const keys = ["a"]
          ;(keys as unknown as Record<symbol, unknown>)[Symbol.iterator] = boom
          assert.strictEqual((yield* db.getMany(keys)).length, 1)
          assert.strictEqual(yield* lastSequence(db), before)
          assert.isTrue(Option.isNone(yield* db.get("b")))
          // Per-call options are read once too.
          const counts: Record<string, number> = {}
          const counting = (fields: Record<string, unknown>) => {
            const o = {}
            for (const [k, v] of Object.entries(fields)) {
              Object.defineProperty(o, k, {
                enumerable: true,
                get: () => {
                  counts[k] = (counts[k] ?? 0) + 1
                  return v
                }
              })
            }
            return o
          }
          const entries = yield* Effect.scoped(
            Effect.flatMap(db.snapshot, (snapshot) =>
              scanWith(counting({ snapshot, gte: "a", lte: "z", prefix: "a", limit: 5, reverse: false, keys: true, values: true }))
            )
          )
          assert.strictEqual(entries.length, 1)
          yield* db.put("c", "3", counting({ sync: true }) as never)
          yield* Effect.scoped(
            Effect.flatMap(db.snapshot, (snapshot) => db.get("a", counting({ snapshot }) as never))
          )
          assert.deepStrictEqual(counts, { snapshot: 2, gte: 1, lte: 1, prefix: 1, limit: 1, reverse: 1, keys: 1, values: 1, sync: 1 })
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a key or value over a resizable, shared, detached or reused buffer: bytes are copied when the effect is built", () =>
    Effect.gen(function* () {
      const original = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
      yield* withDb({ directory: "/buffers" }, (db) =>
        Effect.gen(function* () {
          // A length-tracking view over a resizable buffer, shrunk after `put` built its effect.
          const shrunk = resizable(8, 64)
          const shrunkView = new Uint8Array(shrunk)
          shrunkView.set(original)
          const putShrunk = db.put("shrunk", shrunkView)
          shrunk.resize(2)
          yield* putShrunk
          // Grown after the effect was built.
          const grown = resizable(8, 64)
          const grownView = new Uint8Array(grown)
          grownView.set(original)
          const putGrown = db.put("grown", grownView)
          grown.resize(64)
          grownView.fill(9)
          yield* putGrown
          // A key over a resizable buffer, shrunk.
          const keyBuffer = resizable(3, 8)
          const keyView = new Uint8Array(keyBuffer)
          keyView.set([107, 101, 121]) // "key"
          const putKey = db.put(keyView, "by-key")
          keyBuffer.resize(1)
          yield* putKey
          // A plain buffer (and a Buffer) overwritten after the effect was built.
          const reused = Uint8Array.from(original)
          const putReused = db.put("reused", reused)
          reused.fill(0)
          yield* putReused
          const buf = Buffer.from("hello")
          const putBuf = db.put("buffer", buf)
          buf.fill(0)
          yield* putBuf
          // A batch: its bytes are taken when `write` is called.
          const batchValue = Uint8Array.from(original)
          const batch = WriteBatch.make().put("batched", batchValue)
          const writeBatch = db.write(batch)
          batchValue.fill(0)
          batch.put("late", "x")
          yield* writeBatch
          // A value over a SharedArrayBuffer.
          const shared = new Uint8Array(new SharedArrayBuffer(8))
          shared.set(original)
          const putShared = db.put("shared", shared)
          shared.fill(0)
          yield* putShared
          // A view whose own `byteLength` lies: what is stored is its real bytes, nothing more.
          const lying = Uint8Array.from(original)
          Object.defineProperty(lying, "byteLength", { get: () => 64 })
          yield* db.put("lying", lying)
          const before = yield* lastSequence(db)
          // A detached buffer (transferred away) as a key, a value or a bound; a fixed view
          // left out of bounds by a shrink. A detached value is not an empty value.
          const detached = new ArrayBuffer(4)
          const detachedView = new Uint8Array(detached)
          structuredClone(detached, { transfer: [detached] })
          const outOfBoundsBuffer = resizable(8, 8)
          const outOfBounds = new Uint8Array(outOfBoundsBuffer, 4, 4)
          outOfBoundsBuffer.resize(2)
          yield* failsWith(db.put("d", detachedView), "stratadb/InvalidArgument")
          yield* failsWith(db.put(detachedView, "v"), "stratadb/InvalidArgument")
          yield* failsWith(db.put("d", outOfBounds), "stratadb/InvalidArgument")
          yield* failsWith(db.delete(detachedView), "stratadb/InvalidArgument")
          yield* failsWith(db.get(detachedView), "stratadb/InvalidArgument")
          yield* failsWith(db.write(WriteBatch.make().put("d", detachedView)), "stratadb/InvalidArgument")
          yield* failsWith(Stream.runCollect(db.scan({ gte: detachedView })), "stratadb/InvalidArgument")
          yield* failsWith(Stream.runCollect(db.scan({ prefix: outOfBounds })), "stratadb/InvalidArgument")
          yield* failsWith(db.compactRange(detachedView), "stratadb/InvalidArgument")
          // A Uint8Array look-alike (prototype only) is not bytes.
          yield* failsWith(db.put("d", Object.create(Uint8Array.prototype) as Uint8Array), "stratadb/InvalidArgument")
          // A later operation's getter that detaches, or shrinks, an earlier value's buffer while
          // the batch is read: the value is no longer what was validated, the whole batch is refused.
          const early = new ArrayBuffer(4)
          const shrinking = resizable(8, 8)
          for (const [value, change] of [
            [new Uint8Array(early), () => structuredClone(early, { transfer: [early] })],
            [new Uint8Array(shrinking), () => shrinking.resize(2)]
          ] as const) {
            const sneaky = [
              { kind: "put", key: "early", value },
              { kind: "put", get key() { change(); return "later" }, value: "v" }
            ] as const
            yield* failsWith(db.write(sneaky), "stratadb/InvalidArgument")
          }
          assert.strictEqual(yield* lastSequence(db), before)
          assert.isTrue(Option.isNone(yield* db.get("early")))
          assert.isTrue(Option.isNone(yield* db.get("d")))
        })
      )
      // What is on disk (replayed from the log) is what the caller handed in when the effect was built.
      yield* withDb({ directory: "/buffers" }, (db) =>
        Effect.gen(function* () {
          const bytesOf = (key: string) => Effect.map(db.get(key), (v) => Option.map(v, (b) => Array.from(b)))
          deepStrictEqual(yield* bytesOf("shrunk"), Option.some(Array.from(original)))
          deepStrictEqual(yield* bytesOf("grown"), Option.some(Array.from(original)))
          deepStrictEqual(yield* bytesOf("reused"), Option.some(Array.from(original)))
          deepStrictEqual(yield* bytesOf("batched"), Option.some(Array.from(original)))
          deepStrictEqual(yield* bytesOf("shared"), Option.some(Array.from(original)))
          deepStrictEqual(yield* bytesOf("lying"), Option.some(Array.from(original)))
          assert.strictEqual(textOf(yield* db.get("key")), "by-key")
          assert.strictEqual(textOf(yield* db.get("buffer")), "hello")
          assert.isTrue(Option.isNone(yield* db.get("late")))
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("strings that are not well-formed UTF-16 are InvalidArgument: keys, values and bounds", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/surrogates" }, (db) =>
        Effect.gen(function* () {
          yield* db.put("ok", "fine")
          const before = yield* lastSequence(db)
          for (const lone of ["\uD800", "\uDFFF", "a\uD83D", "\uDE00b", "x\uDC00\uD800y"]) {
            yield* failsWith(db.put(lone, "v"), "stratadb/InvalidArgument")
            yield* failsWith(db.put("k", lone), "stratadb/InvalidArgument")
            yield* failsWith(db.delete(lone), "stratadb/InvalidArgument")
            yield* failsWith(db.get(lone), "stratadb/InvalidArgument")
            yield* failsWith(db.getMany(["ok", lone]), "stratadb/InvalidArgument")
            yield* failsWith(db.write(WriteBatch.make().put("a", "1").put(lone, "v")), "stratadb/InvalidArgument")
            yield* failsWith(db.write(WriteBatch.make().put("a", "1").put("b", lone)), "stratadb/InvalidArgument")
            for (const bound of ["gt", "gte", "lt", "lte", "prefix"]) {
              yield* failsWith(Stream.runCollect(db.scan({ [bound]: lone })), "stratadb/InvalidArgument")
            }
            yield* failsWith(db.compactRange(lone), "stratadb/InvalidArgument")
            yield* failsWith(db.compactRange(undefined, lone), "stratadb/InvalidArgument")
          }
          assert.strictEqual(yield* lastSequence(db), before)
          assert.isTrue(Option.isNone(yield* db.get("\uFFFD")))
          assert.isTrue(Option.isNone(yield* db.get("k")))
          // A surrogate pair is well formed.
          yield* db.put("\uD83D\uDE00", "\uD83D\uDE00")
          assert.strictEqual(textOf(yield* db.get("\uD83D\uDE00")), "\uD83D\uDE00")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("every per-call options argument is undefined or a plain object", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/callopts" }, (db) =>
        Effect.gen(function* () {
          yield* db.put("a", "1")
          const before = yield* lastSequence(db)
          const anyDb = db as unknown as Record<string, (...a: Array<unknown>) => Effect.Effect<unknown, { _tag: string }>>
          const scanWith = (o: unknown) => Stream.runCollect(db.scan(o as never))
          const notOptions: Array<unknown> = [null, "x", 42, true, [], [1], () => ({}), new Date(0), new Map(), Symbol("o")]
          for (const o of notOptions) {
            yield* failsWith(anyDb.put!("b", "2", o), "stratadb/InvalidArgument")
            yield* failsWith(anyDb.delete!("a", o), "stratadb/InvalidArgument")
            yield* failsWith(anyDb.write!(WriteBatch.make().put("b", "2"), o), "stratadb/InvalidArgument")
            yield* failsWith(anyDb.get!("a", o), "stratadb/InvalidArgument")
            yield* failsWith(anyDb.getMany!(["a"], o), "stratadb/InvalidArgument")
            yield* failsWith(scanWith(o), "stratadb/InvalidArgument")
          }
          assert.strictEqual(yield* lastSequence(db), before)
          assert.isTrue(Option.isNone(yield* db.get("b")))
          // undefined, {} and an object without a prototype are options.
          for (const o of [undefined, {}, Object.create(null)]) {
            yield* anyDb.get!("a", o)
            yield* anyDb.getMany!(["a"], o)
            yield* scanWith(o)
            yield* anyDb.put!("b", "2", o)
          }
          assert.strictEqual(textOf(yield* db.get("b")), "2")
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
