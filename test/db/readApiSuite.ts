/**
 * The operations the level bridge builds on, on every backend: cursors with `seek`, `getSync`,
 * `has`/`hasMany`, `deleteRange` under concurrent writes and snapshots, array batches, and
 * `createIfMissing`/`errorIfExists`. Randomised cases print their seed; `STRATADB_SEED` replays one.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Chunk, Effect, Either, Fiber, type Layer, type Scope, Stream } from "effect"
import { Db, type DbService, type Entry, type ScanOptions } from "../../src/Db.js"
import type { DbError } from "../../src/errors.js"
import { Rng } from "../sweeps/model.js"
import { small, text, textOf, withDb } from "../support.js"

const key = (i: number) => `k${String(i).padStart(5, "0")}`
const entriesText = (entries: ReadonlyArray<Entry>) => entries.map((e) => `${text(e.key)}=${text(e.value)}`)

/** The sweeps' seeded generator, so a failure replays from its seed. */
const random = (seed: number) => {
  const rng = new Rng(seed)
  return () => rng.next()
}

const seedOf = () => (process.env.STRATADB_SEED !== undefined ? Number(process.env.STRATADB_SEED) : Math.floor(Math.random() * 2 ** 31))

/** Keys 0..n-1 (even ones only when `sparse`), flushed in part so reads cross memtable and tables. */
const fill = (db: DbService, n: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) {
      yield* db.put(key(i), `v${i}`)
      if (i === Math.floor(n / 2)) yield* db.flush
    }
  })

export const readApiSuite = (
  name: string,
  layer: Layer.Layer<FileSystem | Path>,
  directory: Effect.Effect<string, unknown, FileSystem | Path | Scope.Scope>,
  /** The file system opens and reads synchronously (`getSync` reads tables). */
  syncReads: boolean
) =>
  describe(`read API: ${name}`, () => {
    it.scoped("cursor: seek forward and back matches a sorted model, within bounds, across memtable and tables", () =>
      Effect.gen(function* () {
        const seed = seedOf()
        const rnd = random(seed)
        const dir = yield* directory
        const n = 3000
        yield* withDb(small(dir, { backgroundCompaction: false }), (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < n; i += 2) yield* db.put(key(i), `v${i}`)
            yield* db.flush
            // Overwrites and deletes in the memtable, over the tables.
            for (let i = 0; i < n; i += 6) yield* db.put(key(i), `w${i}`)
            for (let i = 0; i < n; i += 10) yield* db.delete(key(i))
            const model = new Map<string, string>()
            for (let i = 0; i < n; i += 2) model.set(key(i), i % 10 === 0 ? "" : i % 6 === 0 ? `w${i}` : `v${i}`)
            for (const [k, v] of [...model]) if (v === "") model.delete(k)
            const sorted = [...model.keys()].sort()
            for (let round = 0; round < 40; round++) {
              const reverse = rnd() < 0.5
              const lo = Math.floor(rnd() * n)
              const hi = lo + Math.floor(rnd() * (n - lo))
              const inRange = sorted.filter((k) => k >= key(lo) && k < key(hi))
              yield* Effect.scoped(
                Effect.gen(function* () {
                  const c = yield* db.cursor({ gte: key(lo), lt: key(hi), reverse })
                  for (let s = 0; s < 5; s++) {
                    const t = Math.floor(rnd() * n)
                    // A target between keys: odd numbers are never written.
                    const target = key(t)
                    yield* c.seek(target)
                    const take = 1 + Math.floor(rnd() * 300)
                    const got = (yield* c.next(take)).map((e) => text(e.key))
                    // A target outside the range ends the cursor.
                    const outside = target < key(lo) || target >= key(hi)
                    const expected = outside ? [] : (reverse
                      ? inRange.filter((k) => k <= target).reverse()
                      : inRange.filter((k) => k >= target)
                    ).slice(0, take)
                    assert.deepStrictEqual(got, expected, `seed ${seed}: round ${round} seek ${s} to ${target} (${reverse ? "reverse" : "forward"} in [${key(lo)}, ${key(hi)}))`)
                    for (const k of got) assert.strictEqual(k.length, 6)
                  }
                })
              )
            }
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("cursor: a target outside the range ends it; limit counts across seeks; a bad target fails and does not move", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            yield* fill(db, 20)
            yield* Effect.scoped(Effect.gen(function* () {
              const c = yield* db.cursor({ gt: key(5), lte: key(10) })
              yield* c.seek(key(15))
              deepStrictEqual(yield* c.next(10), [])
              // Before the lower bound (or on it, exclusive): ended too.
              yield* c.seek(key(0))
              deepStrictEqual(yield* c.next(10), [])
              yield* c.seek(key(5))
              deepStrictEqual(yield* c.next(10), [])
              yield* c.seek(key(6))
              assert.deepStrictEqual((yield* c.next(2)).map((e) => text(e.key)), [key(6), key(7)])
              const bad = yield* Effect.either(c.seek(5 as unknown as string))
              assert.isTrue(Either.isLeft(bad) && bad.left._tag === "stratadb/InvalidArgument")
              assert.deepStrictEqual((yield* c.next(1)).map((e) => text(e.key)), [key(8)])
            }))
            yield* Effect.scoped(Effect.gen(function* () {
              const c = yield* db.cursor({ reverse: true, gte: key(3), limit: 4 })
              yield* c.seek(key(1))
              deepStrictEqual(yield* c.next(10), [])
              yield* c.seek(key(9))
              assert.deepStrictEqual((yield* c.next(3)).map((e) => text(e.key)), [key(9), key(8), key(7)])
              yield* c.seek(key(19))
              // One left of the limit of 4.
              assert.deepStrictEqual((yield* c.next(3)).map((e) => text(e.key)), [key(19)])
              deepStrictEqual(yield* c.next(3), [])
            }))
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("cursor: reads at the moment it opened, whatever is written or flushed after", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            yield* fill(db, 100)
            yield* Effect.scoped(Effect.gen(function* () {
              const c = yield* db.cursor({ values: false })
              yield* db.delete(key(50))
              yield* db.put(key(200), "new")
              yield* db.flush
              yield* db.compactRange()
              const all: Array<string> = []
              for (;;) {
                const chunk = yield* c.next(7)
                if (chunk.length === 0) break
                for (const e of chunk) {
                  assert.strictEqual(e.value, undefined)
                  all.push(text(e.key))
                }
              }
              assert.deepStrictEqual(all, Array.from({ length: 100 }, (_, i) => key(i)))
            }))
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("keys: false and values: false leave that side undefined, in value and type: never an empty key that looks real", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            // The empty key is a key like any other: a keys-only scan shows it as empty bytes.
            yield* db.put("", "empty key")
            yield* fill(db, 20)
            yield* db.put("z", "")
            const all = [["", "empty key"], ...Array.from({ length: 20 }, (_, i) => [key(i), `v${i}`]), ["z", ""]]
            const collect = <A>(stream: Stream.Stream<A, DbError>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

            const both = yield* collect(db.scan())
            expectTypeOf(both).toEqualTypeOf<Array<Entry>>()
            deepStrictEqual(both.map((e) => [text(e.key), text(e.value)]), all)

            const keysOnly = yield* collect(db.scan({ values: false }))
            expectTypeOf(keysOnly).toEqualTypeOf<Array<Entry<Uint8Array, undefined>>>()
            deepStrictEqual(keysOnly.map((e) => text(e.key)), all.map(([k]) => k))
            for (const e of keysOnly) assert.strictEqual(e.value, undefined)
            assert.strictEqual(keysOnly[0]!.key.byteLength, 0)

            const valuesOnly = yield* collect(db.scan({ keys: false, reverse: true }))
            expectTypeOf(valuesOnly).toEqualTypeOf<Array<Entry<undefined, Uint8Array>>>()
            deepStrictEqual(valuesOnly.map((e) => text(e.value)), all.map(([, v]) => v).reverse())
            for (const e of valuesOnly) assert.strictEqual(e.key, undefined)

            const neither = yield* collect(db.scan({ keys: false, values: false, limit: 3 }))
            expectTypeOf(neither).toEqualTypeOf<Array<Entry<undefined, undefined>>>()
            deepStrictEqual(neither, [{ key: undefined, value: undefined }, { key: undefined, value: undefined }, { key: undefined, value: undefined }])

            // Flags known only at run time: either side may be absent, in the type.
            const flags: ScanOptions = { keys: keysOnly.length < 0 }
            const unknown = yield* collect(db.scan(flags))
            expectTypeOf(unknown).toEqualTypeOf<Array<Entry<Uint8Array | undefined, Uint8Array | undefined>>>()
            for (const e of unknown) assert.isTrue(e.key === undefined && e.value instanceof Uint8Array)

            // A cursor the same way.
            yield* Effect.scoped(
              Effect.gen(function* () {
                const c = yield* db.cursor({ keys: false, gte: key(5) })
                const entries = yield* c.next(2)
                expectTypeOf(entries).toEqualTypeOf<Array<Entry<undefined, Uint8Array>>>()
                deepStrictEqual(entries.map((e) => [e.key, text(e.value)]), [[undefined, "v5"], [undefined, "v6"]])
                yield* c.seek(key(5))
                deepStrictEqual((yield* c.next(1)).map((e) => [e.key, text(e.value)]), [[undefined, "v5"]])
              })
            )
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("getSync reads memtable and tables, at a snapshot, and fails typed when closed", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            yield* fill(db, 200)
            yield* db.flush
            yield* db.put(key(3), "memtable")
            // Without synchronous opens, an async read opens the table first.
            if (!syncReads) yield* db.get(key(150))
            const t = (k: string) => Either.map(db.getSync(k), textOf)
            deepStrictEqual(t(key(3)), Either.right("memtable"))
            deepStrictEqual(t(key(150)), Either.right("v150"))
            deepStrictEqual(t("missing"), Either.right(undefined))
            yield* Effect.scoped(Effect.gen(function* () {
              const snapshot = yield* db.snapshot
              yield* db.put(key(150), "later")
              deepStrictEqual(Either.map(db.getSync(key(150), { snapshot }), textOf), Either.right("v150"))
              deepStrictEqual(t(key(150)), Either.right("later"))
            }))
            const bad = db.getSync(42 as unknown as string)
            assert.isTrue(Either.isLeft(bad) && bad.left._tag === "stratadb/InvalidArgument")
          })
        )
        // Reopened: no table is open yet, so getSync must open one itself.
        const db = yield* Db.make(small(dir))
        const fromTable = db.getSync(key(100))
        if (syncReads) deepStrictEqual(Either.map(fromTable, textOf), Either.right("v100"))
        else assert.isTrue(Either.isLeft(fromTable) && fromTable.left._tag === "stratadb/NotSupported", String(fromTable))
        // The async read opens it; getSync then finds it open.
        deepStrictEqual(textOf(yield* db.get(key(100))), "v100")
        deepStrictEqual(Either.map(db.getSync(key(100)), textOf), Either.right("v100"))
      }).pipe(Effect.provide(layer))
    )

    it.scoped("has and hasMany", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            yield* fill(db, 50)
            yield* db.delete(key(7))
            assert.isTrue(yield* db.has(key(1)))
            assert.isFalse(yield* db.has(key(7)))
            assert.deepStrictEqual(yield* db.hasMany([key(1), key(7), "nope", key(49)]), [true, false, false, true])
            const bad = yield* Effect.either(db.hasMany("x" as unknown as Array<string>))
            assert.isTrue(Either.isLeft(bad) && bad.left._tag === "stratadb/InvalidArgument")
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("write takes an array of operations; a bad one writes nothing", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb({ directory: dir }, (db) =>
          Effect.gen(function* () {
            yield* db.put("b", "old")
            yield* db.write([
              { kind: "put", key: "a", value: "1" },
              { kind: "delete", key: "b", value: undefined },
              { kind: "put", key: "c", value: new Uint8Array([51]) }
            ])
            assert.deepStrictEqual(entriesText(yield* Effect.scoped(Effect.flatMap(db.cursor(), (c) => c.next(10)))), ["a=1", "c=3"])
            const bad = yield* Effect.either(db.write([{ kind: "put", key: "d", value: "4" }, { kind: "put", key: 42 as unknown as string, value: "x" }]))
            assert.isTrue(Either.isLeft(bad) && bad.left._tag === "stratadb/InvalidArgument")
            assert.isFalse(yield* db.has("d"))
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("deleteRange: bounds, prefix, limit and reverse", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            yield* fill(db, 3000)
            yield* db.put("other", "x")
            const count = Effect.scoped(Effect.flatMap(db.cursor({ prefix: "k" }), (c) => c.next(10_000))).pipe(Effect.map((e) => e.length))
            yield* db.deleteRange({ gte: key(100), lt: key(2600) })
            assert.strictEqual(yield* count, 500)
            assert.isTrue(yield* db.has(key(99)))
            assert.isFalse(yield* db.has(key(100)))
            assert.isTrue(yield* db.has(key(2600)))
            yield* db.deleteRange({ prefix: "k", limit: 10, reverse: true })
            assert.strictEqual(yield* count, 490)
            assert.isFalse(yield* db.has(key(2990)))
            assert.isTrue(yield* db.has(key(2989)))
            yield* db.deleteRange({ prefix: "k", sync: true })
            assert.strictEqual(yield* count, 0)
            assert.isTrue(yield* db.has("other"))
            const bad = yield* Effect.either(db.deleteRange({ gt: "a", gte: "b" }))
            assert.isTrue(Either.isLeft(bad) && bad.left._tag === "stratadb/InvalidArgument" && bad.left.method === "deleteRange")
            yield* db.deleteRange()
            assert.isFalse(yield* db.has("other"))
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("deleteRange keeps what is written while it runs, and snapshots taken before see everything", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        yield* withDb(small(dir), (db) =>
          Effect.gen(function* () {
            const n = 5000
            yield* fill(db, n)
            yield* Effect.scoped(Effect.gen(function* () {
              const before = yield* db.snapshot
              const deleting = yield* Effect.fork(db.deleteRange({ prefix: "k" }))
              yield* Effect.yieldNow()
              // Written while the range is deleted chunk by chunk, at its far end first.
              const rewritten: Array<number> = []
              let whileDeleting = 0
              for (let i = n - 1; i >= 0; i -= 37) {
                yield* db.put(key(i), `new${i}`)
                rewritten.push(i)
                if (deleting.unsafePoll() === null) whileDeleting++
                yield* Effect.yieldNow()
              }
              // The case under test happened: writes landed while the deletes went on.
              assert.isAbove(whileDeleting, 0)
              yield* db.put(key(n + 1), "added")
              yield* Fiber.join(deleting)
              const left = yield* Effect.scoped(Effect.flatMap(db.cursor({ prefix: "k" }), (c) => c.next(100_000)))
              const expected = [...rewritten].sort((a, b) => a - b).map((i) => `${key(i)}=new${i}`)
              assert.deepStrictEqual(entriesText(left), [...expected, `${key(n + 1)}=added`])
              const old = yield* Effect.scoped(Effect.flatMap(db.cursor({ prefix: "k", snapshot: before }), (c) => c.next(100_000)))
              assert.strictEqual(old.length, n)
              deepStrictEqual(textOf(yield* db.get(key(0), { snapshot: before })), "v0")
            }))
          })
        )
      }).pipe(Effect.provide(layer))
    )

    it.scoped("createIfMissing: false refuses a missing database and creates nothing; errorIfExists refuses an existing one", () =>
      Effect.gen(function* () {
        const dir = yield* directory
        const fresh = `${dir}/fresh`
        const missing = yield* Effect.either(Db.make({ directory: fresh, createIfMissing: false }))
        assert.isTrue(Either.isLeft(missing) && missing.left._tag === "stratadb/InvalidArgument" && missing.left.method === "open")
        assert.isFalse(yield* (yield* FileSystem).exists(fresh), "a refused open created the directory")
        yield* withDb({ directory: fresh }, (db) => db.put("a", "1"))
        const exists = yield* Effect.either(withDb({ directory: fresh, errorIfExists: true }, () => Effect.void))
        assert.isTrue(Either.isLeft(exists) && exists.left._tag === "stratadb/InvalidArgument")
        yield* withDb({ directory: fresh, createIfMissing: false }, (db) =>
          Effect.map(db.get("a"), (v) => deepStrictEqual(textOf(v), "1"))
        )
      }).pipe(Effect.provide(layer))
    )
  })
