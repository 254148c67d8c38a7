/**
 * The offline tools as commands: `dump-table`, `dump-log`, `manifest`, `verify` and `repair`.
 * None opens the database through the Db layer: they read its files (src/internal/tools/), so
 * they work on a closed database, and on one that no longer opens. `verify` and `repair` take the
 * directory's LOCK first: a database open in another process makes them fail (`DbLocked`).
 *
 * Each prints its report on stdout. A command that found damage (a table or log that fails its
 * checks, a database that does not verify) fails afterwards with a `Corruption` naming the first
 * damaged file and offset, which the CLI turns into exit code 1; `repair` succeeds once the
 * database is rebuilt, and its report says what was lost.
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { failOnDamage } from "../tools/damage.js"
import { type Format, textOrHex } from "../tools/display.js"
import { dumpLog, type LogKind, renderLogDump } from "../tools/logDump.js"
import { manifest, renderManifestHistory } from "../tools/manifestHistory.js"
import { renderRepairReport, repair } from "../tools/repair.js"
import { dumpTable, renderTableDump } from "../tools/tableDump.js"
import { renderVerifyReport, verify } from "../tools/verify.js"
import { ENCODINGS, printBytes } from "./encoding.js"
import { UsageError } from "./errors.js"
import { printLine } from "./output.js"
import * as Progress from "./progress.js"

/** `--encoding`: how keys and values are printed; by default text when printable, else hex. */
const encodingOption = Options.choice("encoding", ENCODINGS).pipe(
  Options.withDescription("Print keys and values as text (UTF-8), hex or base64 (default: text when every byte is printable ASCII, else hex with a 0x prefix)."),
  Options.optional
)

const formatOf = (encoding: Option.Option<(typeof ENCODINGS)[number]>): Format =>
  Option.match(encoding, { onNone: () => textOrHex, onSome: (e) => (bytes: Uint8Array) => printBytes(bytes, e) })

const dirArg = Args.text({ name: "dir" }).pipe(Args.withDescription("The database directory."))

const dumpTableCommand = Command.make(
  "dump-table",
  {
    file: Args.text({ name: "file" }).pipe(Args.withDescription("A table file (NNNNNN.sst).")),
    verify: Options.boolean("verify").pipe(
      Options.withDescription("Read every block and check it: checksums, key order inside and across blocks, index separators, the filter and the properties against the entries.")
    ),
    limit: Options.integer("limit").pipe(Options.withDescription("List at most this many entries (all by default)."), Options.optional),
    encoding: encodingOption
  },
  ({ encoding, file, limit, verify }) =>
    Effect.gen(function* () {
      const n = Option.getOrUndefined(limit)
      if (n !== undefined && n < 0) return yield* new UsageError({ message: `--limit must be 0 or more, got ${n}` })
      const dump = yield* dumpTable(file, { verify, ...(n === undefined ? {} : { limit: n }) })
      yield* printLine(renderTableDump(dump, formatOf(encoding)))
      yield* failOnDamage(dump.damage)
    })
).pipe(
  Command.withDescription(
    "Show a table file without opening the database: its properties, its index (a separator key and block handle per data block), its filter, and its entries (user key, sequence, put or delete, value). With --verify, every block is checked; damage is reported with the file offset of the block, and the exit code is 1."
  )
)

const dumpLogCommand = Command.make(
  "dump-log",
  {
    file: Args.text({ name: "file" }).pipe(Args.withDescription("A write-ahead log (NNNNNN.log) or a manifest (MANIFEST-NNNNNN).")),
    manifest: Options.boolean("manifest").pipe(Options.withDescription("Decode the records as version edits (the default for a file named MANIFEST-*).")),
    wal: Options.boolean("wal").pipe(Options.withDescription("Decode the records as write batches (the default for any other name).")),
    encoding: encodingOption
  },
  ({ encoding, file, manifest, wal }) =>
    Effect.gen(function* () {
      if (manifest && wal) return yield* new UsageError({ message: "--manifest and --wal exclude each other" })
      const kind: LogKind | undefined = manifest ? "manifest" : wal ? "wal" : undefined
      const dump = yield* dumpLog(file, kind === undefined ? {} : { kind })
      yield* printLine(renderLogDump(dump, formatOf(encoding)))
      yield* failOnDamage(dump.damage)
    })
).pipe(
  Command.withDescription(
    "Show the records of a write-ahead log (each write batch: its first sequence, then every put and delete with its key and value) or of a manifest (each version edit). A torn tail (a write cut short by a crash) is reported with its offset; damaged records are reported with theirs (exit code 1), and reading goes on at the next 32 KiB block."
  )
)

const manifestCommand = Command.make(
  "manifest",
  {
    path: Args.text({ name: "dir-or-file" }).pipe(Args.withDescription("A database directory (its CURRENT manifest is read) or a MANIFEST-NNNNNN file.")),
    encoding: encodingOption
  },
  ({ encoding, path }) =>
    Effect.gen(function* () {
      const history = yield* manifest(path)
      yield* printLine(renderManifestHistory(history, formatOf(encoding)))
      yield* failOnDamage(history.damage)
    })
).pipe(
  Command.withDescription(
    "Show a database's version history: every version edit of its manifest (tables added and removed per level, log number, next file number, last sequence, compaction pointers), then the final version's tables level by level."
  )
)

const verifyCommand = Command.make("verify", { dir: dirArg }, ({ dir }) =>
  Effect.scoped(
    Effect.gen(function* () {
      const progress = yield* Progress.make("verify")
      const report = yield* verify(dir, { onProgress: (p) => progress.update(p.done, p.total, p.file) })
      yield* printLine(renderVerifyReport(report))
      yield* failOnDamage(report.damage)
    })
  )).pipe(
    Command.withDescription(
      "Check a closed database without opening it: CURRENT and its manifest; every table the manifest names (present, of the recorded size, every block's checksum, entries in order, key range and counts as the manifest records them); every write-ahead log the database would replay. Tables the manifest does not name are listed as orphans. Prints a report; exit code 1 on damage. Fails if another process has the database open."
    )
  )

const repairCommand = Command.make("repair", { dir: dirArg }, ({ dir }) =>
  Effect.gen(function* () {
    const report = yield* repair(dir)
    yield* printLine(renderRepairReport(report))
  })).pipe(
    Command.withDescription(
      "Rebuild a database's manifest from the files in its directory (LevelDB's RepairDB): every readable table is kept (one with damaged blocks is rewritten with its readable entries), every write-ahead log is converted into a table, and a new manifest and CURRENT are written. Old manifests, logs and damaged tables are moved into lost/. Prints what was kept and what was lost. Fails if another process has the database open."
    )
  )

/** The offline tools, in the order `--help` lists them. */
export const toolCommands = [verifyCommand, repairCommand, dumpTableCommand, dumpLogCommand, manifestCommand] as const

/** Their names. */
export const toolCommandNames: ReadonlyArray<string> = ["verify", "repair", "dump-table", "dump-log", "manifest"]
