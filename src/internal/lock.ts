/**
 * The directory's `LOCK`: one open database per directory. The file is created exclusively and
 * names its owner: `<pid> <start> <instance>\n`, where `start` is the process's start time (from
 * `/proc/<pid>/stat` on Linux, `-` elsewhere) and `instance` a random token of the stratadb module
 * that took it. A lock is stale, and taken over, when its owner no longer runs: the pid is gone,
 * or the pid runs but started at another time (reused after a reboot), or the pid is this process
 * but the token is not ours (a container whose process is pid 1 on every start). Released
 * (removed) when the database's scope closes.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { Effect, type Scope } from "effect"
import { DbLocked } from "../errors.js"

/** This module's token: locks it took carry it. */
const instance = randomUUID()

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** The start time of process `pid` in clock ticks since boot (Linux), or undefined. */
export const processStart = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    // Fields after the command name (which may hold spaces), which ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[19]
  } catch {
    return undefined
  }
}

/** The LOCK contents naming this process and module. */
export const lockContents = (): string => `${process.pid} ${processStart(process.pid) ?? "-"} ${instance}\n`

interface Owner {
  readonly pid: number
  readonly start: string | undefined
  readonly instance: string | undefined
}

const parseOwner = (text: string): Owner | undefined => {
  const [pidText, start, token] = text.trim().split(/\s+/)
  const pid = Number.parseInt(pidText ?? "", 10)
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return { pid, start: start === "-" ? undefined : start, instance: token }
}

/** Why `owner` still holds the lock, or undefined when the lock is stale. */
const holder = (owner: Owner | undefined): string | undefined => {
  if (owner === undefined || !processAlive(owner.pid)) return undefined
  if (owner.pid === process.pid) return owner.instance === instance ? "already open in this process" : undefined
  const start = processStart(owner.pid)
  if (owner.start !== undefined && start !== undefined && owner.start !== start) return undefined
  return `held by process ${owner.pid}`
}

const tryCreate = (fs: FileSystem, lockPath: string) =>
  fs.writeFile(lockPath, new TextEncoder().encode(lockContents()), { flag: "wx" }).pipe(
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
      const text = yield* fs.readFileString(lockPath).pipe(Effect.orElseSucceed(() => ""))
      const held = holder(parseOwner(text))
      if (held !== undefined) return yield* new DbLocked({ directory, description: held })
      // Stale: its owner is gone. Take it over.
      yield* fs.remove(lockPath).pipe(Effect.ignore)
      if (!(yield* tryCreate(fs, lockPath))) {
        return yield* new DbLocked({ directory, description: "another process took the lock first" })
      }
    })
    yield* Effect.acquireRelease(take, () => fs.remove(lockPath).pipe(Effect.ignore))
  })
