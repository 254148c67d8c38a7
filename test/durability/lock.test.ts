/**
 * The directory LOCK: one open database per directory, also when openers race (fibers of one
 * process, several processes) at a stale LOCK; a lock left by a process that no longer runs, a
 * lock this process failed to remove and a torn or garbage LOCK do not block forever.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { NodeContext } from "@effect/platform-node"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Context, Effect, Either, Layer } from "effect"
import { Db } from "../../src/Db.js"
import * as Lock from "../../src/internal/fs/lock.js"
import { processStart } from "../../src/internal/fs/lock.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { realSleep, yieldToEventLoop } from "../../src/internal/realSleep.js"
import { textOf, withDb } from "../support.js"

/** The pid of a process that has exited. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
  return Number(child.stdout.toString())
}

/** A well-formed LOCK of a process that has exited. */
const staleLock = (): string => `${deadPid()} - earlier-module 0123456789abcdef0123456789abcdef\n`

/** The pid of a process that runs until the scope closes. */
const liveChild = Effect.acquireRelease(
  Effect.sync(() => spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" })),
  (child) => Effect.sync(() => child.kill("SIGKILL"))
).pipe(Effect.map((child) => child.pid!))

/** A LOCK this process holds: its pid and start, a token and a nonce. */
const ownLock = new RegExp(`^${process.pid} ${processStart(process.pid) ?? "-"} \\S+ [0-9a-f]{32}\\n$`)

/** The lock files (`LOCK`, temporary files, takeover claims) in `directory`. */
const lockFiles = (directory: string) =>
  Effect.flatMap(FileSystem, (fs) => fs.readDirectory(directory)).pipe(
    Effect.map((names) => names.filter((name) => name.startsWith("LOCK")).sort())
  )

/**
 * `fs` with every operation preceded by one of `pauses`, a seeded choice: concurrent opens then
 * interleave differently at every file system step.
 */
const interleave = (fs: FileSystem, seed: number, pauses: ReadonlyArray<Effect.Effect<void>>): FileSystem => {
  let state = seed >>> 0
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
  const pause = Effect.suspend(() => pauses[Math.floor(random() * pauses.length)]!)
  const wrapped: Record<string, unknown> = { ...fs }
  for (const [name, value] of Object.entries(fs)) {
    if (typeof value !== "function") continue
    wrapped[name] = (...args: Array<unknown>) => {
      const result = (value as (...args: Array<unknown>) => unknown)(...args)
      return Effect.isEffect(result) ? Effect.zipRight(pause, result) : result
    }
  }
  return wrapped as unknown as FileSystem
}

/** A MemoryFileSystem whose operations first yield to the other fibers 0 to 3 times. */
const interleavedMemory = (seed: number) =>
  Layer.merge(
    Layer.effectContext(
      Effect.map(MemoryFileSystem.make(), ({ control, fileSystem }) =>
        Context.make(
          FileSystem,
          interleave(fileSystem, seed, [0, 1, 2, 3].map((n) => Effect.forEach(Array.from({ length: n }), () => Effect.yieldNow(), { discard: true })))
        ).pipe(Context.add(MemoryFileSystem.MemoryFileSystem, control)))
    ),
    Path.layer
  )

/**
 * stratadb's Node file system whose operations first wait for nothing, for the event loop's turn
 * or for 1 or 2 ms (real time), so that concurrent opens fall out of step.
 */
const interleavedNode = (seed: number) =>
  Layer.merge(
    Layer.effect(
      FileSystem,
      Effect.map(FileSystem, (fs) => interleave(fs, seed, [Effect.void, yieldToEventLoop, realSleep(1), realSleep(2)]))
    ).pipe(Layer.provide(NodeSyncFileSystem.layer)),
    NodePath.layer
  )

/** `n` fibers open `directory` at once and keep what they opened open until all have finished. */
const openAtOnce = (directory: string, n: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const results = yield* Effect.all(
        Array.from({ length: n }, () => Effect.either(Db.make({ directory }))),
        { concurrency: "unbounded" }
      )
      const opened = results.filter(Either.isRight).length
      const failures = results.flatMap((r) => (Either.isLeft(r) ? [r.left] : []))
      return { opened, failures }
    })
  )

/** Asserts that exactly one of `n` concurrent opens succeeded and the others failed with DbLocked. */
const exactlyOne = (directory: string, n: number) =>
  Effect.gen(function* () {
    const { failures, opened } = yield* openAtOnce(directory, n)
    const others = failures.filter((e) => e._tag !== "stratadb/DbLocked").map(String)
    assert.deepStrictEqual(others, [])
    assert.strictEqual(opened, 1, `${opened} of ${n} opens succeeded`)
    assert.strictEqual(failures.length, n - 1)
    // Everything released: no LOCK, temporary file or claim left behind.
    assert.deepStrictEqual(yield* lockFiles(directory), [])
  })

const lockHolder = fileURLToPath(new URL("../fixtures/lockHolder.ts", import.meta.url))

interface ChildResult {
  readonly stdout: string
  readonly stderr: string
  readonly code: number | null
}

/**
 * Runs `count` lockHolder children on `directory`; once all are ready (their modules loaded), tells
 * them all to start 100 ms later.
 */
const runHolders = (directory: string, count: number, holdMs: number, tryMs: number) =>
  Effect.async<ReadonlyArray<ChildResult>>((resume) => {
    const children = Array.from({ length: count }, () =>
      spawn(process.execPath, ["--import", "tsx", lockHolder, directory, String(holdMs), String(tryMs)], {
        stdio: ["pipe", "pipe", "pipe"]
      }))
    const results: Array<ChildResult> = []
    let waiting = count
    let finished = 0
    const oneReady = () => {
      if (--waiting === 0) {
        const at = Date.now() + 100
        for (const child of children) child.stdin.end(`${at}\n`)
      }
    }
    children.forEach((child, i) => {
      let stdout = ""
      let stderr = ""
      let ready = false
      child.stdin.on("error", () => {})
      child.stdout.on("data", (chunk) => {
        stdout += String(chunk)
        if (!ready && stdout.includes("ready\n")) {
          ready = true
          oneReady()
        }
      })
      child.stderr.on("data", (chunk) => (stderr += String(chunk)))
      child.on("close", (code) => {
        if (!ready) {
          ready = true
          oneReady()
        }
        results[i] = { stdout, stderr, code }
        if (++finished === count) resume(Effect.succeed(results))
      })
    })
    return Effect.sync(() => children.forEach((child) => child.kill("SIGKILL")))
  })

describe("LOCK", () => {
  it.effect("a lock left by a killed process is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* withDb({ directory: "/stale" }, (db) => db.put("k", "v"))
      yield* fs.writeFileString("/stale/LOCK", staleLock())
      yield* withDb({ directory: "/stale" }, (db) => Effect.map(db.get("k"), (v) => assert.strictEqual(textOf(v), "v")))
      // The three-field format of earlier versions, naming a process that no longer runs, too.
      yield* fs.writeFileString("/stale/LOCK", `${deadPid()} - earlier-module\n`)
      yield* withDb({ directory: "/stale" }, () => Effect.void)
      assert.deepStrictEqual(yield* lockFiles("/stale"), [])
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.scoped("a lock held by another live process refuses the open and changes nothing", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const pid = yield* liveChild
      yield* fs.makeDirectory("/held", { recursive: true })
      const start = processStart(pid) ?? "-"
      // This version's format, the three-field format of earlier versions, and pid 1 (init).
      for (
        const lock of [
          `${pid} ${start} another-module 00112233445566778899aabbccddeeff\n`,
          `${pid} ${start} another-module\n`,
          `1 ${processStart(1) ?? "-"} another-module 00112233445566778899aabbccddeeff\n`
        ]
      ) {
        yield* fs.writeFileString("/held/LOCK", lock)
        const r = yield* Effect.either(withDb({ directory: "/held" }, () => Effect.void))
        assert.isTrue(Either.isLeft(r) && r.left._tag === "stratadb/DbLocked", String(r))
        // Nothing was created or changed by the refused open.
        assert.deepStrictEqual(yield* fs.readDirectory("/held"), ["LOCK"])
        assert.strictEqual(yield* fs.readFileString("/held/LOCK"), lock)
      }
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.scoped("a lock whose pid now belongs to a process started at another time is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const pid = yield* liveChild
      assert.isDefined(processStart(pid), "this test needs /proc")
      yield* fs.makeDirectory("/reused", { recursive: true })
      yield* fs.writeFileString("/reused/LOCK", `${pid} 1 another-module 00112233445566778899aabbccddeeff\n`)
      yield* withDb({ directory: "/reused" }, (db) => db.put("k", "v"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a lock naming this pid but another instance (a restarted container's pid 1) is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* fs.makeDirectory("/restarted", { recursive: true })
      const start = processStart(process.pid) ?? "-"
      yield* fs.writeFileString("/restarted/LOCK", `${process.pid} ${start} earlier-run\n`)
      yield* withDb({ directory: "/restarted" }, (db) => db.put("k", "v"))
      yield* fs.writeFileString("/restarted/LOCK", `${process.pid} ${start} earlier-run 00112233445566778899aabbccddeeff\n`)
      yield* withDb({ directory: "/restarted" }, (db) => db.put("k", "v"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a second open in this process while the first is open fails with DbLocked", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* withDb({ directory: "/twice" }, () =>
        Effect.gen(function* () {
          const lock = yield* fs.readFileString("/twice/LOCK")
          assert.match(lock, ownLock)
          const r = yield* Effect.either(withDb({ directory: "/twice" }, () => Effect.void))
          assert.isTrue(Either.isLeft(r) && r.left._tag === "stratadb/DbLocked", String(r))
          assert.deepStrictEqual(yield* fs.readDirectory("/twice").pipe(Effect.map((names) => names.filter((name) => name.startsWith("LOCK")))), ["LOCK"])
          assert.strictEqual(yield* fs.readFileString("/twice/LOCK"), lock)
        })
      )
      // Released on close.
      assert.isFalse(yield* fs.exists("/twice/LOCK"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  describe("fibers opening one directory at once: exactly one opens it", () => {
    for (const n of [3, 8]) {
      it.effect(`${n} fibers, MemoryFileSystem with interleaved steps, at a stale LOCK and at none`, () =>
        Effect.gen(function* () {
          const stale = staleLock()
          for (let seed = 1; seed <= 25; seed++) {
            yield* Effect.gen(function* () {
              const fs = yield* FileSystem
              yield* fs.makeDirectory("/race", { recursive: true })
              yield* fs.writeFileString("/race/LOCK", stale)
              yield* exactlyOne("/race", n)
              yield* exactlyOne("/race", n)
            }).pipe(Effect.provide(interleavedMemory(seed * 7919 + n)))
          }
        })
      )

      it.effect(`${n} fibers, Node file system with interleaved steps, at a stale LOCK and at none`, () =>
        Effect.gen(function* () {
          const stale = staleLock()
          for (let seed = 1; seed <= 8; seed++) {
            yield* Effect.scoped(
              Effect.gen(function* () {
                const fs = yield* FileSystem
                const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-lock-" })
                yield* fs.writeFileString(`${directory}/LOCK`, stale)
                yield* exactlyOne(directory, n)
                yield* exactlyOne(directory, n)
              })
            ).pipe(Effect.provide(interleavedNode(seed * 7919 + n)))
          }
        })
      )
    }
  })

  it.scoped("child processes started at once at a stale LOCK hold it one at a time", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-lock-" })
      yield* fs.writeFileString(`${directory}/LOCK`, staleLock())
      const results = yield* runHolders(directory, 4, 300, 1000)
      const held: Array<[number, number]> = []
      for (const child of results) {
        assert.strictEqual(child.code, 0, child.stderr)
        const line = child.stdout.split("\n")[1] ?? ""
        const m = /^held (\d+) (\d+)/.exec(line)
        assert.notMatch(line, /^overlap/, "a child took the lock while another held it")
        if (m !== null) held.push([Number(m[1]), Number(m[2])])
        else assert.match(line, /^locked /, child.stdout)
      }
      assert.isAtLeast(held.length, 1)
      held.sort((a, b) => a[0] - b[0])
      for (let i = 1; i < held.length; i++) {
        assert.isAtLeast(held[i]![0], held[i - 1]![1], `overlapping holders: ${JSON.stringify(held)}`)
      }
      assert.deepStrictEqual(yield* lockFiles(directory), [])
    }).pipe(Effect.provide(NodeContext.layer)),
    30_000
  )

  it.effect("a LOCK whose removal failed at close or after a failed open does not keep the directory locked", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const control = yield* MemoryFileSystem.MemoryFileSystem
      // At close.
      yield* control.injectFault({ op: "remove", path: "/failed/LOCK", error: "EIO", times: 1 })
      yield* withDb({ directory: "/failed" }, (db) => db.put("k", "v"))
      assert.isTrue((yield* fs.readFileString("/failed/LOCK")).startsWith(`${process.pid} `), "the LOCK stays")
      yield* withDb({ directory: "/failed" }, (db) => Effect.map(db.get("k"), (v) => assert.strictEqual(textOf(v), "v")))
      assert.deepStrictEqual(yield* lockFiles("/failed"), [])
      // After a failed open: the first write past the LOCK fails, and so does the LOCK's removal.
      yield* control.injectFault({ op: "remove", path: "/failed/LOCK", error: "EIO", times: 1 })
      yield* control.injectFault({ op: "write", path: (path) => !path.includes("LOCK"), error: "ENOSPC", times: 1 })
      const r = yield* Effect.either(withDb({ directory: "/failed" }, () => Effect.void))
      assert.isTrue(Either.isLeft(r) && r.left._tag !== "stratadb/DbLocked", String(r))
      assert.isTrue((yield* fs.readFileString("/failed/LOCK")).startsWith(`${process.pid} `), "the LOCK stays")
      yield* withDb({ directory: "/failed" }, (db) => Effect.map(db.get("k"), (v) => assert.strictEqual(textOf(v), "v")))
      assert.deepStrictEqual(yield* lockFiles("/failed"), [])
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.scoped("a torn, empty or garbage LOCK is stale, even when it names a live process", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const pid = yield* liveChild
      const start = processStart(pid) ?? "-"
      const encode = (text: string) => new TextEncoder().encode(text)
      const locks: ReadonlyArray<Uint8Array> = [
        // Prefixes of a lock of a live process, as power loss with torn writes leaves them.
        encode(`${pid}`),
        encode(`${String(pid).slice(0, 2)}`),
        encode(`${pid} ${start}`),
        encode(`${pid} ${start} another-module`),
        encode(`${pid} ${start} another-module 0011223344`),
        encode(`${pid} ${start} another-module 00112233445566778899aabbccddeeff`),
        encode("1"),
        encode(`${process.pid}`),
        new Uint8Array(0),
        new Uint8Array([0, 0xff, 0x32, 0x36, 0x0a]),
        encode(`${pid} ${start} another-module 00112233445566778899aabbccddeeff\nmore\n`)
      ]
      for (const [i, lock] of locks.entries()) {
        const directory = `/torn${i}`
        yield* fs.makeDirectory(directory, { recursive: true })
        yield* fs.writeFile(`${directory}/LOCK`, lock)
        const r = yield* Effect.either(withDb({ directory }, (db) => db.put("k", "v")))
        assert.isTrue(Either.isRight(r), `LOCK ${JSON.stringify(new TextDecoder().decode(lock))}: ${String(r)}`)
        assert.deepStrictEqual(yield* lockFiles(directory), [])
      }
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a LOCK torn by power loss is taken over by the next open", () =>
    Effect.gen(function* () {
      const control = yield* MemoryFileSystem.MemoryFileSystem
      for (let seed = 1; seed <= 8; seed++) {
        const directory = `/crash${seed}`
        yield* Effect.either(
          Effect.scoped(Effect.zipRight(Db.make({ directory }), control.crash({ tornWrites: true, seed })))
        )
        yield* withDb({ directory }, (db) => db.put("k", "v"))
        assert.deepStrictEqual(yield* lockFiles(directory), [])
      }
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.scoped("a takeover claim of a live process refuses the open; one of a dead process is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const pid = yield* liveChild
      const stale = staleLock()
      yield* fs.makeDirectory("/claimed", { recursive: true })
      yield* fs.writeFileString("/claimed/LOCK", stale)
      const claim = Lock.claimPath("/claimed/LOCK", "/claimed/LOCK", stale)
      const liveClaim = `${pid} ${processStart(pid) ?? "-"} another-module 00112233445566778899aabbccddeeff\n`
      yield* fs.writeFileString(claim, liveClaim)
      const before = yield* lockFiles("/claimed")
      const r = yield* Effect.either(withDb({ directory: "/claimed" }, () => Effect.void))
      assert.isTrue(Either.isLeft(r) && r.left._tag === "stratadb/DbLocked", String(r))
      assert.deepStrictEqual(yield* lockFiles("/claimed"), before)
      assert.strictEqual(yield* fs.readFileString("/claimed/LOCK"), stale)
      assert.strictEqual(yield* fs.readFileString(claim), liveClaim)
      // The claimer died: its claim is taken over (by a claim of the claim), then the LOCK.
      yield* fs.writeFileString(claim, staleLock())
      yield* withDb({ directory: "/claimed" }, (db) => db.put("k", "v"))
      assert.deepStrictEqual(yield* lockFiles("/claimed"), [])
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
