/**
 * `verify`: checks a closed database directory without opening it: CURRENT and the manifest it
 * names (replayed as opening does), every table the final version names (present, of the size
 * recorded, every block's checksum, the order of its entries, its properties and filter, and its
 * key range, sequence range and counts against the manifest's record), the order of the tables
 * in each level below L0, and every WAL the database would replay (each record's framing and
 * batch). Tables on disk that the manifest does not name are listed as orphans (an interrupted
 * flush or compaction leaves them; the next open deletes them), not as damage.
 *
 * It takes the directory's LOCK for its duration, so it never races a live database: a database
 * open in any process makes it fail with `DbLocked`.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { Path } from "@effect/platform/Path"
import { Effect } from "effect"
import type { DbLocked } from "../../errors.js"
import { LOCK_FILE_NAME, logFileName, parseFileName, tableFileName } from "../fs/fileNames.js"
import { acquireLock } from "../fs/lock.js"
import type { FileMeta } from "../version/fileMeta.js"
import { damage, type Damage, renderDamage } from "./damage.js"
import { decodeBatchOps } from "./logDump.js"
import { scanLog } from "./logScan.js"
import { readCurrent, replayManifest } from "./manifestHistory.js"
import { checkTable } from "./tableCheck.js"
import { openTableFile, type ReadError } from "./tableWalk.js"

export interface VerifiedTable {
  readonly file: string
  readonly level: number
  readonly size: number
  readonly entries: number
  readonly dataBlocks: number
  readonly status: "ok" | "damaged" | "missing"
}

export interface VerifiedLog {
  readonly file: string
  /** Records and operations read (up to damage or a torn tail). */
  readonly records: number
  readonly ops: number
  /** `obsolete`: numbered below the manifest's log number (in tables already; not read). */
  readonly status: "ok" | "torn" | "damaged" | "obsolete"
}

export interface VerifyReport {
  readonly directory: string
  /** The manifest CURRENT names (undefined when CURRENT is missing or bad). */
  readonly manifest: string | undefined
  readonly tables: ReadonlyArray<VerifiedTable>
  readonly logs: ReadonlyArray<VerifiedLog>
  /** Tables on disk the manifest does not name. */
  readonly orphans: ReadonlyArray<string>
  /** What is worth knowing but is not damage (torn tails, which opening tolerates). */
  readonly notes: ReadonlyArray<string>
  readonly damage: ReadonlyArray<Damage>
  readonly ok: boolean
}

export interface VerifyOptions {
  /** Called before each table and log is checked (for a progress display). */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number; readonly file: string }) => Effect.Effect<void>
}

/** Differences between the manifest's record of a table and what the table holds. */
const compareWithManifest = (
  name: string,
  meta: FileMeta,
  found: { first?: { key: string; seq: number } | undefined; last?: { key: string; seq: number } | undefined; entries: number; tombstones: number; minSeq: number; maxSeq: number }
): Array<Damage> => {
  const out: Array<Damage> = []
  const differ = (what: string, recorded: string, actual: string) =>
    out.push(damage(name, 0, `the manifest records ${what} ${recorded}, the table holds ${actual}`))
  const key = (k: string, seq: number) => `${JSON.stringify(k)}@${seq}`
  if (found.first !== undefined && (found.first.key !== meta.smallestKey || found.first.seq !== meta.smallestSeq)) {
    differ("smallest key", key(meta.smallestKey, meta.smallestSeq), key(found.first.key, found.first.seq))
  }
  if (found.last !== undefined && (found.last.key !== meta.largestKey || found.last.seq !== meta.largestSeq)) {
    differ("largest key", key(meta.largestKey, meta.largestSeq), key(found.last.key, found.last.seq))
  }
  if (found.entries !== meta.entries) differ("entries", String(meta.entries), String(found.entries))
  if (found.tombstones !== meta.tombstones) differ("tombstones", String(meta.tombstones), String(found.tombstones))
  if (found.entries > 0 && (found.minSeq !== meta.minSeq || found.maxSeq !== meta.maxSeq)) {
    differ("sequences", `${meta.minSeq}..${meta.maxSeq}`, `${found.minSeq}..${found.maxSeq}`)
  }
  return out
}

/** Verifies the database in `directory` (closed, or at least not open anywhere: the LOCK is taken). */
export const verify = (
  directory: string,
  options: VerifyOptions = {}
): Effect.Effect<VerifyReport, ReadError | DbLocked, FileSystem | Path> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const path = yield* Path
      const progress = options.onProgress ?? (() => Effect.void)
      yield* acquireLock(directory, path.join(directory, LOCK_FILE_NAME))
      const problems: Array<Damage> = []
      const notes: Array<string> = []
      const tables: Array<VerifiedTable> = []
      const logs: Array<VerifiedLog> = []

      const onDisk = new Map<string, number>()
      const tableNumbers: Array<number> = []
      const logNumbers: Array<number> = []
      for (const name of yield* fs.readDirectory(directory)) {
        const parsed = parseFileName(name)
        if (parsed === undefined || !("number" in parsed)) continue
        if (parsed.kind === "table") tableNumbers.push(parsed.number)
        if (parsed.kind === "log") logNumbers.push(parsed.number)
        onDisk.set(name, parsed.number)
      }

      const current = yield* readCurrent(directory)
      let manifestName: string | undefined
      let logNumber = 0
      const named = new Set<number>()
      const levels: Array<ReadonlyArray<FileMeta>> = []
      if (typeof current !== "string") {
        problems.push(current)
      } else {
        manifestName = current
        const history = replayManifest(yield* fs.readFile(path.join(directory, current)), current)
        problems.push(...history.damage)
        if (history.tornTail !== undefined) notes.push(`${current}: torn tail at ${history.tornTail.offset} (${history.tornTail.description}); opening keeps the edits before it`)
        logNumber = history.state.logNumber
        levels.push(...history.state.levels)
      }

      const liveLogs = logNumbers.filter((n) => n >= logNumber).sort((a, b) => a - b)
      let total = liveLogs.length
      for (const files of levels) total += files.length
      let done = 0

      for (let level = 0; level < levels.length; level++) {
        const files = levels[level]!
        if (level > 0) {
          for (let i = 1; i < files.length; i++) {
            const a = files[i - 1]!
            const b = files[i]!
            if (!(a.largestKey < b.smallestKey)) {
              problems.push(damage(tableFileName(b.number), 0, `L${level}: overlaps ${tableFileName(a.number)} in the same level`))
            }
          }
        }
        for (const meta of files) {
          const name = tableFileName(meta.number)
          named.add(meta.number)
          yield* progress({ done: done++, total, file: name })
          if (!onDisk.has(name)) {
            problems.push(damage(name, 0, "table named by the manifest is missing"))
            tables.push({ file: name, level, size: 0, entries: 0, dataBlocks: 0, status: "missing" })
            continue
          }
          const found: Array<Damage> = []
          const result = yield* Effect.scoped(
            Effect.gen(function* () {
              const opened = yield* openTableFile(path.join(directory, name), name)
              if (opened.size !== meta.size) {
                found.push(damage(name, 0, `size ${opened.size} bytes, the manifest records ${meta.size}`))
              }
              if (opened._tag === "unreadable") {
                found.push(opened.damage)
                return { size: opened.size, entries: 0, dataBlocks: 0 }
              }
              const check = yield* checkTable(opened.reader, name)
              found.push(...check.damage)
              if (check.walk.badBlocks.length === 0) found.push(...compareWithManifest(name, meta, check.walk))
              return { size: opened.size, entries: check.walk.entries, dataBlocks: check.walk.blocks }
            })
          )
          problems.push(...found)
          tables.push({ file: name, level, ...result, status: found.length === 0 ? "ok" : "damaged" })
        }
      }

      for (const n of logNumbers.sort((a, b) => a - b)) {
        const name = logFileName(n)
        if (n < logNumber) {
          logs.push({ file: name, records: 0, ops: 0, status: "obsolete" })
          continue
        }
        yield* progress({ done: done++, total, file: name })
        const scan = scanLog(yield* fs.readFile(path.join(directory, name)), { resync: false })
        let status: VerifiedLog["status"] = "ok"
        let ops = 0
        for (const r of scan.records) {
          const batch = decodeBatchOps(r.payload)
          if (typeof batch === "string") {
            problems.push(damage(name, r.offset, batch))
            status = "damaged"
            break
          }
          ops += batch.ops.length
        }
        for (const p of scan.problems) {
          if (p.kind === "corrupt") {
            problems.push(damage(name, p.offset, p.description))
            status = "damaged"
          } else {
            notes.push(`${name}: torn tail at ${p.offset} (${p.description}); opening drops it`)
            if (status === "ok") status = "torn"
          }
        }
        logs.push({ file: name, records: scan.records.length, ops, status })
      }

      const orphans = tableNumbers.filter((n) => !named.has(n)).sort((a, b) => a - b).map(tableFileName)
      return {
        directory,
        manifest: manifestName,
        tables,
        logs,
        orphans,
        notes,
        damage: problems,
        ok: problems.length === 0
      } satisfies VerifyReport
    })
  )

/** The report as text. */
export const renderVerifyReport = (report: VerifyReport): string => {
  const lines = [`verify ${report.directory}: manifest ${report.manifest ?? "(none)"}`]
  for (const t of report.tables) {
    lines.push(`  L${t.level} ${t.file}: ${t.status}${t.status === "missing" ? "" : ` (${t.size} bytes, ${t.entries} entries, ${t.dataBlocks} blocks)`}`)
  }
  for (const l of report.logs) {
    lines.push(`  ${l.file}: ${l.status}${l.status === "obsolete" ? "" : ` (${l.records} records, ${l.ops} ops)`}`)
  }
  if (report.orphans.length > 0) lines.push(`  orphan tables (not named by the manifest): ${report.orphans.join(", ")}`)
  for (const n of report.notes) lines.push(`  note: ${n}`)
  lines.push(...renderDamage(report.damage))
  lines.push(report.ok ? "OK" : `DAMAGED: ${report.damage.length} problems`)
  return lines.join("\n")
}
