/**
 * `stratadb/Persistence`: `@effect/experimental`'s `BackingPersistence` over a stratadb database.
 * One suite, run on MemoryFileSystem (`layer`, `layerResult`) and on Node (`layerNode`,
 * `layerResultNode`): set and get, getMany, setMany, remove, clear of one store only, store ids
 * that are prefixes of each other, time to live on the `TestClock`, typed errors, a reopen, then
 * `ResultPersistence` (`layerResult`) and `PersistedCache` over it. Then, on a `Db` of the test's
 * own (`layerFromDb`, `fromDb`, `layerResultFromDb`), what the entries look like in the database.
 */
import * as PersistedCache from "@effect/experimental/PersistedCache"
import * as Persistence from "@effect/experimental/Persistence"
import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Chunk, Duration, Effect, Either, Exit, Layer, Option, PrimaryKey, Schema, type Scope, Stream, TestClock } from "effect"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import * as StrataPersistence from "../../src/Persistence.js"
import { text } from "../support.js"

class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}

/** A persistable request, as in `@effect/experimental`'s own tests: a schema'd result and a primary key. */
class GetUser extends Schema.TaggedRequest<GetUser>()("GetUser", {
  failure: Schema.String,
  success: User,
  payload: { id: Schema.Number }
}) implements Persistence.Persistable<typeof User, typeof Schema.String> {
  [PrimaryKey.symbol]() {
    return `GetUser:${this.id}`
  }
}

const none = Option.none<Duration.Duration>()
const ttl = (millis: number) => Option.some(Duration.millis(millis))

/** A failed persistence operation's error, asserted to be a `PersistenceBackingError` of `method`. */
const backingErrorOf = <A>(
  method: string,
  result: Either.Either<A, Persistence.PersistenceError>
): Persistence.PersistenceBackingError => {
  assert.isTrue(Either.isLeft(result), `${method} should fail`)
  const error = (result as Either.Left<Persistence.PersistenceError, A>).left
  assert.strictEqual(error._tag, "PersistenceError")
  assert.strictEqual(error.reason, "BackingError")
  assert.strictEqual(error.method, method)
  return error as Persistence.PersistenceBackingError
}

type Backing = Persistence.BackingPersistence

/**
 * The suite for the layers `backingLayer(directory)` and `resultLayer(directory)`, each test in its
 * own directory of a file system `environment` gives (a reopen finds what the first open wrote).
 */
const suite = (
  name: string,
  backingLayer: (directory: string) => Layer.Layer<Persistence.BackingPersistence, unknown, FileSystem | Path>,
  resultLayer: (directory: string) => Layer.Layer<Persistence.ResultPersistence, unknown, FileSystem | Path>,
  environment: Layer.Layer<FileSystem | Path>,
  directoryOf: (test: string) => Effect.Effect<string, unknown, FileSystem | Scope.Scope>
) =>
  describe(`Persistence on stratadb (${name})`, () => {
    /** Opens the backing on `directory`, runs `f` (in a scope of its own), closes it. */
    const open = <A, E>(directory: string, f: (backing: Backing) => Effect.Effect<A, E, Scope.Scope>) =>
      Effect.scoped(Effect.flatMap(Persistence.BackingPersistence, f).pipe(Effect.provide(backingLayer(directory))))
    const run = <A, E>(test: string, f: (backing: Backing) => Effect.Effect<A, E, Scope.Scope>) =>
      Effect.flatMap(directoryOf(test), (directory) => open(directory, f)).pipe(Effect.provide(environment))
    /** Opens `ResultPersistence` on `directory`, runs `f`, closes it. */
    const openResult = <A, E>(directory: string, f: Effect.Effect<A, E, Persistence.ResultPersistence | Scope.Scope>) =>
      Effect.scoped(f.pipe(Effect.provide(resultLayer(directory))))

    it.scoped("set, then get; get of a missing key is none; JSON values round trip", () =>
      run("set", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("users")
          deepStrictEqual(yield* store.get("ada"), Option.none())
          const values: ReadonlyArray<unknown> = [
            { name: "ada", tags: ["a", "b"], nested: { n: 1.5, ok: true, nothing: null } },
            "héllo ✓ 𝄞",
            42,
            0,
            null,
            false,
            [],
            ""
          ]
          for (let i = 0; i < values.length; i++) yield* store.set(`k${i}`, values[i], none)
          for (let i = 0; i < values.length; i++) deepStrictEqual(yield* store.get(`k${i}`), Option.some(values[i]))
          yield* store.set("k0", { replaced: true }, none)
          deepStrictEqual(yield* store.get("k0"), Option.some({ replaced: true }))
          // `undefined` (no JSON) is stored as an empty body and comes back as itself.
          yield* store.set("undefined", undefined, none)
          deepStrictEqual(yield* store.get("undefined"), Option.some(undefined))
          // An empty key is a key of the store like any other.
          yield* store.set("", "empty", none)
          deepStrictEqual(yield* store.get(""), Option.some("empty"))
        })
      ))

    it.scoped("getMany returns each key's value or none, in the keys' order", () =>
      run("getMany", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("s")
          yield* store.set("a", 1, none)
          yield* store.set("c", 3, ttl(100))
          yield* store.set("d", 4, ttl(10))
          yield* TestClock.adjust(10)
          deepStrictEqual(yield* store.getMany(["c", "b", "a", "d", "a"]), [
            Option.some(3),
            Option.none(),
            Option.some(1),
            Option.none(),
            Option.some(1)
          ])
          deepStrictEqual(yield* store.getMany([]), [])
          const many = Array.from({ length: 500 }, (_, i) => `m${i}`)
          yield* Effect.forEach(many, (key, i) => store.set(key, i, none), { discard: true })
          const back = yield* store.getMany(many)
          deepStrictEqual(back, many.map((_, i) => Option.some(i)))
        })
      ))

    it.scoped("setMany writes every entry, with and without a time to live; a later duplicate wins", () =>
      run("setMany", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("s")
          yield* store.setMany([
            ["forever", "f", none],
            ["short", "s", ttl(50)],
            ["twice", 1, none],
            ["twice", 2, none]
          ])
          deepStrictEqual(yield* store.getMany(["forever", "short", "twice"]), [
            Option.some("f"),
            Option.some("s"),
            Option.some(2)
          ])
          yield* TestClock.adjust(50)
          deepStrictEqual(yield* store.getMany(["forever", "short"]), [Option.some("f"), Option.none()])
          yield* store.setMany([])
        })
      ))

    it.scoped("remove", () =>
      run("remove", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("s")
          yield* store.set("a", 1, none)
          yield* store.set("b", 2, none)
          yield* store.remove("a")
          deepStrictEqual(yield* store.get("a"), Option.none())
          deepStrictEqual(yield* store.get("b"), Option.some(2))
          yield* store.remove("never-there")
        })
      ))

    it.scoped("clear empties one store, more than a batch of keys, and leaves the other stores", () =>
      run("clear", (backing) =>
        Effect.gen(function* () {
          const cleared = yield* backing.make("cache")
          const kept = yield* backing.make("other")
          yield* cleared.setMany(Array.from({ length: 2500 }, (_, i) => [`k${i}`, i, none] as const))
          yield* kept.setMany([
            ["k1", "kept", none],
            ["k2", "kept too", ttl(1000)]
          ])
          yield* cleared.clear
          deepStrictEqual(yield* cleared.getMany(["k0", "k1", "k2499"]), [Option.none(), Option.none(), Option.none()])
          deepStrictEqual(yield* kept.getMany(["k1", "k2"]), [Option.some("kept"), Option.some("kept too")])
          // A handle made before the clear and one made after see the same (empty) store.
          const again = yield* backing.make("cache")
          deepStrictEqual(yield* again.get("k7"), Option.none())
          yield* again.set("k7", "new", none)
          deepStrictEqual(yield* cleared.get("k7"), Option.some("new"))
        })
      ))

    it.scoped("store ids that are prefixes of each other do not collide, nor does clear reach across them", () =>
      run("prefixes", (backing) =>
        Effect.gen(function* () {
          // With a plain `storeId + key`, "a"+"bc", "ab"+"c" and ""+"abc" would be one key, and
          // clearing "a" would clear "ab" and "a:"; "1:a" mimics the length prefix itself.
          const ids = ["a", "ab", "", "a:", "1:a", "1", "é"]
          const keys = ["bc", "c", "abc", "bc", "bc", ":abc", "x"]
          const stores = yield* Effect.forEach(ids, (id) => backing.make(id))
          yield* Effect.forEach(stores, (store, i) => store.set(keys[i]!, `value of ${JSON.stringify(ids[i])}`, none), {
            discard: true
          })
          for (let i = 0; i < ids.length; i++) {
            deepStrictEqual(yield* stores[i]!.get(keys[i]!), Option.some(`value of ${JSON.stringify(ids[i])}`))
            for (let j = 0; j < ids.length; j++) {
              if (keys[j] !== keys[i]) deepStrictEqual(yield* stores[i]!.get(keys[j]!), Option.none(), `${ids[i]} / ${keys[j]}`)
            }
          }
          // Same key "bc" in three stores: three entries.
          yield* stores[0]!.clear
          deepStrictEqual(yield* stores[0]!.get("bc"), Option.none())
          for (let i = 1; i < ids.length; i++) {
            deepStrictEqual(yield* stores[i]!.get(keys[i]!), Option.some(`value of ${JSON.stringify(ids[i])}`), ids[i])
          }
          yield* stores[2]!.clear
          deepStrictEqual(yield* stores[2]!.get("abc"), Option.none())
          deepStrictEqual(yield* stores[1]!.get("c"), Option.some(`value of "ab"`))
        })
      ))

    it.scoped("an entry with a time to live is there before it expires and not from then on", () =>
      run("ttl", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("s")
          yield* TestClock.adjust(Duration.seconds(5)) // not at the epoch: expiry is now + ttl
          yield* store.set("session", { user: "ada" }, ttl(1000))
          yield* TestClock.adjust(999)
          deepStrictEqual(yield* store.get("session"), Option.some({ user: "ada" }))
          yield* TestClock.adjust(1)
          deepStrictEqual(yield* store.get("session"), Option.none())
          deepStrictEqual(yield* store.getMany(["session"]), [Option.none()])
          // Set again, it lives again, counted from the new set.
          yield* store.set("session", { user: "bob" }, ttl(1000))
          yield* TestClock.adjust(500)
          deepStrictEqual(yield* store.get("session"), Option.some({ user: "bob" }))
          // A zero time to live expires at once, as with Effect's own backends.
          yield* store.set("zero", 1, Option.some(Duration.zero))
          deepStrictEqual(yield* store.get("zero"), Option.none())
        })
      ))

    it.scoped("an entry without a time to live (or an infinite one) never expires", () =>
      run("no-ttl", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("s")
          yield* store.set("forever", "yes", none)
          yield* store.set("infinite", "yes", Option.some(Duration.infinity))
          yield* TestClock.adjust(Duration.days(365 * 100))
          deepStrictEqual(yield* store.getMany(["forever", "infinite"]), [Option.some("yes"), Option.some("yes")])
        })
      ))

    it.scoped("errors are PersistenceBackingErrors with the stratadb or JSON error as cause; nothing is written", () =>
      run("errors", (backing) =>
        Effect.gen(function* () {
          const store = yield* backing.make("s")
          const lone = backingErrorOf("set", yield* Effect.either(store.set("\ud800", 1, none)))
          assert.strictEqual((lone.cause as { _tag: string })._tag, "stratadb/InvalidArgument")
          backingErrorOf("get", yield* Effect.either(store.get("x\udc00")))
          backingErrorOf("getMany", yield* Effect.either(store.getMany(["ok", "\ud800"])))
          backingErrorOf("remove", yield* Effect.either(store.remove("\ud800")))
          const big = backingErrorOf("set", yield* Effect.either(store.set("big", 1n, none)))
          assert.instanceOf(big.cause, TypeError)
          const cyclic: Record<string, unknown> = {}
          cyclic.self = cyclic
          // One bad entry refuses the whole setMany.
          backingErrorOf("setMany", yield* Effect.either(store.setMany([["fine", 1, none], ["cyclic", cyclic, none]])))
          deepStrictEqual(yield* store.getMany(["fine", "big", "cyclic"]), [Option.none(), Option.none(), Option.none()])
          const tooLong = backingErrorOf("set", yield* Effect.either(store.set("k".repeat(70 * 1024), 1, none)))
          assert.strictEqual((tooLong.cause as { _tag: string })._tag, "stratadb/InvalidArgument")
          // A store id that is not well-formed: every operation fails, typed.
          const bad = yield* backing.make("\udfff")
          backingErrorOf("set", yield* Effect.either(bad.set("k", 1, none)))
          backingErrorOf("clear", yield* Effect.either(bad.clear))
        })
      ))

    it.scoped("what was set is there after a reopen, expiries included", () =>
      Effect.gen(function* () {
        const directory = yield* directoryOf("reopen")
        yield* open(directory, (backing) =>
          Effect.gen(function* () {
            const store = yield* backing.make("s")
            yield* store.set("kept", { v: 1 }, none)
            yield* store.set("expiring", "soon", ttl(1000))
            yield* store.set("gone", "no", none)
            yield* store.remove("gone")
            yield* (yield* backing.make("cleared")).set("x", 1, none)
            yield* (yield* backing.make("cleared")).clear
          })
        )
        yield* TestClock.adjust(999)
        yield* open(directory, (backing) =>
          Effect.gen(function* () {
            const store = yield* backing.make("s")
            deepStrictEqual(yield* store.getMany(["kept", "expiring", "gone"]), [
              Option.some({ v: 1 }),
              Option.some("soon"),
              Option.none()
            ])
            deepStrictEqual(yield* (yield* backing.make("cleared")).get("x"), Option.none())
            yield* TestClock.adjust(1)
            deepStrictEqual(yield* store.get("expiring"), Option.none())
          })
        )
      }).pipe(Effect.provide(environment)))

    it.scoped("ResultPersistence (layerResult) round trips Exits of a Schema request, with its time to live", () =>
      Effect.gen(function* () {
        const directory = yield* directoryOf("result")
        yield* openResult(
          directory,
          Effect.gen(function* () {
            const persistence = yield* Persistence.ResultPersistence
            const store = yield* persistence.make({
              storeId: "users",
              timeToLive: (_request, exit) => (Exit.isSuccess(exit) ? Duration.infinity : Duration.seconds(1))
            })
            const ada = new User({ id: 1, name: "ada" })
            yield* store.set(new GetUser({ id: 1 }), Exit.succeed(ada))
            yield* store.set(new GetUser({ id: 2 }), Exit.fail("not found"))
            const one = yield* store.get(new GetUser({ id: 1 }))
            assert.isTrue(Option.isSome(one) && Exit.isSuccess(one.value))
            deepStrictEqual(one, Option.some(Exit.succeed(ada)))
            assert.instanceOf((Option.getOrThrow(one) as Exit.Success<User, string>).value, User)
            deepStrictEqual(yield* store.getMany([new GetUser({ id: 2 }), new GetUser({ id: 3 })]), [
              Option.some(Exit.fail("not found")),
              Option.none()
            ])
            yield* store.setMany([
              [new GetUser({ id: 4 }), Exit.succeed(new User({ id: 4, name: "bob" }))],
              [new GetUser({ id: 5 }), Exit.succeed(new User({ id: 5, name: "eve" }))]
            ])
            yield* store.remove(new GetUser({ id: 5 }))
            deepStrictEqual(yield* store.get(new GetUser({ id: 5 })), Option.none())
          })
        )
        // Reopened: the results are there, decoded again; the failure expires on its time to live.
        yield* openResult(
          directory,
          Effect.gen(function* () {
            const store = yield* (yield* Persistence.ResultPersistence).make({ storeId: "users" })
            deepStrictEqual(yield* store.getMany([new GetUser({ id: 1 }), new GetUser({ id: 2 }), new GetUser({ id: 4 })]), [
              Option.some(Exit.succeed(new User({ id: 1, name: "ada" }))),
              Option.some(Exit.fail("not found")),
              Option.some(Exit.succeed(new User({ id: 4, name: "bob" })))
            ])
            yield* TestClock.adjust(Duration.seconds(1))
            deepStrictEqual(yield* store.get(new GetUser({ id: 2 })), Option.none())
            assert.isTrue(Option.isSome(yield* store.get(new GetUser({ id: 1 }))))
            yield* store.clear
            deepStrictEqual(yield* store.get(new GetUser({ id: 1 })), Option.none())
          })
        )
      }).pipe(Effect.provide(environment)))

    it.scoped("PersistedCache runs its lookup once, across caches and a reopen, until invalidated or expired", () =>
      Effect.gen(function* () {
        const directory = yield* directoryOf("cache")
        let lookups = 0
        const makeCache = PersistedCache.make({
          storeId: "users",
          lookup: (request: GetUser) =>
            Effect.sync(() => {
              lookups++
              return new User({ id: request.id, name: `user ${request.id}` })
            }),
          timeToLive: () => Duration.minutes(1),
          inMemoryTTL: Duration.seconds(1)
        })
        const expected = new User({ id: 1, name: "user 1" })
        yield* openResult(
          directory,
          Effect.gen(function* () {
            const cache = yield* makeCache
            deepStrictEqual(yield* cache.get(new GetUser({ id: 1 })), expected)
            deepStrictEqual(yield* cache.get(new GetUser({ id: 1 })), expected)
            assert.strictEqual(lookups, 1)
            // A second cache has nothing in memory: it reads stratadb.
            const second = yield* makeCache
            deepStrictEqual(yield* second.get(new GetUser({ id: 1 })), expected)
            assert.strictEqual(lookups, 1)
          })
        )
        yield* openResult(
          directory,
          Effect.gen(function* () {
            const cache = yield* makeCache
            deepStrictEqual(yield* cache.get(new GetUser({ id: 1 })), expected)
            assert.strictEqual(lookups, 1, "reopened, the result was read from the database")
            yield* cache.invalidate(new GetUser({ id: 1 }))
            deepStrictEqual(yield* cache.get(new GetUser({ id: 1 })), expected)
            assert.strictEqual(lookups, 2)
            // Past the time to live (and the in-memory one), the lookup runs again.
            yield* TestClock.adjust(Duration.minutes(1))
            deepStrictEqual(yield* cache.get(new GetUser({ id: 1 })), expected)
            assert.strictEqual(lookups, 3)
          })
        )
      }).pipe(Effect.provide(environment)))
  })

suite(
  "MemoryFileSystem",
  (directory) => StrataPersistence.layer({ directory }),
  (directory) => StrataPersistence.layerResult({ directory }),
  MemoryFileSystem.layer,
  (test) => Effect.succeed(`/persistence-${test}`)
)

suite(
  "Node, layerNode",
  (directory) => StrataPersistence.layerNode({ directory }),
  (directory) => StrataPersistence.layerResultNode({ directory }),
  NodeContext.layer,
  (test) => Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: `stratadb-persistence-${test}-` }))
)

describe("Persistence on a Db of one's own (layerFromDb, fromDb, layerResultFromDb)", () => {
  const dbLayer = Db.layer({ directory: "/persistence-own" }).pipe(Layer.provide(MemoryFileSystem.layer))
  const keysOf = (db: Db["Type"]) =>
    db.scan().pipe(
      Stream.map((entry) => text(entry.key)),
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray)
    )

  it.scoped("keys are \"<byte length of the store id>:\" ‖ store id ‖ key; clear leaves the database's other keys", () =>
    Effect.gen(function* () {
      const db = yield* Db
      const backing = yield* Persistence.BackingPersistence
      yield* db.put("1", "not a store's")
      yield* db.put("1;x", "not a store's")
      yield* db.put("zzz", "not a store's")
      yield* (yield* backing.make("é")).set("k", 1, none)
      yield* (yield* backing.make("x")).set("k", 2, none)
      yield* (yield* backing.make("x")).set("k2", 3, none)
      deepStrictEqual(yield* keysOf(db), ["1", "1:xk", "1:xk2", "1;x", "2:ék", "zzz"])
      // The value: a big-endian float64 expiry (+Infinity: none), then the JSON.
      const stored = Buffer.from(Option.getOrThrow(yield* db.get("1:xk")))
      assert.strictEqual(stored.readDoubleBE(0), Number.POSITIVE_INFINITY)
      assert.strictEqual(stored.toString("utf8", 8), "2")
      yield* (yield* backing.make("x")).clear
      deepStrictEqual(yield* keysOf(db), ["1", "1;x", "2:ék", "zzz"])
    }).pipe(Effect.provide(StrataPersistence.layerFromDb.pipe(Layer.provideMerge(dbLayer)))))

  it.scoped("an expired entry read is deleted from the database; one not read stays until read", () =>
    Effect.gen(function* () {
      const db = yield* Db
      const store = yield* StrataPersistence.fromDb(db).make("s")
      yield* store.setMany([
        ["a", 1, ttl(10)],
        ["b", 2, ttl(10)],
        ["c", 3, ttl(10)],
        ["d", 4, none]
      ])
      yield* TestClock.adjust(10)
      deepStrictEqual(yield* store.get("a"), Option.none())
      deepStrictEqual(yield* keysOf(db), ["1:sb", "1:sc", "1:sd"])
      deepStrictEqual(yield* store.getMany(["b", "d"]), [Option.none(), Option.some(4)])
      deepStrictEqual(yield* keysOf(db), ["1:sc", "1:sd"])
    }).pipe(Effect.provide(dbLayer)))

  it.scoped("a stored value it did not write is a PersistenceBackingError, not a defect", () =>
    Effect.gen(function* () {
      const db = yield* Db
      const store = yield* StrataPersistence.fromDb(db).make("s")
      yield* db.put("1:sshort", "abc")
      yield* db.put("1:sjunk", new Uint8Array([0x7f, 0xf0, 0, 0, 0, 0, 0, 0, 0x7b]))
      backingErrorOf("get", yield* Effect.either(store.get("short")))
      const junk = backingErrorOf("getMany", yield* Effect.either(store.getMany(["junk"])))
      assert.instanceOf(junk.cause, SyntaxError)
    }).pipe(Effect.provide(dbLayer)))

  it.scoped("layerResultFromDb serves ResultPersistence over the Db in the context", () =>
    Effect.gen(function* () {
      const store = yield* (yield* Persistence.ResultPersistence).make({ storeId: "users" })
      yield* store.set(new GetUser({ id: 7 }), Exit.succeed(new User({ id: 7, name: "ada" })))
      deepStrictEqual(yield* store.get(new GetUser({ id: 7 })), Option.some(Exit.succeed(new User({ id: 7, name: "ada" }))))
      const db = yield* Db
      deepStrictEqual(yield* keysOf(db), ["5:usersGetUser:7"])
    }).pipe(Effect.provide(StrataPersistence.layerResultFromDb.pipe(Layer.provideMerge(dbLayer)))))
})
