/**
 * `stratadb/KeyValueStore`: `@effect/platform`'s `KeyValueStore` over a stratadb database. One
 * suite, run on MemoryFileSystem and on Node (`layerNode`): the cases of Effect's own shared
 * KeyValueStore suite (set, get of a missing key, remove, clear, modify, modify of a missing key),
 * then binary round trips, large values, `prefix`, a `SchemaStore`, typed errors, and a reopen.
 */
import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import type { Path } from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
// Option-aware: chai's deepStrictEqual takes Option.some(x) and Option.none() for equal.
import { deepStrictEqual } from "@effect/vitest/utils"
import { Effect, Either, Layer, Option, Schema, type Scope } from "effect"
import * as StrataKeyValueStore from "../../src/KeyValueStore.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"

class User extends Schema.Class<User>("User")({ name: Schema.String, age: Schema.Number }) {}

/**
 * The suite for stores made by `storeLayer(directory)`, each test in its own directory of a file
 * system `environment` gives (one per test: a reopen finds what the first open wrote).
 */
const suite = (
  name: string,
  storeLayer: (directory: string) => Layer.Layer<KeyValueStore.KeyValueStore, unknown, FileSystem | Path>,
  environment: Layer.Layer<FileSystem | Path>,
  directoryOf: (test: string) => Effect.Effect<string, unknown, FileSystem | Scope.Scope>
) =>
  describe(`KeyValueStore on stratadb (${name})`, () => {
    /** Opens the store on `directory`, runs `f`, closes it. */
    const open = <A, E>(directory: string, f: (kv: KeyValueStore.KeyValueStore) => Effect.Effect<A, E>) =>
      Effect.scoped(Effect.flatMap(KeyValueStore.KeyValueStore, f).pipe(Effect.provide(storeLayer(directory))))
    const run = <A, E>(test: string, f: (kv: KeyValueStore.KeyValueStore) => Effect.Effect<A, E>) =>
      Effect.flatMap(directoryOf(test), (directory) => open(directory, f)).pipe(Effect.provide(environment))

    it.scoped("set, then get and size", () =>
      run("set", (kv) =>
        Effect.gen(function* () {
          yield* kv.set("/foo/bar", "bar")
          deepStrictEqual(yield* kv.get("/foo/bar"), Option.some("bar"))
          assert.strictEqual(yield* kv.size, 1)
          assert.isTrue(yield* kv.has("/foo/bar"))
          assert.isFalse(yield* kv.isEmpty)
        })
      ))

    it.scoped("get of a missing key is none", () =>
      run("missing", (kv) =>
        Effect.gen(function* () {
          deepStrictEqual(yield* kv.get("foo"), Option.none())
          deepStrictEqual(yield* kv.getUint8Array("foo"), Option.none())
          assert.isFalse(yield* kv.has("foo"))
          assert.isTrue(yield* kv.isEmpty)
        })
      ))

    it.scoped("remove", () =>
      run("remove", (kv) =>
        Effect.gen(function* () {
          yield* kv.set("foo", "bar")
          yield* kv.remove("foo")
          deepStrictEqual(yield* kv.get("foo"), Option.none())
          assert.strictEqual(yield* kv.size, 0)
          yield* kv.remove("never-there")
        })
      ))

    it.scoped("clear removes every entry, more than one batch of them", () =>
      run("clear", (kv) =>
        Effect.gen(function* () {
          for (let i = 0; i < 3000; i++) yield* kv.set(`k${i}`, `v${i}`)
          assert.strictEqual(yield* kv.size, 3000)
          yield* kv.clear
          deepStrictEqual(yield* kv.get("k7"), Option.none())
          assert.strictEqual(yield* kv.size, 0)
          assert.isTrue(yield* kv.isEmpty)
        })
      ))

    it.scoped("modify", () =>
      run("modify", (kv) =>
        Effect.gen(function* () {
          yield* kv.set("foo", "bar")
          deepStrictEqual(yield* kv.modify("foo", (v) => v + "bar"), Option.some("barbar"))
          deepStrictEqual(yield* kv.get("foo"), Option.some("barbar"))
          assert.strictEqual(yield* kv.size, 1)
        })
      ))

    it.scoped("modify of a missing key changes nothing", () =>
      run("modify-none", (kv) =>
        Effect.gen(function* () {
          deepStrictEqual(yield* kv.modify("foo", (v) => v + "bar"), Option.none())
          assert.strictEqual(yield* kv.size, 0)
        })
      ))

    it.scoped("bytes round trip, every byte value, and text as UTF-8", () =>
      run("binary", (kv) =>
        Effect.gen(function* () {
          const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
          yield* kv.set("bin", bytes)
          deepStrictEqual(yield* kv.getUint8Array("bin"), Option.some(bytes))
          yield* kv.set("text", "héllo ✓")
          deepStrictEqual(yield* kv.getUint8Array("text"), Option.some(new TextEncoder().encode("héllo ✓")))
          deepStrictEqual(yield* kv.get("text"), Option.some("héllo ✓"))
          const modified = yield* kv.modifyUint8Array("bin", (b) => b.map((x) => 255 - x))
          deepStrictEqual(modified, Option.some(bytes.map((x) => 255 - x)))
        })
      ))

    it.scoped("large values", () =>
      run("large", (kv) =>
        Effect.gen(function* () {
          const big = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 31) & 0xff)
          yield* kv.set("big", big)
          const back = yield* kv.getUint8Array("big")
          assert.isTrue(Option.isSome(back) && Buffer.compare(back.value, big) === 0)
        })
      ))

    it.scoped("prefix scopes the keys of a store", () =>
      run("prefix", (kv) =>
        Effect.gen(function* () {
          const prefixed = KeyValueStore.prefix(kv, "prefix/")
          yield* prefixed.set("foo", "bar")
          yield* prefixed.modify("foo", (v) => v + "bar")
          deepStrictEqual(yield* prefixed.get("foo"), Option.some("barbar"))
          assert.isTrue(yield* prefixed.has("foo"))
          deepStrictEqual(yield* kv.get("prefix/foo"), Option.some("barbar"))
          assert.isTrue(yield* kv.has("prefix/foo"))
        })
      ))

    it.scoped("a SchemaStore encodes and decodes", () =>
      run("schema", (kv) =>
        Effect.gen(function* () {
          const users = kv.forSchema(User)
          yield* users.set("ada", new User({ name: "ada", age: 36 }))
          yield* users.modify("ada", (u) => new User({ ...u, age: u.age + 1 }))
          const ada = yield* users.get("ada")
          assert.isTrue(Option.isSome(ada))
          assert.strictEqual(Option.getOrThrow(ada).age, 37)
          deepStrictEqual(yield* kv.get("ada"), Option.some(JSON.stringify({ name: "ada", age: 37 })))
        })
      ))

    it.scoped("bad input is a BadArgument PlatformError, and writes nothing", () =>
      run("bad", (kv) =>
        Effect.gen(function* () {
          const lone = yield* Effect.either(kv.set("\ud800", "x"))
          assert.isTrue(Either.isLeft(lone) && lone.left._tag === "BadArgument", String(lone))
          const long = yield* Effect.either(kv.set("k".repeat(70_000), "x"))
          assert.isTrue(Either.isLeft(long) && long.left._tag === "BadArgument", String(long))
          assert.strictEqual(yield* kv.size, 0)
          // The empty key is a key, as in Effect's in-memory store.
          yield* kv.set("", "x")
          deepStrictEqual(yield* kv.get(""), Option.some("x"))
        })
      ))

    it.scoped("what was set is there after a reopen", () =>
      Effect.gen(function* () {
        const directory = yield* directoryOf("reopen")
        yield* open(directory, (kv) => Effect.zipRight(kv.set("kept", "yes"), kv.set("gone", "no")).pipe(Effect.zipRight(kv.remove("gone"))))
        yield* open(directory, (kv) =>
          Effect.gen(function* () {
            deepStrictEqual(yield* kv.get("kept"), Option.some("yes"))
            deepStrictEqual(yield* kv.get("gone"), Option.none())
            assert.strictEqual(yield* kv.size, 1)
          })
        )
      }).pipe(Effect.provide(environment)))
  })

suite(
  "MemoryFileSystem",
  (directory) => StrataKeyValueStore.layer({ directory }),
  MemoryFileSystem.layer,
  (test) => Effect.succeed(`/kv-${test}`)
)

suite(
  "Node, layerNode",
  (directory) => StrataKeyValueStore.layerNode({ directory }),
  NodeContext.layer,
  (test) => Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: `stratadb-kv-${test}-` }))
)
