/**
 * `repair`: rebuilds a database's manifest from the files in its directory, keeping what is
 * readable, as LevelDB's `RepairDB` (db/repair.cc) does:
 *
 * 1. Take the LOCK (a live database makes it fail with `DbLocked`); list the tables, logs and
 *    manifests. File numbers continue above the largest found.
 * 2. Each table is opened and read whole (`walkTable`). A clean table is kept as it is. A table
 *    with damaged blocks (or entries out of order) is rewritten with the entries of its readable
 *    blocks into a new table, and the original moved into `lost/`; a table that does not open
 *    (footer, index, properties or filter damaged), or holds nothing readable, is moved into
 *    `lost/` and reported.
 * 3. Each WAL is read, past damage too (at the next block), and every batch that decodes is
 *    written, all its versions, to a new table; the log is moved into `lost/` once the new
 *    manifest is in place.
 * 4. The layout: LevelDB puts every table in L0. stratadb's point reads take L0 tables newest
 *    first (by largest sequence) and stop at the first that holds the key, which is right only
 *    when, for any two tables whose key ranges overlap, one's entries are all newer than the
 *    other's (as for flushed tables). When the tables kept have that property they all go to L0
 *    unchanged; otherwise (tables from several levels of a compacted database) they are merged,
 *    every version kept, into one sorted run of new tables in L1, cut at `targetFileSize` between
 *    user keys, and the tables merged are deleted once the new manifest is in place.
 * 5. A new manifest holding one snapshot edit (its log number above every log found, so no log is
 *    replayed again; the last sequence the largest kept), synced, then CURRENT switched to it
 *    (write-temp, fsync, rename); the old manifests, the logs and the damaged tables go into
 *    `lost/`.
 *
 * Tables are written through the `TableStore` with the options given (block size, filter,
 * compression: the database's defaults otherwise), and the manifest with the version edit codec
 * and the log framer: no format of its own. A crash during a repair leaves the old CURRENT (the
 * new tables are then orphans, deleted by the next open) or the new one; repairing again is safe.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { Path } from "@effect/platform/Path"
import { Effect } from "effect"
import { type Corruption, type DbLocked, InvalidArgument } from "../../errors.js"
import { type DbOptions, resolve } from "../../Options.js"
import { DbConfig } from "../dbConfig.js"
import { syncDirectory } from "../fs/fileIo.js"
import {
  LOCK_FILE_NAME,
  logFileName,
  LOST_DIRECTORY_NAME,
  manifestFileName,
  parseFileName,
  tableFileName
} from "../fs/fileNames.js"
import { acquireLock } from "../fs/lock.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import { MergingIterator } from "../iter/mergingIterator.js"
import { compareInternal, type Kind } from "../key/internalKey.js"
import { Memtable } from "../memtable/memtable.js"
import { toFileMeta } from "../table/properties.js"
import type { TableError } from "../table/tableFile.js"
import * as TableStore from "../table/tableStore.js"
import type { FileMeta } from "../version/fileMeta.js"
import { rangesOverlap } from "../version/version.js"
import { COMPARATOR_NAME } from "../version/manifestFormat.js"
import { writeStandaloneManifest } from "../version/standaloneManifest.js"
import { BatchFormatError, DecodeError, decodeBatch } from "../wal/batchCodec.js"
import { damage, type Damage, renderDamage } from "./damage.js"
import { type Format, formatKey, textOrHex } from "./display.js"
import { scanLog } from "./logScan.js"
import { checkTable } from "./tableCheck.js"
import { openTableFile, type ReadError, walkTable } from "./tableWalk.js"

export interface RepairOptions {
  /** Options new tables are written with (block size, filter, compression); the defaults otherwise. */
  readonly options?: Omit<DbOptions, "directory">
}

export interface RepairedTable {
  readonly file: string
  /**
   * `kept`: clean, kept as it is; `rewritten`: its readable entries copied to `replacedBy`, the
   * original moved into `lost/`; `dropped`: nothing readable, or no entries at all (moved into `lost/`).
   */
  readonly outcome: "kept" | "rewritten" | "dropped"
  readonly replacedBy: string | undefined
  /** Entries kept, and entries lost (what its properties count beyond them; unknown, 0, when it does not open). */
  readonly entries: number
  readonly lostEntries: number
  /** Data blocks that failed their checks. */
  readonly lostBlocks: number
  readonly damage: ReadonlyArray<Damage>
}

export interface RepairedLog {
  readonly file: string
  /** Records read and the operations of those that decode. */
  readonly records: number
  readonly entries: number
  /** Records that did not decode, and bytes skipped because of damage or a torn tail. */
  readonly lostRecords: number
  readonly droppedBytes: number
  /** The table holding its entries (undefined when it held none). */
  readonly table: string | undefined
  readonly damage: ReadonlyArray<Damage>
}

export interface RepairReport {
  readonly directory: string
  /** The new manifest. */
  readonly manifest: string
  /** `level0`: the tables kept as they are, all in L0; `merged`: merged into one sorted run in L1. */
  readonly layout: "level0" | "merged"
  readonly tables: ReadonlyArray<RepairedTable>
  readonly logs: ReadonlyArray<RepairedLog>
  /** The new version's tables. */
  readonly files: ReadonlyArray<{ readonly level: number; readonly meta: FileMeta }>
  readonly lastSequence: number
  readonly nextFileNumber: number
  /** Entries in the new version's tables, and entries known lost (in damaged blocks, undecodable records). */
  readonly keptEntries: number
  readonly lostEntries: number
  /** Files moved into `lost/` (old manifests, logs, damaged tables) and tables deleted (merged into new ones). */
  readonly archived: ReadonlyArray<string>
  readonly deleted: ReadonlyArray<string>
  readonly damage: ReadonlyArray<Damage>
}

/** A table the new version may name. */
interface Candidate {
  readonly name: string
  readonly meta: FileMeta
}

/** True when L0's newest-first order reads right: of two overlapping tables, one is wholly newer. */
export const level0Consistent = (metas: ReadonlyArray<FileMeta>): boolean => {
  const sorted = [...metas].sort((a, b) => b.maxSeq - a.maxSeq || b.number - a.number)
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j]!
      if (rangesOverlap(a.smallestKey, a.largestKey, b.smallestKey, b.largestKey) && !(a.minSeq > b.maxSeq)) return false
    }
  }
  return true
}

/** Runs the pending step of an iterator to its end. */
const settle = (it: InternalIterator): Effect.Effect<void, TableError> =>
  Effect.suspend(() => (it.pending() ? Effect.zipRight(it.load(), settle(it)) : Effect.void))

const ENTRIES_PER_DRAIN = 4096

/** Repairs the database in `directory` (which no process may have open). */
export const repair = (
  directory: string,
  repairOptions: RepairOptions = {}
): Effect.Effect<RepairReport, ReadError | Corruption | DbLocked | InvalidArgument, FileSystem | Path> =>
  Effect.scoped(
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const path = yield* Path
      const file = (name: string) => path.join(directory, name)
      yield* acquireLock(directory, file(LOCK_FILE_NAME))

      const tableNumbers: Array<number> = []
      const logNumbers: Array<number> = []
      const manifests: Array<string> = []
      let next = 2
      for (const name of yield* fs.readDirectory(directory)) {
        const parsed = parseFileName(name)
        if (parsed === undefined || !("number" in parsed)) continue
        next = Math.max(next, parsed.number + 1)
        if (parsed.kind === "table") tableNumbers.push(parsed.number)
        else if (parsed.kind === "log") logNumbers.push(parsed.number)
        else manifests.push(name)
      }
      if (tableNumbers.length + logNumbers.length + manifests.length === 0) {
        return yield* new InvalidArgument({ method: "repair", description: `${directory} holds no database files` })
      }
      tableNumbers.sort((a, b) => a - b)
      logNumbers.sort((a, b) => a - b)
      const newFileNumber = () => next++

      const options = yield* resolve({ ...repairOptions.options, directory })
      const store = yield* TableStore.make.pipe(Effect.provideService(DbConfig, { options, directory, file }))

      const problems: Array<Damage> = []
      const tables: Array<RepairedTable> = []
      const logs: Array<RepairedLog> = []
      const candidates: Array<Candidate> = []
      const toArchive: Array<string> = [...manifests]

      // 2. Tables.
      for (const number of tableNumbers) {
        const name = tableFileName(number)
        const report = yield* Effect.scoped(
          Effect.gen(function* () {
            const opened = yield* openTableFile(file(name), name)
            if (opened._tag === "unreadable") {
              return { file: name, outcome: "dropped", replacedBy: undefined, entries: 0, lostEntries: 0, lostBlocks: 0, damage: [opened.damage] } satisfies RepairedTable
            }
            const reader = opened.reader
            let readable = 0
            const check = yield* checkTable(reader, name, (e) => {
              if (e.ordered) readable++
            })
            const lostEntries = Math.max(0, reader.properties.entries - readable)
            const lostBlocks = check.walk.badBlocks.length
            if (check.damage.length === 0 && readable > 0) {
              candidates.push({ name, meta: toFileMeta(reader.properties, number, opened.size) })
              return { file: name, outcome: "kept", replacedBy: undefined, entries: readable, lostEntries: 0, lostBlocks: 0, damage: [] } satisfies RepairedTable
            }
            if (readable === 0) {
              return { file: name, outcome: "dropped", replacedBy: undefined, entries: 0, lostEntries, lostBlocks, damage: check.damage } satisfies RepairedTable
            }
            // Copy what is readable (in order) to a new table.
            const copy = newFileNumber()
            const meta = yield* store.writeTable(copy, (sink) =>
              Effect.gen(function* () {
                yield* walkTable(reader, name, (e) => {
                  if (e.ordered) sink.add(e.key, e.seq, e.kind, e.value)
                })
                return yield* sink.finish
              }))
            candidates.push({ name: tableFileName(copy), meta })
            return { file: name, outcome: "rewritten", replacedBy: tableFileName(copy), entries: meta.entries, lostEntries, lostBlocks, damage: check.damage } satisfies RepairedTable
          })
        )
        problems.push(...report.damage)
        if (report.outcome !== "kept") toArchive.push(name)
        tables.push(report)
      }

      // 3. Logs, each to a table of its own.
      for (const number of logNumbers) {
        const name = logFileName(number)
        const scan = scanLog(yield* fs.readFile(file(name)), { resync: true })
        const found: Array<Damage> = []
        let droppedBytes = 0
        for (const p of scan.problems) {
          droppedBytes += p.droppedBytes
          if (p.kind === "corrupt") found.push(damage(name, p.offset, p.description))
        }
        const memtable = new Memtable(number)
        let entries = 0
        let lostRecords = 0
        const staged: Array<{ key: string; seq: number; kind: Kind; value: Uint8Array }> = []
        for (const r of scan.records) {
          staged.length = 0
          try {
            decodeBatch(r.payload, (key, seq, kind, value) => staged.push({ key, seq, kind, value }))
          } catch (e) {
            if (!(e instanceof BatchFormatError || e instanceof DecodeError)) throw e
            found.push(damage(name, r.offset, `bad batch: ${e.message}`))
            lostRecords++
            continue
          }
          // A batch is applied whole or not at all.
          for (const op of staged) memtable.add(op.key, op.seq, op.kind, op.value)
          entries += staged.length
        }
        let table: string | undefined
        if (!memtable.isEmpty) {
          const out = newFileNumber()
          const meta = yield* store.writeTable(out, (sink) =>
            Effect.gen(function* () {
              let added = 0
              for (const key of memtable.sortedKeys()) {
                for (let e = memtable.chain(key); e !== undefined; e = e.older) {
                  sink.add(key, e.seq, e.kind, e.value)
                  if (++added % ENTRIES_PER_DRAIN === 0) yield* sink.drain
                }
              }
              return yield* sink.finish
            }))
          table = tableFileName(out)
          candidates.push({ name: table, meta })
        }
        problems.push(...found)
        toArchive.push(name)
        logs.push({ file: name, records: scan.records.length, entries, lostRecords, droppedBytes, table, damage: found })
      }

      // 4. The layout.
      const toDelete: Array<string> = []
      let files: Array<{ level: number; meta: FileMeta }>
      let layout: RepairReport["layout"]
      if (level0Consistent(candidates.map((c) => c.meta))) {
        layout = "level0"
        files = candidates.map((c) => ({ level: 0, meta: c.meta }))
      } else {
        layout = "merged"
        files = yield* Effect.scoped(
          Effect.gen(function* () {
            const children: Array<InternalIterator> = []
            for (const c of candidates) {
              const opened = yield* openTableFile(file(c.name), c.name)
              if (opened._tag === "unreadable") return yield* Effect.fail(new InvalidArgument({ method: "repair", description: `${c.name} no longer opens: ${opened.damage.description}` }))
              children.push(opened.reader.iterator(false))
            }
            const it = new MergingIterator(children)
            it.seekToFirst()
            yield* settle(it)
            const outputs: Array<{ level: number; meta: FileMeta }> = []
            let lastKey: string | undefined
            let lastSeq = 0
            while (it.valid()) {
              const meta = yield* store.writeTable(newFileNumber(), (sink) =>
                Effect.gen(function* () {
                  let added = 0
                  let first = true
                  while (it.valid()) {
                    const key = it.key()
                    const seq = it.seq()
                    // Cut only between user keys, so a level below L0 holds each key in one table.
                    if (!first && key !== lastKey && sink.estimatedSize() >= options.targetFileSize) break
                    // The same entry in two tables (a log already flushed, an orphan of a compaction): once.
                    if (lastKey === undefined || compareInternal(lastKey, lastSeq, key, seq) < 0) {
                      sink.add(key, seq, it.kind(), it.value())
                      lastKey = key
                      lastSeq = seq
                      first = false
                      if (++added % ENTRIES_PER_DRAIN === 0) yield* sink.drain
                    }
                    it.next()
                    yield* settle(it)
                  }
                  return yield* sink.finish
                }))
              outputs.push({ level: 1, meta })
            }
            return outputs
          })
        )
        // Kept originals and the tables made above are all in the merged run now.
        for (const c of candidates) toDelete.push(c.name)
      }

      // 5. The new manifest, then CURRENT.
      let lastSequence = 0
      let keptEntries = 0
      for (const f of files) {
        lastSequence = Math.max(lastSequence, f.meta.maxSeq)
        keptEntries += f.meta.entries
      }
      const manifestNumber = newFileNumber()
      const logNumber = newFileNumber()
      const manifestName = manifestFileName(manifestNumber)
      yield* syncDirectory(directory)
      yield* writeStandaloneManifest(directory, file, manifestName, {
        comparator: COMPARATOR_NAME,
        logNumber,
        nextFileNumber: next,
        lastSequence,
        newFiles: files
      })

      // What the new version does not need: kept in lost/ (or deleted, when merged into new tables).
      const archived: Array<string> = []
      if (toArchive.length > 0) {
        const lost = file(LOST_DIRECTORY_NAME)
        yield* fs.makeDirectory(lost, { recursive: true })
        for (const name of toArchive) {
          yield* fs.rename(file(name), path.join(lost, name))
          archived.push(name)
        }
        yield* syncDirectory(lost)
      }
      const deleted: Array<string> = []
      for (const name of toDelete) {
        yield* fs.remove(file(name))
        deleted.push(name)
      }
      yield* syncDirectory(directory)

      let lostEntries = 0
      for (const t of tables) lostEntries += t.lostEntries
      return {
        directory,
        manifest: manifestName,
        layout,
        tables,
        logs,
        files,
        lastSequence,
        nextFileNumber: next,
        keptEntries,
        lostEntries,
        archived,
        deleted,
        damage: problems
      } satisfies RepairReport
    })
  )

/** The report as text. */
export const renderRepairReport = (report: RepairReport, format: Format = textOrHex): string => {
  const lines = [`repair ${report.directory}: new manifest ${report.manifest}, layout ${report.layout}`]
  for (const t of report.tables) {
    const detail =
      t.outcome === "kept"
        ? `${t.entries} entries`
        : t.outcome === "rewritten"
          ? `${t.entries} entries copied to ${t.replacedBy}, ${t.lostEntries} lost in ${t.lostBlocks} damaged blocks`
          : `dropped${t.lostEntries > 0 ? `, ${t.lostEntries} entries lost` : ""}`
    lines.push(`  ${t.file}: ${t.outcome} (${detail})`)
  }
  for (const l of report.logs) {
    lines.push(
      `  ${l.file}: ${l.records} records, ${l.entries} entries -> ${l.table ?? "(nothing to keep)"}` +
        (l.lostRecords > 0 || l.droppedBytes > 0 ? ` (${l.lostRecords} records undecodable, ${l.droppedBytes} bytes skipped)` : "")
    )
  }
  lines.push(`new version (last sequence ${report.lastSequence}, next file number ${report.nextFileNumber}):`)
  for (const { level, meta: m } of report.files) {
    lines.push(`  L${level} #${m.number} ${m.size} bytes [${formatKey(m.smallestKey, format)} .. ${formatKey(m.largestKey, format)}] ${m.entries} entries`)
  }
  if (report.archived.length > 0) lines.push(`moved into ${LOST_DIRECTORY_NAME}/: ${report.archived.join(", ")}`)
  if (report.deleted.length > 0) lines.push(`merged into the new tables and deleted: ${report.deleted.join(", ")}`)
  lines.push(...renderDamage(report.damage))
  lines.push(`kept ${report.keptEntries} entries; lost ${report.lostEntries} entries in damaged tables, ${report.logs.reduce((n, l) => n + l.lostRecords, 0)} log records`)
  return lines.join("\n")
}
