/**
 * Opening a database directory: replay CURRENT's manifest, then every WAL the manifest does not
 * cover, into a memtable that is written to an L0 table; start a fresh manifest and WAL; delete
 * what no longer belongs (old logs and manifests, orphan tables from an interrupted flush or
 * compaction, temporary files). Nothing acknowledged is lost: old files are deleted only after
 * the new manifest that makes them unnecessary is synced.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import { Context, Effect, Layer } from "effect"
import { Corruption } from "../errors.js"
import type { LogDrop } from "../Stats.js"
import { VersionSet } from "./version/versionSet.js"
import { Memtables } from "./memtable/memtables.js"
import { TableStore } from "./table/tableStore.js"
import { Wal } from "./wal/wal.js"
import { DbConfig } from "./dbConfig.js"
import { DbStateTag } from "./dbState.js"
import { CURRENT_FILE_NAME, logFileName, LOST_DIRECTORY_NAME, parseFileName, type ParsedFileName, tableFileName } from "./fs/fileNames.js"
import { syncDirectory } from "./fs/fileIo.js"
import { writeMemtable } from "./flush.js"
import { Memtable as Table } from "./memtable/memtable.js"
import { liveFiles } from "./version/version.js"
import { BatchFormatError, DecodeError } from "./wal/batchCodec.js"

export const recover: Effect.Effect<
  void,
  Corruption | PlatformError,
  DbConfig | DbStateTag | VersionSet | Wal | Memtables | TableStore | FileSystem
> = Effect.gen(function* () {
  const config = yield* DbConfig
  const state = yield* DbStateTag
  const versions = yield* VersionSet
  const wal = yield* Wal
  const memtables = yield* Memtables
  const store = yield* TableStore
  const fs = yield* FileSystem

  const existing = yield* versions.recover
  const files: Array<{ name: string; parsed: ParsedFileName }> = []
  for (const name of yield* fs.readDirectory(config.directory)) {
    const parsed = parseFileName(name)
    if (parsed === undefined) continue
    files.push({ name, parsed })
    if ("number" in parsed) versions.markFileNumberUsed(parsed.number)
  }
  // Tables exist only once a CURRENT does (it is written before the first table). Without it,
  // opening as a new database would delete them as orphans: refuse instead.
  if (!existing && files.some((f) => f.parsed.kind === "table")) {
    return yield* new Corruption({
      file: CURRENT_FILE_NAME,
      offset: 0,
      description: "CURRENT is missing but the directory holds tables: restore CURRENT (it names the newest MANIFEST)"
    })
  }

  const numbered = (kind: "log" | "table" | "manifest") =>
    files.flatMap((f) => (f.parsed.kind === kind ? [f.parsed.number] : []))
  const onDisk = new Set(numbered("table"))
  for (const n of liveFiles(versions.current())) {
    if (!onDisk.has(n)) {
      return yield* new Corruption({ file: tableFileName(n), offset: 0, description: "table named by the manifest is missing" })
    }
  }

  const logs = numbered("log")
    .filter((n) => n >= versions.logNumber())
    .sort((a, b) => a - b)
  let last = versions.lastSequence()
  const recovered = new Table(0)
  const mode = config.options.walRecoveryMode
  const report = { logsReplayed: 0, recordsReplayed: 0, tornTails: [] as Array<LogDrop>, damage: [] as Array<LogDrop> }
  /** Logs not replayed, or not whole: kept in `lost/` rather than deleted (pointInTime only). */
  const keep: Array<string> = []
  const droppedLogs: Array<string> = []
  for (const n of logs) {
    const name = logFileName(n)
    if (report.damage.length > 0) {
      // pointInTime: everything after the damage is dropped whole.
      droppedLogs.push(name)
      keep.push(name)
      continue
    }
    const log = yield* wal.replay(n)
    report.logsReplayed++
    if (log.end !== "clean") {
      const drop: LogDrop = {
        file: name,
        offset: log.end === "corrupt" ? (log.corruptOffset ?? log.validBytes) : log.validBytes,
        droppedBytes: log.size - log.validBytes,
        description: log.description ?? log.end
      }
      if (log.end === "torn" && mode !== "absoluteConsistency") {
        report.tornTails.push(drop)
      } else if (log.end === "corrupt" && mode === "pointInTime") {
        report.damage.push(drop)
        keep.push(name)
      } else {
        const why = log.end === "torn" ? `torn tail (walRecoveryMode ${mode})` : "damaged record"
        return yield* new Corruption({ file: name, offset: drop.offset, description: `${why}: ${drop.description}` })
      }
    }
    for (let r = 0; r < log.records.length; r++) {
      const end = yield* Effect.try({
        try: () => recovered.addRecord(log.records[r]!),
        catch: (e) =>
          new Corruption({
            file: name,
            offset: log.recordOffsets[r]!,
            description: e instanceof BatchFormatError || e instanceof DecodeError ? `bad batch: ${e.message}` : String(e)
          })
      })
      if (end > last) last = end
      report.recordsReplayed++
    }
  }
  if (report.tornTails.length > 0 || report.damage.length > 0) {
    yield* Effect.logWarning("stratadb: WAL recovery dropped bytes", { ...report, droppedLogs })
  }
  state.sequences.last = last
  state.sequences.visible = last

  const newLog = versions.newFileNumber()
  yield* versions.startNewManifest({ logNumber: versions.logNumber(), lastSequence: last })
  const meta = yield* writeMemtable(recovered, { store, newFileNumber: versions.newFileNumber }, [])
  yield* versions.logAndApply({
    newFiles: meta === undefined ? [] : [{ level: 0, meta }],
    logNumber: newLog,
    lastSequence: last
  })
  yield* wal.open(newLog)
  memtables.reset(newLog)

  const live = liveFiles(versions.current())
  const current = versions.manifestNumber()
  const kept = new Set(keep)
  // An open that found damage deletes nothing it does not know to be obsolete: the damaged and
  // dropped logs, and tables the manifest does not name, go into lost/ for inspection or repair.
  const damaged = report.damage.length > 0
  const movedToLost: Array<string> = []
  for (const { name, parsed } of files) {
    const orphanTable = parsed.kind === "table" && !live.has(parsed.number)
    if (kept.has(name) || (damaged && orphanTable)) {
      const lost = config.file(LOST_DIRECTORY_NAME)
      yield* fs.makeDirectory(lost, { recursive: true })
      yield* fs.rename(config.file(name), `${lost}/${name}`)
      movedToLost.push(name)
      continue
    }
    const obsolete =
      (parsed.kind === "log" && parsed.number < newLog) ||
      (parsed.kind === "manifest" && parsed.number !== current) ||
      parsed.kind === "currentTemp" ||
      orphanTable
    if (obsolete) yield* fs.remove(config.file(name)).pipe(Effect.ignore)
  }
  if (movedToLost.length > 0) {
    yield* syncDirectory(config.file(LOST_DIRECTORY_NAME))
    yield* syncDirectory(config.directory)
  }
  state.counters.recovery = { walRecoveryMode: mode, ...report, droppedLogs, movedToLost }
  yield* Effect.annotateCurrentSpan({
    walRecoveryMode: mode,
    logsReplayed: report.logsReplayed,
    recordsReplayed: report.recordsReplayed,
    tornTails: report.tornTails.length,
    droppedLogs: droppedLogs.length
  })
}).pipe(Effect.withSpan("stratadb.recovery"))

/** Recovery done: the compactor depends on it, so background work starts on the recovered state. */
export class Recovered extends Context.Tag("stratadb/Recovered")<Recovered, void>() {}

/** Recovery as a step of the database's layer graph. */
export const layer: Layer.Layer<
  Recovered,
  Corruption | PlatformError,
  DbConfig | DbStateTag | VersionSet | Wal | Memtables | TableStore | FileSystem
> = Layer.effect(Recovered, recover)
