/**
 * `checkpoint`: a consistent copy of an open database into a new directory, while it stays usable
 * (RocksDB's `Checkpoint::CreateCheckpoint`, with its flush).
 *
 * 1. The memtables are flushed (as `db.flush`): every write acknowledged before the call is then
 *    in a table of the current version.
 * 2. The current version is pinned (`VersionSet.acquire`): compactions go on and install new
 *    versions, but the obsolete-file deletion spares every table a pinned version names, so none
 *    of the version's tables is deleted while it is copied.
 * 3. Each table is hard-linked into the target (tables are immutable once written, so the copy
 *    and the database may share them), or copied and synced where linking fails (another file
 *    system: `EXDEV`; a file system without hard links) or `link: false` asks for copies (a
 *    backup that shares no file with the database); then the target directory is synced.
 * 4. A fresh manifest holding the version (one snapshot edit: the tables per level, the counters)
 *    is written and synced, then `CURRENT` naming it, by write-temp, sync, rename, directory sync.
 *
 * The copy holds no log: it is the database as of the newest write in the version's tables, every
 * write before it and none after (memtables flush in order, so the tables hold a prefix of the
 * writes; compaction keeps the newest version of every key). That point is at or after the call
 * began; writes acknowledged while the checkpoint runs may be in it (a prefix of them), never a
 * later write without an earlier one.
 *
 * `CURRENT` is written last, so a checkpoint that fails midway leaves no openable database; the
 * files it made are removed (and the target directory, if it made it), best effort. Two
 * checkpoints into one target at the same time are not supported (one fails, and its clean-up may
 * take the other's files).
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { Effect } from "effect"
import type { CheckpointProgress, CheckpointResult } from "../Db.js"
import { type DbError, InvalidArgument } from "../errors.js"
import { makeDirectoryDurably, syncDirectory } from "./fs/fileIo.js"
import { CURRENT_FILE_NAME, CURRENT_TEMP_FILE_NAME, manifestFileName, tableFileName } from "./fs/fileNames.js"
import type { FileMeta } from "./version/fileMeta.js"
import { COMPARATOR_NAME } from "./version/manifestFormat.js"
import { writeStandaloneManifest } from "./version/standaloneManifest.js"
import type { VersionSet } from "./version/versionSet.js"

export interface CheckpointDeps {
  readonly fs: FileSystem
  readonly path: Path
  /** The database directory (resolved). */
  readonly directory: string
  readonly versions: VersionSet
  /** Flushes the memtables (`db.flush`). */
  readonly flush: Effect.Effect<void, DbError>
}

const invalid = (description: string) => new InvalidArgument({ method: "checkpoint", description })

/**
 * Validates the target: a path outside the database directory, which is either missing (it is
 * created, with its parents) or an empty directory.
 */
const checkTarget = (deps: CheckpointDeps, target: unknown): Effect.Effect<{ dir: string; created: boolean }, InvalidArgument | PlatformError> =>
  Effect.gen(function* () {
    if (typeof target !== "string" || target.length === 0) return yield* invalid("the target directory must be a non-empty string")
    const { fs, path } = deps
    const dir = path.resolve(target)
    const relative = path.relative(deps.directory, dir)
    if (relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative))) {
      return yield* invalid(`the target ${dir} is the database directory or inside it`)
    }
    if (!(yield* fs.exists(dir))) return { dir, created: true }
    const info = yield* fs.stat(dir)
    if (info.type !== "Directory") return yield* invalid(`the target ${dir} exists and is not a directory`)
    if ((yield* fs.readDirectory(dir)).length > 0) return yield* invalid(`the target ${dir} exists and is not empty`)
    return { dir, created: false }
  })

/** Copies `from` to `to` and syncs the copy. */
const copySynced = (fs: FileSystem, from: string, to: string): Effect.Effect<void, PlatformError> =>
  Effect.zipRight(fs.copyFile(from, to), Effect.scoped(Effect.flatMap(fs.open(to, { flag: "r+" }), (file) => file.sync)))

/**
 * Hard-links `from` to `to` (when `link`), or copies it, synced, when the link fails or is not
 * wanted; true when linked.
 */
const linkOrCopy = (fs: FileSystem, from: string, to: string, link: boolean): Effect.Effect<boolean, PlatformError> =>
  link
    ? fs.link(from, to).pipe(
      Effect.as(true),
      // A failed link leaves no entry: copy instead. A name already there is not this
      // checkpoint's to replace (another one into the same target): that fails.
      Effect.catchIf((e) => !(e._tag === "SystemError" && e.reason === "AlreadyExists"), () => Effect.as(copySynced(fs, from, to), false))
    )
    : Effect.as(copySynced(fs, from, to), false)

export const checkpoint = (
  deps: CheckpointDeps,
  target: string,
  options: {
    readonly link: boolean
    readonly onProgress: ((progress: CheckpointProgress) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<CheckpointResult, DbError> =>
  Effect.gen(function* () {
    const { fs, path, versions } = deps
    const { dir, created } = yield* checkTarget(deps, target)
    yield* deps.flush
    yield* makeDirectoryDurably(dir, path.dirname)
    const made: Array<string> = []
    const work = Effect.acquireUseRelease(
      Effect.sync(() => {
        // One step: the version, its counters and a manifest number of the database's own
        // (above every file number of the version).
        const version = versions.acquire()
        return {
          version,
          logNumber: versions.logNumber(),
          lastSequence: versions.lastSequence(),
          compactPointers: versions.compactPointers(),
          manifestNumber: versions.newFileNumber()
        }
      }),
      ({ compactPointers, lastSequence, logNumber, manifestNumber, version }) =>
        Effect.gen(function* () {
          const tables: Array<{ level: number; meta: FileMeta }> = version.levels.flatMap((files, level) => files.map((meta) => ({ level, meta })))
          const totalBytes = tables.reduce((sum, t) => sum + t.meta.size, 0)
          let bytes = 0
          let linked = 0
          let sequence = 0
          for (const [i, { meta }] of tables.entries()) {
            const name = tableFileName(meta.number)
            made.push(name)
            if (yield* linkOrCopy(fs, path.join(deps.directory, name), path.join(dir, name), options.link)) linked++
            bytes += meta.size
            if (meta.maxSeq > sequence) sequence = meta.maxSeq
            if (options.onProgress !== undefined) yield* options.onProgress({ tables: i + 1, totalTables: tables.length, bytes, totalBytes })
          }
          yield* syncDirectory(dir)
          const manifest = manifestFileName(manifestNumber)
          made.push(manifest)
          made.push(CURRENT_TEMP_FILE_NAME, CURRENT_FILE_NAME)
          yield* writeStandaloneManifest(dir, (name) => path.join(dir, name), manifest, {
            comparator: COMPARATOR_NAME,
            logNumber,
            nextFileNumber: manifestNumber + 1,
            lastSequence: Math.max(lastSequence, sequence),
            compactPointers,
            newFiles: tables
          })
          return { directory: dir, sequence, tables: tables.length, bytes, linked, copied: tables.length - linked } satisfies CheckpointResult
        }),
      ({ version }) => Effect.sync(() => versions.release(version))
    )
    // A checkpoint that fails or is interrupted removes what it made (CURRENT is last, so what is
    // left behind after a crash never opens as a database).
    const cleanUp = Effect.suspend(() =>
      Effect.forEach(made.slice().reverse(), (name) => fs.remove(path.join(dir, name)).pipe(Effect.ignore), { discard: true }).pipe(
        Effect.zipRight(created ? fs.remove(dir, { recursive: true }) : Effect.void),
        Effect.ignore
      )
    )
    return yield* Effect.onError(work, () => cleanUp)
  }).pipe(Effect.provideService(FileSystem, deps.fs))
