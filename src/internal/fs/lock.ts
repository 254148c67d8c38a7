/**
 * The directory's `LOCK`: one open database per directory.
 *
 * Contents: `<pid> <start> <instance> <nonce>\n`, where `start` is the process's start time (from
 * `/proc/<pid>/stat` on Linux, `-` elsewhere), `instance` a random token of the stratadb module
 * that took it and `nonce` a random token of this one lock. A LOCK is held when it parses
 * completely (the final newline included; the three-field `<pid> <start> <instance>\n` of earlier
 * versions is accepted too) and its owner still runs: the pid is alive and, when both start times
 * are known, started at the recorded time; for this process's own pid, the nonce must be one of
 * the locks this process holds now (a registry shared by every copy of this module in the
 * JavaScript realm). Anything else is stale and taken over: a pid that is gone or was reused, a
 * lock of an earlier run of this pid (a container's pid 1), a lock this process failed to remove
 * (its nonce left the registry), and garbage: an empty file, a torn prefix after power loss such
 * as `"26"`, bytes that are not a lock.
 *
 * A lock file (`LOCK`, or a claim below) is created with its contents in one step: the contents
 * are written to a private `LOCK.<nonce>.tmp` and hard-linked (`link`, which fails if the name
 * exists) to the lock's name, so nobody reads a half-written lock; the temporary name is removed
 * afterwards. A stale lock with contents `S` is taken over only by the winner of the claim
 * `LOCK.takeover.<hash of the stale file's role and S>`, itself a lock file created the same way:
 * the winner re-reads the stale file, and if it still holds `S`, renames its own temporary file
 * over it (atomic replacement), then removes the claim. A claim whose owner is stale is taken
 * over the same way (a claim of the claim, at most `MAX_DEPTH` deep). An opener that finds a live
 * owner of the lock or of the claim fails with `DbLocked`; one that finds the lock gone or
 * changed under it starts again (at most `MAX_ROUNDS` times, then `DbLocked`).
 *
 * Why no two openers hold the directory at once: a file's contents only change by (a) its owner
 * removing it at release (only while its nonce is registered or its process runs, so never for a
 * file judged stale), (b) `link`, only when the name is free, and (c) the rename by the holder of
 * the claim named after its current contents. Nonces are fresh per lock, so contents never come
 * back (no ABA) while processes run; a claim is exclusive for as long as its owner runs, and its
 * owner checks the contents under the claim. Release (at scope close) removes `LOCK` only if it
 * still holds this lock's contents, and drops the nonce from the registry afterwards, whether or
 * not the removal worked, so a failed removal leaves a stale lock rather than a locked directory.
 *
 * Residual limits: (1) a pid reused by another process with the same start time (after a reboot,
 * when the recorded start ticks happen to coincide) or on a system without `/proc` (start `-`)
 * is taken for the owner: the open is refused, never doubled. (2) Two worker threads of one
 * process do not share the registry, so each sees the other's lock (its pid) as stale: open a
 * directory from one thread. (3) A process killed between its rename and the removal of its claim
 * (or between writing and removing its temporary file) leaves that file behind; it names a dead
 * process and is never needed again (claims are named after contents that never come back), but
 * nothing removes it: unknown `LOCK.*` files are left alone. (4) The file system must support
 * hard links (every local POSIX file system and NTFS do).
 */
import { FileSystem } from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import { createHash, randomBytes, randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { Effect, Exit, type Scope } from "effect"
import { DbLocked } from "../../errors.js"

/** This module's token: locks it took carry it. */
const instance = randomUUID()

/**
 * The nonces of the lock and claim files this process holds, shared by every copy of this module
 * loaded in this realm (two copies see each other's locks as held).
 */
const registry: Set<string> = (() => {
  const key = Symbol.for("stratadb/lock/heldNonces")
  const global = globalThis as unknown as Record<symbol, Set<string> | undefined>
  return (global[key] ??= new Set<string>())
})()

/** How many times an opener starts again when the lock vanished or changed under it. */
const MAX_ROUNDS = 8
/** How deep claims of claims (of takeovers whose owner died) go. */
const MAX_DEPTH = 4

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

/** A fresh nonce: 16 random bytes in hex. */
const newNonce = (): string => randomBytes(16).toString("hex")

/** The contents of a lock file of this process and module with `nonce`. */
export const lockContents = (nonce: string): string =>
  `${process.pid} ${processStart(process.pid) ?? "-"} ${instance} ${nonce}\n`

export interface Owner {
  readonly pid: number
  readonly start: string | undefined
  readonly instance: string
  /** Undefined in the three-field format of earlier versions. */
  readonly nonce: string | undefined
}

/** The owner a lock file names, or undefined when it does not parse completely (garbage). */
export const parseOwner = (text: string): Owner | undefined => {
  const m = /^([1-9][0-9]{0,9}) ([0-9]{1,20}|-) ([!-~]{1,200})(?: ([0-9a-f]{32}))?\n$/.exec(text)
  if (m === null) return undefined
  const pid = Number(m[1])
  if (pid > 0x7fffffff) return undefined
  return { pid, start: m[2] === "-" ? undefined : m[2], instance: m[3]!, nonce: m[4] }
}

/** Who still holds a lock file naming `owner` ("this process" or "process <pid>"), or undefined when it is stale. */
const holder = (owner: Owner | undefined): string | undefined => {
  if (owner === undefined) return undefined
  if (owner.pid === process.pid) {
    return owner.nonce !== undefined && registry.has(owner.nonce) ? "this process" : undefined
  }
  if (!processAlive(owner.pid)) return undefined
  const start = processStart(owner.pid)
  if (owner.start !== undefined && start !== undefined && owner.start !== start) return undefined
  return `process ${owner.pid}`
}

/**
 * The claim that takes over `target` (the LOCK at `lockPath`, or a claim) while it holds the stale
 * contents `text`: named after the target's role (its name past `lockPath`) and the contents, so
 * openers that spell the directory differently agree on it.
 */
export const claimPath = (lockPath: string, target: string, text: string): string => {
  const role = target.slice(lockPath.length)
  const hash = createHash("sha256").update(`${role}\n`).update(text, "latin1").digest("hex").slice(0, 32)
  return `${lockPath}.takeover.${hash}`
}

const isSystemError = (reason: string) => (e: PlatformError): boolean =>
  e._tag === "SystemError" && e.reason === reason

/** A file's bytes as a latin1 string (one char per byte), or undefined if it does not exist. */
const readText = (fs: FileSystem, path: string): Effect.Effect<string | undefined, PlatformError> =>
  fs.readFile(path).pipe(
    Effect.map((bytes): string | undefined => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")),
    Effect.catchIf(isSystemError("NotFound"), () => Effect.succeed(undefined))
  )

const removeQuietly = (fs: FileSystem, path: string) => fs.remove(path).pipe(Effect.ignore)

/** A lock file this process holds. */
interface Taken {
  readonly path: string
  readonly nonce: string
  readonly contents: string
}

/**
 * Releases a lock file: removes it if it still holds our contents, and forgets its nonce even if
 * the removal fails (the file left behind is then stale).
 */
const release = (fs: FileSystem, taken: Taken): Effect.Effect<void> =>
  readText(fs, taken.path).pipe(
    Effect.flatMap((text) => (text === taken.contents ? fs.remove(taken.path) : Effect.void)),
    Effect.ignore,
    Effect.ensuring(Effect.sync(() => registry.delete(taken.nonce)))
  )

/**
 * Makes `target` a lock file of this process (a fresh nonce), taking it over if it is stale, or
 * fails with `DbLocked` when a live owner holds it (or holds the claim to take it over).
 */
const take = (
  fs: FileSystem,
  directory: string,
  lockPath: string,
  target: string,
  depth: number
): Effect.Effect<Taken, DbLocked | PlatformError> =>
  Effect.suspend(() => {
    const nonce = newNonce()
    const taken: Taken = { path: target, nonce, contents: lockContents(nonce) }
    const temporary = `${lockPath}.${nonce}.tmp`
    const isLock = target === lockPath
    const locked = (description: string) => new DbLocked({ directory, description })
    // Registered before the file can be seen, so this process's other openers see it held.
    registry.add(nonce)

    const replaceIfStill = (text: string) =>
      readText(fs, target).pipe(
        Effect.flatMap((now) => (now === text ? Effect.as(fs.rename(temporary, target), true) : Effect.succeed(false)))
      )

    const attempt: Effect.Effect<Taken, DbLocked | PlatformError> = Effect.gen(function* () {
      yield* fs.writeFile(temporary, new TextEncoder().encode(taken.contents), { flag: "wx" })
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const linked = yield* fs.link(temporary, target).pipe(
          Effect.as(true),
          Effect.catchIf(isSystemError("AlreadyExists"), () => Effect.succeed(false))
        )
        if (linked) return taken
        const text = yield* readText(fs, target)
        if (text === undefined) continue // released meanwhile: try again
        const owner = holder(parseOwner(text))
        if (owner !== undefined) {
          return yield* locked(
            isLock
              ? owner === "this process" ? "already open in this process" : `held by ${owner}`
              : owner === "this process"
              ? "another open in this process is taking over the stale lock"
              : `${owner} is taking over the stale lock`
          )
        }
        if (depth >= MAX_DEPTH) return yield* locked("too many takeovers of the stale lock in progress")
        // Stale: only the winner of the claim named after these contents replaces them.
        const replaced = yield* Effect.acquireUseRelease(
          take(fs, directory, lockPath, claimPath(lockPath, target, text), depth + 1),
          () => replaceIfStill(text),
          (claim) => release(fs, claim)
        )
        if (replaced) return taken
        // The stale contents were replaced or removed meanwhile: try again.
      }
      return yield* locked("the lock changed hands too often")
    })

    return attempt.pipe(
      Effect.ensuring(removeQuietly(fs, temporary)),
      Effect.onExit((exit) => (Exit.isFailure(exit) ? Effect.sync(() => registry.delete(nonce)) : Effect.void))
    )
  })

/** Takes the lock for the scope's lifetime, or fails with `DbLocked`. */
export const acquireLock = (
  directory: string,
  lockPath: string
): Effect.Effect<void, DbLocked | PlatformError, FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    yield* Effect.acquireRelease(take(fs, directory, lockPath, lockPath, 0), (taken) => release(fs, taken))
  })
