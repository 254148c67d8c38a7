/**
 * The behaviour every `FileSystem` backend of stratadb must share, run against each one (the
 * in-memory filesystem, our Node filesystem, and platform-node's as the reference). Each test
 * works in a fresh temporary directory of the backend under test.
 */
import type { PlatformError, SystemErrorReason } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck as fc, type Layer, Option, type Scope, Stream } from "effect"

export interface SuiteOptions {
  /**
   * The backend guards its handles: a closed handle fails with `BadResource` and wrong-mode
   * access too (platform-node reports those as `Unknown`, and using a closed descriptor there may
   * hit a reused one, so the reference skips these checks).
   */
  readonly guardedHandles: boolean
}

interface Ctx {
  readonly fs: FileSystem.FileSystem
  readonly dir: string
  readonly at: (...names: ReadonlyArray<string>) => string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (s: string): Uint8Array => encoder.encode(s)
const text = (b: Uint8Array): string => decoder.decode(b)

/** Fails the test unless `effect` fails with a `SystemError` (of `reason`, when given). */
export const expectSystemError = <A, R>(
  effect: Effect.Effect<A, PlatformError, R>,
  reason?: SystemErrorReason
): Effect.Effect<void, never, R> =>
  Effect.gen(function*() {
    const result = yield* Effect.either(effect)
    assert.isTrue(result._tag === "Left", "expected a failure")
    if (result._tag !== "Left") return
    const error = result.left
    assert.strictEqual(error._tag, "SystemError", String(error))
    if (reason !== undefined && error._tag === "SystemError") assert.strictEqual(error.reason, reason, error.message)
  })

const readAll = (file: FileSystem.File, size: number) =>
  Effect.gen(function*() {
    const buffer = new Uint8Array(size)
    const n = yield* file.read(buffer)
    return text(buffer.subarray(0, Number(n)))
  })

type Op =
  | { readonly _tag: "write"; readonly data: Uint8Array }
  | { readonly _tag: "seekStart"; readonly offset: number }
  | { readonly _tag: "seekCurrent"; readonly delta: number }
  | { readonly _tag: "read"; readonly size: number }
  | { readonly _tag: "truncate"; readonly length: number }
  | { readonly _tag: "sync" }

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map((data): Op => ({ _tag: "write", data })),
  fc.integer({ min: 0, max: 120 }).map((offset): Op => ({ _tag: "seekStart", offset })),
  fc.integer({ min: -30, max: 30 }).map((delta): Op => ({ _tag: "seekCurrent", delta })),
  fc.integer({ min: 0, max: 50 }).map((size): Op => ({ _tag: "read", size })),
  fc.integer({ min: 0, max: 100 }).map((length): Op => ({ _tag: "truncate", length })),
  fc.constant<Op>({ _tag: "sync" })
)

export const fileSystemSuite = (
  name: string,
  layer: Layer.Layer<FileSystem.FileSystem | Path.Path>,
  options: SuiteOptions
): void => {
  describe(name, () => {
    const test = (title: string, body: (ctx: Ctx) => Effect.Effect<void, PlatformError, Scope.Scope>) =>
      it.scoped(title, () =>
        Effect.gen(function*() {
          const fs = yield* FileSystem.FileSystem
          const path = yield* Path.Path
          const dir = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-fs-" })
          yield* body({ fs, dir, at: (...names) => path.join(dir, ...names) })
        }).pipe(Effect.provide(layer)))

    test("writeFile then readFile returns the bytes, stat gives type and size", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("a"), bytes("hello"))
        assert.strictEqual(text(yield* fs.readFile(at("a"))), "hello")
        yield* fs.writeFileString(at("b"), "héllo")
        assert.strictEqual(yield* fs.readFileString(at("b")), "héllo")
        const info = yield* fs.stat(at("a"))
        assert.strictEqual(info.type, "File")
        assert.strictEqual(info.size, FileSystem.Size(5))
        assert.strictEqual((yield* fs.stat(at("b"))).size, FileSystem.Size(6))
        yield* fs.makeDirectory(at("d"))
        assert.strictEqual((yield* fs.stat(at("d"))).type, "Directory")
        assert.isTrue(yield* fs.exists(at("a")))
        assert.isTrue(yield* fs.exists(at("d")))
        assert.isFalse(yield* fs.exists(at("nope")))
      }))

    test("missing paths fail with NotFound", ({ at, fs }) =>
      Effect.gen(function*() {
        const missing = at("missing")
        yield* expectSystemError(Effect.scoped(fs.open(missing, { flag: "r" })), "NotFound")
        yield* expectSystemError(Effect.scoped(fs.open(missing, { flag: "r+" })), "NotFound")
        yield* expectSystemError(Effect.scoped(fs.open(at("nodir", "f"), { flag: "w" })), "NotFound")
        yield* expectSystemError(fs.readFile(missing), "NotFound")
        yield* expectSystemError(fs.stat(missing), "NotFound")
        yield* expectSystemError(fs.access(missing), "NotFound")
        yield* expectSystemError(fs.remove(missing), "NotFound")
        yield* expectSystemError(fs.rename(missing, at("x")), "NotFound")
        yield* expectSystemError(fs.readDirectory(missing), "NotFound")
        yield* expectSystemError(fs.truncate(missing), "NotFound")
        yield* expectSystemError(fs.copyFile(missing, at("x")), "NotFound")
        yield* expectSystemError(fs.writeFile(at("nodir", "f"), bytes("x")), "NotFound")
        assert.isFalse(yield* fs.exists(at("x")))
      }))

    test("w creates and truncates; wx, wx+ and ax refuse an existing file", ({ at, fs }) =>
      Effect.gen(function*() {
        const p = at("f")
        yield* Effect.scoped(Effect.flatMap(fs.open(p, { flag: "wx" }), (f) => f.writeAll(bytes("first"))))
        assert.strictEqual(text(yield* fs.readFile(p)), "first")
        yield* expectSystemError(Effect.scoped(fs.open(p, { flag: "wx" })), "AlreadyExists")
        yield* expectSystemError(Effect.scoped(fs.open(p, { flag: "wx+" })), "AlreadyExists")
        yield* expectSystemError(Effect.scoped(fs.open(p, { flag: "ax" })), "AlreadyExists")
        yield* expectSystemError(fs.writeFile(p, bytes("x"), { flag: "wx" }), "AlreadyExists")
        assert.strictEqual(text(yield* fs.readFile(p)), "first")
        yield* Effect.scoped(Effect.flatMap(fs.open(p, { flag: "w" }), (f) => f.writeAll(bytes("2nd"))))
        assert.strictEqual(text(yield* fs.readFile(p)), "2nd")
        yield* Effect.scoped(fs.open(p, { flag: "w+" }))
        assert.strictEqual((yield* fs.stat(p)).size, FileSystem.Size(0))
        yield* Effect.scoped(fs.open(at("g"), { flag: "ax+" }))
        assert.isTrue(yield* fs.exists(at("g")))
      }))

    test("writes advance the cursor; seek from start and from current places the next one", ({ at, fs }) =>
      Effect.gen(function*() {
        const f = yield* fs.open(at("f"), { flag: "w+" })
        assert.strictEqual(yield* f.write(bytes("hello")), FileSystem.Size(5))
        yield* f.writeAll(bytes(" world"))
        yield* f.seek(6, "start")
        yield* f.write(bytes("W"))
        yield* f.seek(-7, "current")
        yield* f.write(bytes("H"))
        yield* f.seek(0, "start")
        assert.strictEqual(yield* readAll(f, 100), "Hello World")
        yield* f.seek(2, "start")
        yield* f.seek(2, "current")
        assert.strictEqual(yield* readAll(f, 3), "o W")
      }))

    test("read returns how many bytes it read, and 0 at the end of the file", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("abcdefg"))
        const f = yield* fs.open(at("f"), { flag: "r" })
        const buffer = new Uint8Array(4)
        assert.strictEqual(yield* f.read(buffer), FileSystem.Size(4))
        assert.strictEqual(text(buffer), "abcd")
        assert.strictEqual(yield* f.read(buffer), FileSystem.Size(3))
        assert.strictEqual(text(buffer.subarray(0, 3)), "efg")
        assert.strictEqual(yield* f.read(buffer), FileSystem.Size(0))
        yield* f.seek(100, "start")
        assert.strictEqual(yield* f.read(buffer), FileSystem.Size(0))
      }))

    test("readAlloc returns a short buffer near the end and none at the end", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("abcdefg"))
        const f = yield* fs.open(at("f"))
        const first = yield* f.readAlloc(5)
        assert.strictEqual(Option.map(first, text).pipe(Option.getOrNull), "abcde")
        const second = yield* f.readAlloc(5)
        assert.strictEqual(Option.map(second, text).pipe(Option.getOrNull), "fg")
        assert.isTrue(Option.isNone(yield* f.readAlloc(5)))
      }))

    test("append handles write at the end whatever the cursor", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("abc"))
        yield* Effect.scoped(Effect.gen(function*() {
          const f = yield* fs.open(at("f"), { flag: "a" })
          yield* f.write(bytes("de"))
          yield* f.seek(0, "start")
          yield* f.writeAll(bytes("fg"))
        }))
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "abcdefg")
        const f = yield* fs.open(at("f"), { flag: "a+" })
        yield* f.write(bytes("h"))
        assert.strictEqual(yield* readAll(f, 3), "abc")
        yield* f.write(bytes("i"))
        assert.strictEqual(yield* readAll(f, 100), "defghi")
        yield* fs.writeFile(at("f"), bytes("j"), { flag: "a" })
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "abcdefghij")
        yield* Effect.scoped(Effect.flatMap(fs.open(at("new"), { flag: "a" }), (g) => g.write(bytes("x"))))
        assert.strictEqual(text(yield* fs.readFile(at("new"))), "x")
      }))

    test("r+ writes in place without truncating", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("abcdef"))
        yield* Effect.scoped(Effect.gen(function*() {
          const f = yield* fs.open(at("f"), { flag: "r+" })
          yield* f.seek(2, "start")
          yield* f.write(bytes("XY"))
          assert.strictEqual(yield* readAll(f, 10), "ef")
        }))
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "abXYef")
      }))

    test("writing past the end leaves zeros in the gap", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* Effect.scoped(Effect.gen(function*() {
          const f = yield* fs.open(at("f"), { flag: "w" })
          yield* f.write(bytes("ab"))
          yield* f.seek(5, "start")
          yield* f.write(bytes("c"))
        }))
        assert.deepStrictEqual([...(yield* fs.readFile(at("f")))], [97, 98, 0, 0, 0, 99])
      }))

    test("File.truncate shrinks, extends with zeros and pulls the cursor back", ({ at, fs }) =>
      Effect.gen(function*() {
        const f = yield* fs.open(at("f"), { flag: "w+" })
        yield* f.write(bytes("abcdef"))
        yield* f.truncate(3)
        assert.strictEqual((yield* f.stat).size, FileSystem.Size(3))
        yield* f.write(bytes("Z"))
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "abcZ")
        yield* f.truncate(6)
        assert.deepStrictEqual([...(yield* fs.readFile(at("f")))], [97, 98, 99, 90, 0, 0])
        yield* f.truncate()
        assert.strictEqual((yield* fs.stat(at("f"))).size, FileSystem.Size(0))
        yield* f.write(bytes("q"))
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "q")
      }))

    test("truncate by path", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("abcdef"))
        yield* fs.truncate(at("f"), 2)
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "ab")
        yield* fs.truncate(at("f"), 4)
        assert.deepStrictEqual([...(yield* fs.readFile(at("f")))], [97, 98, 0, 0])
        yield* fs.truncate(at("f"))
        assert.strictEqual((yield* fs.readFile(at("f"))).length, 0)
      }))

    test("File.stat follows the size as the file grows", ({ at, fs }) =>
      Effect.gen(function*() {
        const f = yield* fs.open(at("f"), { flag: "a" })
        assert.strictEqual((yield* f.stat).size, FileSystem.Size(0))
        yield* f.write(new Uint8Array(100))
        assert.strictEqual((yield* f.stat).size, FileSystem.Size(100))
        yield* f.write(new Uint8Array(28))
        const info = yield* f.stat
        assert.strictEqual(info.size, FileSystem.Size(128))
        assert.strictEqual(info.type, "File")
      }))

    test("rename replaces an existing file and moves directories with their contents", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("a"), bytes("new"))
        yield* fs.writeFile(at("b"), bytes("old"))
        yield* fs.rename(at("a"), at("b"))
        assert.isFalse(yield* fs.exists(at("a")))
        assert.strictEqual(text(yield* fs.readFile(at("b"))), "new")
        yield* fs.makeDirectory(at("d", "e"), { recursive: true })
        yield* fs.writeFile(at("d", "e", "f"), bytes("deep"))
        yield* fs.rename(at("d"), at("moved"))
        assert.isFalse(yield* fs.exists(at("d")))
        assert.strictEqual(text(yield* fs.readFile(at("moved", "e", "f"))), "deep")
        yield* fs.rename(at("b"), at("moved", "b"))
        assert.strictEqual(text(yield* fs.readFile(at("moved", "b"))), "new")
        yield* fs.rename(at("moved", "b"), at("moved", "b"))
        assert.strictEqual(text(yield* fs.readFile(at("moved", "b"))), "new")
        yield* expectSystemError(fs.rename(at("moved", "b"), at("nodir", "b")), "NotFound")
        yield* fs.makeDirectory(at("full"))
        yield* fs.writeFile(at("full", "x"), bytes("x"))
        yield* expectSystemError(fs.rename(at("moved"), at("full")))
        yield* expectSystemError(fs.rename(at("moved"), at("moved", "e", "inside")))
      }))

    test("an open handle keeps working across a rename and a remove of its file", ({ at, fs }) =>
      Effect.gen(function*() {
        const f = yield* fs.open(at("f"), { flag: "w+" })
        yield* f.write(bytes("abc"))
        yield* fs.rename(at("f"), at("g"))
        yield* f.write(bytes("def"))
        assert.strictEqual(text(yield* fs.readFile(at("g"))), "abcdef")
        yield* fs.remove(at("g"))
        yield* f.seek(0, "start")
        assert.strictEqual(yield* readAll(f, 10), "abcdef")
        assert.isFalse(yield* fs.exists(at("g")))
      }))

    test("remove deletes files; a directory needs recursive; force ignores a missing path", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("x"))
        yield* fs.remove(at("f"))
        assert.isFalse(yield* fs.exists(at("f")))
        yield* fs.makeDirectory(at("d", "e"), { recursive: true })
        yield* fs.writeFile(at("d", "e", "f"), bytes("x"))
        yield* expectSystemError(fs.remove(at("d")))
        assert.isTrue(yield* fs.exists(at("d", "e", "f")))
        yield* fs.remove(at("d"), { recursive: true })
        assert.isFalse(yield* fs.exists(at("d")))
        yield* fs.remove(at("d"), { force: true })
        yield* fs.remove(at("d"), { recursive: true, force: true })
      }))

    test("makeDirectory: AlreadyExists, NotFound without a parent, recursive makes parents", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(at("d"))
        yield* expectSystemError(fs.makeDirectory(at("d")), "AlreadyExists")
        yield* expectSystemError(fs.makeDirectory(at("x", "y")), "NotFound")
        yield* fs.makeDirectory(at("x", "y", "z"), { recursive: true })
        yield* fs.makeDirectory(at("x", "y"), { recursive: true })
        assert.strictEqual((yield* fs.stat(at("x", "y", "z"))).type, "Directory")
        yield* fs.writeFile(at("f"), bytes("x"))
        yield* expectSystemError(fs.makeDirectory(at("f")), "AlreadyExists")
        yield* expectSystemError(fs.makeDirectory(at("f"), { recursive: true }), "AlreadyExists")
        yield* expectSystemError(fs.makeDirectory(at("f", "g"), { recursive: true }), "BadResource")
      }))

    test("readDirectory lists names, recursively nested paths; a file is not a directory", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("b"), bytes("x"))
        yield* fs.writeFile(at("a"), bytes("x"))
        yield* fs.makeDirectory(at("c", "d"), { recursive: true })
        yield* fs.writeFile(at("c", "d", "e"), bytes("x"))
        assert.deepStrictEqual((yield* fs.readDirectory(at())).sort(), ["a", "b", "c"])
        assert.deepStrictEqual((yield* fs.readDirectory(at(), { recursive: true })).sort(), [
          "a",
          "b",
          "c",
          "c/d",
          "c/d/e"
        ])
        assert.deepStrictEqual(yield* fs.readDirectory(at("c", "d")), ["e"])
        yield* expectSystemError(fs.readDirectory(at("a")), "BadResource")
        yield* expectSystemError(fs.stat(at("a", "b")), "BadResource")
      }))

    test("copyFile copies the bytes; the copy is a separate file", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("a"), bytes("abc"))
        yield* fs.copyFile(at("a"), at("b"))
        yield* fs.writeFile(at("b"), bytes("z"), { flag: "a" })
        assert.strictEqual(text(yield* fs.readFile(at("a"))), "abc")
        assert.strictEqual(text(yield* fs.readFile(at("b"))), "abcz")
        yield* fs.copyFile(at("a"), at("b"))
        assert.strictEqual(text(yield* fs.readFile(at("b"))), "abc")
      }))

    test("two handles on one file see each other's writes", ({ at, fs }) =>
      Effect.gen(function*() {
        const w = yield* fs.open(at("f"), { flag: "w" })
        const r = yield* fs.open(at("f"), { flag: "r" })
        yield* w.write(bytes("abc"))
        assert.strictEqual(yield* readAll(r, 10), "abc")
        yield* w.write(bytes("def"))
        assert.strictEqual(yield* readAll(r, 10), "def")
      }))

    test("handles refuse access their flag did not grant", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.writeFile(at("f"), bytes("abc"))
        const reason = options.guardedHandles ? "BadResource" : undefined
        const r = yield* fs.open(at("f"), { flag: "r" })
        yield* expectSystemError(r.write(bytes("x")), reason)
        const w = yield* fs.open(at("f"), { flag: "a" })
        yield* expectSystemError(w.read(new Uint8Array(3)), reason)
        assert.strictEqual(text(yield* fs.readFile(at("f"))), "abc")
      }))

    it.scoped.runIf(options.guardedHandles)("a handle fails with BadResource once its scope closed", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const dir = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-fs-" })
        const file = yield* Effect.scoped(fs.open(path.join(dir, "f"), { flag: "w+" }))
        yield* expectSystemError(file.write(bytes("x")), "BadResource")
        yield* expectSystemError(file.read(new Uint8Array(1)), "BadResource")
        yield* expectSystemError(file.sync, "BadResource")
        yield* expectSystemError(file.stat, "BadResource")
        yield* expectSystemError(file.truncate(0), "BadResource")
        assert.strictEqual((yield* fs.stat(path.join(dir, "f"))).size, FileSystem.Size(0))
      }).pipe(Effect.provide(layer)))

    test("a directory opens read-only and syncs; it does not open for writing", ({ at, fs }) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(at("d"))
        yield* Effect.scoped(Effect.flatMap(fs.open(at("d"), { flag: "r" }), (d) => d.sync))
        yield* expectSystemError(Effect.scoped(fs.open(at("d"), { flag: "w" })), "BadResource")
        yield* expectSystemError(Effect.scoped(fs.open(at("d"), { flag: "a" })), "BadResource")
        yield* expectSystemError(fs.readFile(at("d")), "BadResource")
      }))

    test("stream and sink go through open", ({ at, fs }) =>
      Effect.gen(function*() {
        const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
        yield* Stream.make(data.subarray(0, 300), data.subarray(300)).pipe(Stream.run(fs.sink(at("f"))))
        const chunks = yield* Stream.runCollect(fs.stream(at("f"), { chunkSize: 128 }))
        const sizes = Chunk.toReadonlyArray(chunks).map((c) => c.length)
        assert.deepStrictEqual(sizes, [128, 128, 128, 128, 128, 128, 128, 104])
        const joined = new Uint8Array(1000)
        let offset = 0
        for (const c of chunks) {
          joined.set(c, offset)
          offset += c.length
        }
        assert.deepStrictEqual(joined, data)
        const tail = yield* Stream.runCollect(fs.stream(at("f"), { offset: 990 }))
        assert.deepStrictEqual([...Chunk.toReadonlyArray(tail)[0]!], [...data.subarray(990)])
      }))

    test("makeTempDirectoryScoped removes its directory when the scope closes", ({ fs }) =>
      Effect.gen(function*() {
        const dir = yield* Effect.scoped(Effect.gen(function*() {
          const d = yield* fs.makeTempDirectoryScoped()
          yield* fs.writeFile(`${d}/f`, bytes("x"))
          assert.isTrue(yield* fs.exists(`${d}/f`))
          return d
        }))
        assert.isFalse(yield* fs.exists(dir))
        const other = yield* fs.makeTempDirectory({ prefix: "stratadb-fs-" })
        assert.notStrictEqual(other, dir)
        assert.strictEqual((yield* fs.stat(other)).type, "Directory")
        yield* fs.remove(other, { recursive: true })
      }))

    for (const flag of ["w+", "a+"] as const) {
      it.scoped.prop(
        `random writes, seeks, reads and truncates agree with a model (${flag})`,
        [fc.array(opArbitrary, { maxLength: 40 })],
        ([ops]) =>
          Effect.gen(function*() {
            const fs = yield* FileSystem.FileSystem
            const dir = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-fs-" })
            const file = yield* fs.open(`${dir}/f`, { flag })
            const append = flag === "a+"
            let model: Array<number> = []
            let cursor = 0
            for (const op of ops) {
              switch (op._tag) {
                case "write": {
                  const at = append ? model.length : cursor
                  if (op.data.length > 0) {
                    while (model.length < at) model.push(0)
                    model.splice(at, op.data.length, ...op.data)
                  }
                  if (!append) cursor += op.data.length
                  assert.strictEqual(yield* file.write(op.data), FileSystem.Size(op.data.length))
                  break
                }
                case "seekStart": {
                  cursor = op.offset
                  yield* file.seek(op.offset, "start")
                  break
                }
                case "seekCurrent": {
                  const delta = Math.max(op.delta, -cursor)
                  cursor += delta
                  yield* file.seek(delta, "current")
                  break
                }
                case "read": {
                  const expected = model.slice(cursor, cursor + op.size)
                  cursor += expected.length
                  const buffer = new Uint8Array(op.size)
                  const n = yield* file.read(buffer)
                  assert.deepStrictEqual([...buffer.subarray(0, Number(n))], expected)
                  break
                }
                case "truncate": {
                  model = model.slice(0, op.length)
                  while (model.length < op.length) model.push(0)
                  if (!append && cursor > op.length) cursor = op.length
                  yield* file.truncate(op.length)
                  break
                }
                case "sync": {
                  yield* file.sync
                  break
                }
              }
            }
            assert.strictEqual((yield* file.stat).size, FileSystem.Size(model.length))
            assert.deepStrictEqual([...(yield* fs.readFile(`${dir}/f`))], model)
          }).pipe(Effect.provide(layer)),
        { fastCheck: { numRuns: 30 } }
      )
    }
  })
}
