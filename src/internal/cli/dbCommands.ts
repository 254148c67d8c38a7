/**
 * The commands on a database directory: `get`, `put`, `delete`, `scan`, `stats`, `compact`,
 * `approximate-size`, `checkpoint` and `backup`. Each opens the database (stratadb's Node file
 * system, background work inline and no background compaction, so a command does what it is
 * asked and nothing else), does its work, and closes it; only `put --create` makes a database in
 * a directory that holds none.
 */
import { Args, Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform/FileSystem"
import { Path } from "@effect/platform/Path"
import { Chunk, Effect, Fiber, Layer, Option, Schedule, Stream } from "effect"
import * as BackgroundWork from "../../BackgroundWork.js"
import { Db, type DbService, type ScanOptions } from "../../Db.js"
import * as NodeSyncFileSystem from "../../NodeSyncFileSystem.js"
import { type DbStats, format as formatStats } from "../../Stats.js"
import { type Encoding, encodingOptions, type Encodings, parseBytes, printBytes } from "./encoding.js"
import { CommandFailed, UsageError } from "./errors.js"
import { printLine, writeStdout } from "./output.js"
import * as Progress from "./progress.js"

/** The database directory, the first argument of every command here. */
const dirArg = Args.text({ name: "dir" }).pipe(Args.withDescription("The database directory."))

/**
 * Runs `f` with the database in `directory` open. A directory without a database is an error
 * (before anything is created) unless `create`.
 */
export const withDatabase = <A, E>(
  directory: string,
  f: (db: DbService) => Effect.Effect<A, E>,
  options: { readonly create?: boolean; readonly creatable?: boolean } = {}
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const path = yield* Path
    const create = options.create === true
    if (!create && !(yield* fs.exists(path.join(directory, "CURRENT")))) {
      const what = (yield* fs.exists(directory)) ? "holds no database (no CURRENT file)" : "does not exist"
      const hint = options.creatable === true ? " (--create makes a new database)" : ""
      return yield* new CommandFailed({ message: `${directory} ${what}${hint}` })
    }
    return yield* Effect.flatMap(Db, f).pipe(
      Effect.provide(Db.layer({ directory, createIfMissing: create, backgroundCompaction: false }).pipe(Layer.provide(BackgroundWork.inline)))
    )
  }).pipe(Effect.provide(NodeSyncFileSystem.layer))

/** An argument or option value as bytes in `encoding`; a malformed one fails as a usage error. */
const bytesOf = (input: string, encoding: Encoding, what: string): Effect.Effect<Uint8Array, UsageError> => {
  const bytes = parseBytes(input, encoding, what)
  return bytes instanceof UsageError ? Effect.fail(bytes) : Effect.succeed(bytes)
}

const optionalBytes = (input: Option.Option<string>, encoding: Encoding, what: string) =>
  Option.match(input, { onNone: () => Effect.succeed(undefined), onSome: (s) => bytesOf(s, encoding, what) })

const keyArg = Args.text({ name: "key" }).pipe(Args.withDescription("The key, in the key encoding (text unless --key-encoding or --encoding says otherwise)."))

// ---------------------------------------------------------------------------------------------
// get, put, delete

const get = Command.make("get", { dir: dirArg, key: keyArg, encodings: encodingOptions }, ({ dir, encodings, key }) =>
  Effect.gen(function* () {
    const k = yield* bytesOf(key, encodings.key, "the key")
    const value = yield* withDatabase(dir, (db) => db.get(k))
    if (Option.isNone(value)) return yield* new CommandFailed({ message: `key not found: ${key}` })
    yield* printLine(printBytes(value.value, encodings.value))
  })).pipe(Command.withDescription("Print the value of a key (in the value encoding). A key that is not there: a message on stderr, exit code 1."))

const put = Command.make(
  "put",
  {
    dir: dirArg,
    key: keyArg,
    value: Args.text({ name: "value" }).pipe(Args.withDescription("The value, in the value encoding.")),
    create: Options.boolean("create").pipe(Options.withDescription("Create the database if the directory holds none.")),
    encodings: encodingOptions
  },
  ({ create, dir, encodings, key, value }) =>
    Effect.gen(function* () {
      const k = yield* bytesOf(key, encodings.key, "the key")
      const v = yield* bytesOf(value, encodings.value, "the value")
      yield* withDatabase(dir, (db) => db.put(k, v, { sync: true }), { create, creatable: true })
    })
).pipe(Command.withDescription("Set a key to a value, durably (synced before the command returns). Prints nothing."))

const del = Command.make("delete", { dir: dirArg, key: keyArg, encodings: encodingOptions }, ({ dir, encodings, key }) =>
  Effect.gen(function* () {
    const k = yield* bytesOf(key, encodings.key, "the key")
    yield* withDatabase(dir, (db) => db.delete(k, { sync: true }))
  })).pipe(Command.withDescription("Delete a key, durably (deleting a key that is not there is not an error). Prints nothing."))

// ---------------------------------------------------------------------------------------------
// scan

const text = (name: string, description: string) => Options.text(name).pipe(Options.withDescription(description), Options.optional)

const scan = Command.make(
  "scan",
  {
    dir: dirArg,
    prefix: text("prefix", "Only keys starting with this."),
    from: text("from", "Start at this key (inclusive)."),
    to: text("to", "Stop before this key (exclusive)."),
    reverse: Options.boolean("reverse").pipe(Options.withDescription("From the last key to the first.")),
    limit: Options.integer("limit").pipe(Options.withDescription("At most this many entries."), Options.optional),
    keysOnly: Options.boolean("keys-only").pipe(Options.withDescription("Print keys only.")),
    encodings: encodingOptions
  },
  ({ dir, encodings, from, keysOnly, limit, prefix, reverse, to }) =>
    Effect.gen(function* () {
      if (Option.isSome(limit) && limit.value < 1) return yield* new UsageError({ message: `--limit must be at least 1, got ${limit.value}` })
      const options: ScanOptions = {
        prefix: yield* optionalBytes(prefix, encodings.key, "--prefix"),
        gte: yield* optionalBytes(from, encodings.key, "--from"),
        lt: yield* optionalBytes(to, encodings.key, "--to"),
        reverse,
        limit: Option.getOrUndefined(limit),
        values: !keysOnly
      }
      yield* withDatabase(dir, (db) =>
        db.scan(options).pipe(
          Stream.runForEachChunk((chunk) =>
            writeStdout(
              Chunk.toReadonlyArray(chunk)
                .map((e) => formatEntry(e.key!, e.value, encodings))
                .join("")
            )
          )
        ))
    })
).pipe(
  Command.withDescription(
    "Print the entries in key order, one per line: the key, a tab, the value (or the key only with --keys-only), in their encodings. --from/--to bound the keys [from, to); --prefix, --reverse and --limit as named."
  )
)

const formatEntry = (key: Uint8Array, value: Uint8Array | undefined, encodings: Encodings): string =>
  value === undefined ? `${printBytes(key, encodings.key)}\n` : `${printBytes(key, encodings.key)}\t${printBytes(value, encodings.value)}\n`

// ---------------------------------------------------------------------------------------------
// stats, approximate-size

const stats = Command.make(
  "stats",
  { dir: dirArg, json: Options.boolean("json").pipe(Options.withDescription("Print the stats object as JSON instead of the page.")) },
  ({ dir, json }) =>
    withDatabase(dir, (db) => Effect.flatMap(db.stats, (s) => printLine(json ? JSON.stringify(s, null, 2) : formatStats(s).trimEnd())))
).pipe(
  Command.withDescription(
    "Print the database's stats page (leveldb.stats' shape: files, size and score per level, write amplification, background work, cache, memory, recovery). The counters run from this command's open."
  )
)

const approximateSize = Command.make(
  "approximate-size",
  {
    dir: dirArg,
    from: text("from", "Start of the range (inclusive; default: the first key)."),
    to: text("to", "End of the range (exclusive; default: past the last key)."),
    includeMemtables: Options.boolean("include-memtables").pipe(Options.withDescription("Count the entries still in memtables (the log) too.")),
    encodings: encodingOptions
  },
  ({ dir, encodings, from, includeMemtables, to }) =>
    Effect.gen(function* () {
      const start = yield* optionalBytes(from, encodings.key, "--from")
      const end = yield* optionalBytes(to, encodings.key, "--to")
      yield* withDatabase(dir, (db) => Effect.flatMap(db.approximateSize(start, end, { includeMemtables }), (n) => printLine(String(n))))
    })
).pipe(
  Command.withDescription(
    "Print the approximate bytes on disk of the keys in [from, to): whole tables inside the range, a share of the tables straddling its ends (by their indexes)."
  )
)

// ---------------------------------------------------------------------------------------------
// compact

/**
 * An estimate of the bytes a manual compaction of everything reads (leveled): level by level
 * from the top, what came down so far and the next level's tables. Scaled by `fraction`, the
 * range's share of the bytes. Only for the progress bar, which stops at 99% until the work ends.
 */
export const estimateCompactionBytes = (levels: ReadonlyArray<number>, fraction: number): number => {
  let bottom = levels.length - 1
  while (bottom > 0 && levels[bottom] === 0) bottom--
  bottom = Math.max(bottom, 1)
  let above = 0
  let total = 0
  for (let level = 0; level < bottom; level++) {
    above += levels[level] ?? 0
    if (above > 0) total += above + (levels[level + 1] ?? 0)
  }
  return total * fraction
}

/** `n thing` or `n things`. */
const count = (n: number, thing: string): string => `${n} ${thing}${n === 1 ? "" : "s"}`

const levelsOf = (s: DbStats) => s.levels.map((l) => l.bytes)
const tablesOf = (s: DbStats) => s.levels.reduce((sum, l) => sum + l.tables, 0)
const tableBytesOf = (s: DbStats) => s.levels.reduce((sum, l) => sum + l.bytes, 0)

const compact = Command.make(
  "compact",
  {
    dir: dirArg,
    from: text("from", "First key of the range (inclusive; default: the first key)."),
    to: text("to", "Last key of the range (inclusive; default: the last key)."),
    encodings: encodingOptions
  },
  ({ dir, encodings, from, to }) =>
    Effect.gen(function* () {
      const start = yield* optionalBytes(from, encodings.key, "--from")
      const end = yield* optionalBytes(to, encodings.key, "--to")
      yield* withDatabase(dir, (db) =>
        Effect.scoped(
          Effect.gen(function* () {
            const before = yield* db.stats
            const inRange = start === undefined && end === undefined ? tableBytesOf(before) : yield* db.approximateSize(start, end)
            const all = tableBytesOf(before)
            const estimate = estimateCompactionBytes(levelsOf(before), all === 0 ? 0 : Math.min(1, inRange / all))
            const progress = yield* Progress.make("compacting")
            const report = Effect.flatMap(db.stats, (s) => {
              const read = s.compactionBytesRead - before.compactionBytesRead
              const detail = `${count(s.compactions - before.compactions, "compaction")}, ${Progress.formatBytes(read)} read`
              return estimate > 0 ? progress.update(Math.min(read, estimate * 0.99), estimate, detail) : progress.update(read, undefined, detail)
            })
            const reporter = yield* Effect.fork(Effect.repeat(report, Schedule.spaced("100 millis")))
            yield* db.compactRange(start, end)
            yield* Fiber.interrupt(reporter)
            const after = yield* db.stats
            yield* printLine(
              `compacted ${dir}: ${count(after.compactions - before.compactions, "compaction")}, ` +
                `${Progress.formatBytes(after.compactionBytesRead - before.compactionBytesRead)} read, ` +
                `${Progress.formatBytes(after.compactionBytesWritten - before.compactionBytesWritten)} written; ` +
                `tables ${tablesOf(before)} -> ${tablesOf(after)}, ${Progress.formatBytes(tableBytesOf(before))} -> ${Progress.formatBytes(tableBytesOf(after))}`
            )
          })
        ))
    })
).pipe(
  Command.withDescription(
    "Compact the tables holding keys in [from, to] (everything by default) down to one level: old versions and deleted keys go. A progress bar on stderr when it is a terminal; a summary line on stdout."
  )
)

// ---------------------------------------------------------------------------------------------
// checkpoint, backup

const copyCommand = (name: "checkpoint" | "backup", link: boolean, description: string) =>
  Command.make(
    name,
    {
      dir: dirArg,
      target: Args.text({ name: "target" }).pipe(Args.withDescription("The new directory (missing, or empty) to copy the database into; outside the database's directory."))
    },
    ({ dir, target }) =>
      withDatabase(dir, (db) =>
        Effect.scoped(
          Effect.gen(function* () {
            const progress = yield* Progress.make(name === "checkpoint" ? "checkpoint" : "backup")
            const result = yield* db.checkpoint(target, {
              link,
              onProgress: (p) =>
                progress.update(p.bytes, p.totalBytes, `${p.tables}/${p.totalTables} tables, ${Progress.formatBytes(p.bytes)}`)
            })
            yield* printLine(
              `${name} of ${dir} in ${result.directory}: ${count(result.tables, "table")}, ${Progress.formatBytes(result.bytes)} ` +
                `(${result.linked} linked, ${result.copied} copied), up to sequence ${result.sequence}`
            )
          })
        ))
  ).pipe(Command.withDescription(description))

const checkpoint = copyCommand(
  "checkpoint",
  true,
  "Make a consistent copy of the database in a new directory while it stays usable: the memtable is flushed, the tables hard-linked (copied where the file system cannot link), a fresh manifest written. The copy opens as a database holding every write made before the command."
)

const backup = copyCommand(
  "backup",
  false,
  "The same copy as checkpoint, with every table copied rather than linked: a backup that shares no file with the database (another disk, or protection from damage to the originals)."
)

/** The commands on a database directory, in the order `--help` lists them. */
export const dbCommands = [get, put, del, scan, stats, compact, approximateSize, checkpoint, backup] as const

/** Their names. */
export const dbCommandNames: ReadonlyArray<string> = ["get", "put", "delete", "scan", "stats", "compact", "approximate-size", "checkpoint", "backup"]
