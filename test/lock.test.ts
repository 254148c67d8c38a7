/**
 * The directory LOCK: one open database per directory; a lock left by a process that no longer
 * runs does not block forever.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { Effect, Either } from "effect"
import { lockContents, processStart } from "../src/internal/lock.js"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { textOf, withDb } from "./support.js"

/** The pid of a process that has exited. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
  return Number(child.stdout.toString())
}

/** The pid of a process that runs until the scope closes. */
const liveChild = Effect.acquireRelease(
  Effect.sync(() => spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" })),
  (child) => Effect.sync(() => child.kill("SIGKILL"))
).pipe(Effect.map((child) => child.pid!))

describe("LOCK", () => {
  it.effect("a lock left by a killed process is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* withDb({ directory: "/stale" }, (db) => db.put("k", "v"))
      yield* fs.writeFileString("/stale/LOCK", `${deadPid()}\n`)
      yield* withDb({ directory: "/stale" }, (db) => Effect.map(db.get("k"), (v) => assert.strictEqual(textOf(v), "v")))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.scoped("a lock held by another live process refuses the open and changes nothing", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const pid = yield* liveChild
      yield* fs.makeDirectory("/held", { recursive: true })
      yield* fs.writeFileString("/held/LOCK", `${pid} ${processStart(pid) ?? "-"} another-module\n`)
      const r = yield* Effect.either(withDb({ directory: "/held" }, () => Effect.void))
      assert.isTrue(Either.isLeft(r) && r.left._tag === "DbLocked", String(r))
      // Nothing was created or changed by the refused open.
      assert.deepStrictEqual(yield* fs.readDirectory("/held"), ["LOCK"])
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.scoped("a lock whose pid now belongs to a process started at another time is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const pid = yield* liveChild
      assert.isDefined(processStart(pid), "this test needs /proc")
      yield* fs.makeDirectory("/reused", { recursive: true })
      yield* fs.writeFileString("/reused/LOCK", `${pid} 1 another-module\n`)
      yield* withDb({ directory: "/reused" }, (db) => db.put("k", "v"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a lock naming this pid but another instance (a restarted container's pid 1) is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* fs.makeDirectory("/restarted", { recursive: true })
      yield* fs.writeFileString("/restarted/LOCK", `${process.pid} ${processStart(process.pid) ?? "-"} earlier-run\n`)
      yield* withDb({ directory: "/restarted" }, (db) => db.put("k", "v"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a second open in this process while the first is open fails with DbLocked", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* withDb({ directory: "/twice" }, () =>
        Effect.gen(function* () {
          assert.strictEqual(yield* fs.readFileString("/twice/LOCK"), lockContents())
          const r = yield* Effect.either(withDb({ directory: "/twice" }, () => Effect.void))
          assert.isTrue(Either.isLeft(r) && r.left._tag === "DbLocked", String(r))
        })
      )
      // Released on close.
      assert.isFalse(yield* fs.exists("/twice/LOCK"))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
