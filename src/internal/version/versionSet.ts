/**
 * The `VersionSet` service (LevelDB's VersionSet): the current `Version` of the table tree, the
 * counters that must survive a restart (next file number, WAL log number, last sequence), and the
 * MANIFEST log of version edits behind them. Format: doc/manifest_format.md.
 *
 * Every change is an edit appended to the manifest and synced before it takes effect
 * (`logAndApply`). Readers `acquire` the version they read so that the files it names are not
 * deleted under them; `obsoleteTables` lists the tables no live version names any more.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem, type File } from "@effect/platform/FileSystem"
import { Context, Effect, Layer, Scope, Exit } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import { Corruption } from "../../errors.js"
import { DbConfig } from "../dbConfig.js"
import { replaceFileAtomically, syncDirectory } from "../fs/fileIo.js"
import { CURRENT_FILE_NAME, CURRENT_TEMP_FILE_NAME, manifestFileName } from "../fs/fileNames.js"
import { LogWriter } from "../record/logWriter.js"
import { readLog } from "../record/logReader.js"
import * as V from "./version.js"
import { type CompactPointer, decodeVersionEdit, encodeVersionEdit, type VersionEdit } from "./versionEdit.js"
import { COMPARATOR_NAME } from "./manifestFormat.js"
import { type CompactionState, initialCompactionState, recordEdit } from "../compaction/pick.js"

export interface VersionSet {
  /** The current version. */
  readonly current: () => V.Version
  /** WALs numbered below this are fully in tables. */
  readonly logNumber: () => number
  /** The last sequence recorded in the manifest. */
  readonly lastSequence: () => number
  readonly compactPointers: () => ReadonlyArray<CompactPointer>
  /** Allocates a file number. */
  readonly newFileNumber: () => number
  /** Makes sure later allocations stay above `n` (files found on disk). */
  readonly markFileNumberUsed: (n: number) => void
  /** Reads CURRENT and replays its manifest; false when the directory holds no database yet. */
  readonly recover: Effect.Effect<boolean, Corruption | PlatformError>
  /** Starts a fresh manifest holding the whole current state and points CURRENT at it. */
  readonly startNewManifest: (state: { logNumber: number; lastSequence: number }) => Effect.Effect<void, PlatformError>
  /**
   * Appends the edit to the manifest, syncs it, then installs the next version. After a failed
   * write or sync every later call fails with that first error and appends nothing.
   */
  readonly logAndApply: (edit: VersionEdit) => Effect.Effect<V.Version, PlatformError>
  /** Pins the current version for a reader; `release` unpins it. */
  readonly acquire: () => V.Version
  readonly release: (version: V.Version) => void
  /** Tables known on disk that neither the current nor any pinned version names. */
  readonly obsoleteTables: () => Array<number>
  /** Forgets tables once their files are deleted. */
  readonly forgetTables: (numbers: ReadonlyArray<number>) => void
  /** The manifest file number in use. */
  readonly manifestNumber: () => number
}

export const VersionSet = Context.GenericTag<VersionSet>("stratadb/VersionSet")

export const make: Effect.Effect<VersionSet, never, DbConfig | FileSystem | Scope.Scope> = Effect.gen(function* () {
  const config = yield* DbConfig
  const fs = yield* FileSystem
  const outerScope = yield* Scope.Scope
  const lock = yield* Effect.makeSemaphore(1)

  let version = V.empty(config.options.numLevels)
  let logNumber = 0
  let nextFileNumber = 2
  let lastSequence = 0
  let manifestNumber = 0
  /** The compact pointers, kept by the policy's own rule (`recordEdit`). */
  let compaction: CompactionState = initialCompactionState
  const pinned = new Map<V.Version, number>()
  const knownTables = new Set<number>()

  let writer: LogWriter | undefined
  let file: File | undefined
  let fileScope: Scope.CloseableScope | undefined
  /**
   * The first failed write or sync of the manifest. After it nothing more is appended: the failed
   * edit's bytes may be in the file (whole, torn, or not at all) while the in-memory version never
   * took it, so any later edit would be written against a state the file may not hold. The next
   * open starts a fresh manifest (LevelDB and RocksDB do the same).
   */
  let failure: PlatformError | undefined

  const apply = (edit: VersionEdit) => {
    version = V.applyEdit(version, edit)
    if (edit.logNumber !== undefined) logNumber = edit.logNumber
    if (edit.nextFileNumber !== undefined) nextFileNumber = Math.max(nextFileNumber, edit.nextFileNumber)
    if (edit.lastSequence !== undefined) lastSequence = Math.max(lastSequence, edit.lastSequence)
    compaction = recordEdit(compaction, edit)
    for (const f of edit.newFiles ?? []) knownTables.add(f.meta.number)
  }

  const snapshotEdit = (): VersionEdit => ({
    comparator: COMPARATOR_NAME,
    logNumber,
    nextFileNumber,
    lastSequence,
    compactPointers: compaction.compactPointers,
    newFiles: version.levels.flatMap((files, level) => files.map((meta) => ({ level, meta })))
  })

  const recover = Effect.gen(function* () {
    const currentPath = config.file(CURRENT_FILE_NAME)
    if (!(yield* fs.exists(currentPath))) return false
    const current = (yield* fs.readFileString(currentPath)).trim()
    const m = /^MANIFEST-(\d+)$/.exec(current)
    if (m === null) {
      return yield* new Corruption({ file: CURRENT_FILE_NAME, offset: 0, description: `CURRENT names ${JSON.stringify(current)}` })
    }
    const bytes = yield* fs.readFile(config.file(current)).pipe(
      Effect.catchIf(
        (e) => e._tag === "SystemError" && e.reason === "NotFound",
        () => new Corruption({ file: CURRENT_FILE_NAME, offset: 0, description: `CURRENT names ${current}, which is missing` })
      )
    )
    const log = readLog(bytes)
    if (log.end === "corrupt") {
      return yield* new Corruption({
        file: current,
        offset: log.corruptOffset ?? 0,
        description: log.description ?? "bad manifest record"
      })
    }
    if (log.records.length === 0) {
      return yield* new Corruption({ file: current, offset: 0, description: "manifest holds no version" })
    }
    for (let r = 0; r < log.records.length; r++) {
      const offset = log.recordOffsets[r]!
      const edit = yield* Effect.try({
        try: () => decodeVersionEdit(log.records[r]!),
        catch: (e) => new Corruption({ file: current, offset, description: `bad version edit: ${String(e)}` })
      })
      if (edit.comparator !== undefined && edit.comparator !== COMPARATOR_NAME) {
        return yield* new Corruption({ file: current, offset, description: `unknown comparator ${edit.comparator}` })
      }
      yield* Effect.try({
        try: () => apply(edit),
        catch: (e) => new Corruption({ file: current, offset, description: `edit does not apply: ${String(e)}` })
      })
    }
    manifestNumber = Number(m[1])
    nextFileNumber = Math.max(nextFileNumber, manifestNumber + 1)
    return true
  })

  const closeFile = Effect.suspend(() => {
    const s = fileScope
    fileScope = undefined
    file = undefined
    writer = undefined
    return s === undefined ? Effect.void : Scope.close(s, Exit.void)
  })

  const startNewManifest = (state: { logNumber: number; lastSequence: number }): Effect.Effect<void, PlatformError> =>
    lock.withPermits(1)(
      Effect.gen(function* () {
        logNumber = state.logNumber
        lastSequence = Math.max(lastSequence, state.lastSequence)
        const number = nextFileNumber++
        const name = manifestFileName(number)
        const scope = yield* Scope.fork(outerScope, ExecutionStrategy.sequential)
        const handle = yield* fs.open(config.file(name), { flag: "w" }).pipe(Scope.extend(scope))
        const w = new LogWriter(0)
        yield* handle.writeAll(w.frame(encodeVersionEdit(snapshotEdit())))
        yield* handle.sync
        yield* replaceFileAtomically(
          config.directory,
          config.file(CURRENT_FILE_NAME),
          config.file(CURRENT_TEMP_FILE_NAME),
          new TextEncoder().encode(`${name}\n`)
        ).pipe(Effect.provideService(FileSystem, fs))
        yield* closeFile
        fileScope = scope
        file = handle
        writer = w
        manifestNumber = number
      })
    )

  const logAndApply = (edit: VersionEdit): Effect.Effect<V.Version, PlatformError> =>
    lock.withPermits(1)(
      Effect.gen(function* () {
        const full: VersionEdit = { ...edit, nextFileNumber, lastSequence: Math.max(lastSequence, edit.lastSequence ?? 0) }
        if (failure !== undefined) return yield* Effect.fail(failure)
        if (file === undefined || writer === undefined) {
          return yield* Effect.dieMessage("manifest not started")
        }
        // The tables the edit adds must keep their names in the directory before it names them.
        if (edit.newFiles !== undefined && edit.newFiles.length > 0) {
          yield* syncDirectory(config.directory).pipe(Effect.provideService(FileSystem, fs))
        }
        const f = file
        // Written, synced and applied as one step: an interruption (the database closing) between
        // the sync and `apply` would leave an edit in the file that the version never took.
        yield* Effect.zipRight(f.writeAll(writer.frame(encodeVersionEdit(full))), f.sync).pipe(
          Effect.tapError((error) => Effect.sync(() => (failure ??= error))),
          Effect.zipRight(Effect.sync(() => apply(full))),
          Effect.uninterruptible
        )
        return version
      })
    )

  yield* Effect.addFinalizer(() => closeFile)

  return VersionSet.of({
    current: () => version,
    logNumber: () => logNumber,
    lastSequence: () => lastSequence,
    compactPointers: () => compaction.compactPointers,
    newFileNumber: () => nextFileNumber++,
    markFileNumberUsed: (n) => {
      if (n >= nextFileNumber) nextFileNumber = n + 1
    },
    recover,
    startNewManifest,
    logAndApply,
    acquire: () => {
      const v = version
      pinned.set(v, (pinned.get(v) ?? 0) + 1)
      return v
    },
    release: (v) => {
      const n = (pinned.get(v) ?? 1) - 1
      if (n <= 0) pinned.delete(v)
      else pinned.set(v, n)
    },
    obsoleteTables: () => {
      const live = V.liveFiles(version)
      for (const v of pinned.keys()) for (const n of V.liveFiles(v)) live.add(n)
      return [...knownTables].filter((n) => !live.has(n))
    },
    forgetTables: (numbers) => {
      for (const n of numbers) knownTables.delete(n)
    },
    manifestNumber: () => manifestNumber
  })
})

export const layer: Layer.Layer<VersionSet, never, DbConfig | FileSystem> = Layer.scoped(VersionSet, make)
