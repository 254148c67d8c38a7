/**
 * kill -9: a child process puts keys without sync and SIGKILLs itself (no close, no flush, no
 * fsync). Every put it saw acknowledged survives on the real file system, and its LOCK, left
 * behind by a process that no longer runs, does not block the reopen.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { Db } from "../../src/Db.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { killKey, killValue } from "../fixtures/killKeys.js"
import { textOf } from "../support.js"

const fixture = fileURLToPath(new URL("../fixtures/putThenKill.ts", import.meta.url))

/** Runs the child to its SIGKILL; its stdout and how it ended. */
const runChild = (directory: string, total: number) =>
  Effect.async<{ readonly stdout: string; readonly signal: NodeJS.Signals | null; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, directory, String(total)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("close", (_code, signal) => resume(Effect.succeed({ stdout, signal, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("kill -9", () => {
  it.scoped("every acknowledged put survives a SIGKILL, and the dead process's LOCK is taken over", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-kill-" })
      const total = 6000
      const child = yield* runChild(directory, total)
      assert.strictEqual(child.signal, "SIGKILL", child.stderr)
      const counts = child.stdout.trim().split("\n").map((line) => Number(line.split(" ")[1]))
      const acked = counts[counts.length - 1]!
      assert.strictEqual(acked, total, child.stdout)
      // The child died holding the lock, after flushing some memtables (64 KiB write buffer).
      assert.isTrue(yield* fs.exists(`${directory}/LOCK`))
      const names = yield* fs.readDirectory(directory)
      assert.isTrue(names.some((name) => name.endsWith(".sst")), names.join(" "))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const db = yield* Db.make({ directory })
          for (let i = 0; i < acked; i++) assert.strictEqual(textOf(yield* db.get(killKey(i))), killValue(i), `key ${i}`)
        })
      ).pipe(Effect.provide(NodeSyncFileSystem.layer))
    }).pipe(Effect.provide(NodeContext.layer))
  )
})
