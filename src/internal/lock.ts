/**
 * The directory's `LOCK`: one open database per directory. The file is created exclusively and
 * holds the owner's process id; a lock whose process no longer runs (a killed process) is stale and
 * is taken over. Released (removed) when the database's scope closes.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, type Scope } from "effect"
import { DbLocked } from "../errors.js"

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const tryCreate = (fs: FileSystem, lockPath: string) =>
  fs.writeFile(lockPath, new TextEncoder().encode(`${process.pid}\n`), { flag: "wx" }).pipe(
    Effect.as(true),
    Effect.catchIf(
      (e) => e._tag === "SystemError" && e.reason === "AlreadyExists",
      () => Effect.succeed(false)
    )
  )

/** Takes the lock for the scope's lifetime, or fails with `DbLocked`. */
export const acquireLock = (
  directory: string,
  lockPath: string
): Effect.Effect<void, DbLocked | PlatformError, FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const take = Effect.gen(function* () {
      if (yield* tryCreate(fs, lockPath)) return
      const owner = Number.parseInt((yield* fs.readFileString(lockPath).pipe(Effect.orElseSucceed(() => ""))).trim(), 10)
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        return yield* new DbLocked({
          directory,
          description: owner === process.pid ? "already open in this process" : `held by process ${owner}`
        })
      }
      // Stale: its owner is gone. Take it over.
      yield* fs.remove(lockPath).pipe(Effect.ignore)
      if (!(yield* tryCreate(fs, lockPath))) {
        return yield* new DbLocked({ directory, description: "another process took the lock first" })
      }
    })
    yield* Effect.acquireRelease(take, () => fs.remove(lockPath).pipe(Effect.ignore))
  })
