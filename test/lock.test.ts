/**
 * The directory LOCK: one open database per directory; a lock left by a process that no longer
 * runs does not block forever.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { Effect, Either } from "effect"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { textOf, withDb } from "./support.js"

/** The pid of a process that has exited. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
  return Number(child.stdout.toString())
}

describe("LOCK", () => {
  it.effect("a lock left by a killed process is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* withDb({ directory: "/stale" }, (db) => db.put("k", "v"))
      yield* fs.writeFileString("/stale/LOCK", `${deadPid()}\n`)
      yield* withDb({ directory: "/stale" }, (db) => Effect.map(db.get("k"), (v) => assert.strictEqual(textOf(v), "v")))
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a lock held by a live process (this one) refuses the open", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      yield* fs.makeDirectory("/held", { recursive: true })
      yield* fs.writeFileString("/held/LOCK", `${process.pid}\n`)
      const r = yield* Effect.either(withDb({ directory: "/held" }, () => Effect.void))
      assert.isTrue(Either.isLeft(r) && r.left._tag === "DbLocked")
      // Nothing was created or changed by the refused open.
      assert.deepStrictEqual(yield* fs.readDirectory("/held"), ["LOCK"])
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
