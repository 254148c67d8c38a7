/**
 * Database options, their documented defaults and their validation. A bad option is an
 * `InvalidArgument` at open.
 *
 * `DbOptionsSchema` is the one place that says, for each option, its type, its range and its
 * default: `resolve` decodes with it, `defaults` is what it fills in, and the `InvalidArgument` of a
 * bad option is its parse error, one `path: message` per bad option.
 *
 * The memory budget (`memoryBudget`) is the one default that depends on what else was given: the
 * parts of the budget the user did not set are derived from it. Once the options are decoded, which
 * ones were given is lost, so the schema derives them first, from the options as given
 * (`withBudgetDefaults`), then decodes as usual, then checks the parts fit in the budget.
 */
import { Effect, Either, Option, ParseResult, Schema } from "effect"
import { InvalidArgument } from "./errors.js"
import { unavailable } from "./internal/table/compression.js"
import { isPlainObject, reasonOf } from "./internal/validate.js"

export type CompactionStrategy = "leveled" | "tiered"

/**
 * How table data blocks are compressed (doc/table_format.md, "Compressed blocks"). A block is
 * stored compressed only when that saves at least an eighth of it.
 * - `"lz4"` (default): LZ4, through the native `lz4-napi` binding when it is installed (an optional
 *   dependency), else stratadb's JavaScript codec; the same bytes either way.
 * - `"zlib"`: deflate (Node's zlib, level 1): about a fifth smaller than LZ4 on the benchmark's
 *   values, and several times slower to read back.
 * - `"snappy"`: Snappy, through the optional native package `snappy`; choosing it where the
 *   package is not installed is `InvalidArgument`.
 * - `"none"`: blocks stored raw.
 * Tables keep the compression they were written with: changing the option affects new tables only,
 * and every table opens whatever the option says.
 */
export type Compression = "none" | "lz4" | "zlib" | "snappy"

/**
 * What opening does with a WAL that does not end cleanly (doc/log_format.md, after RocksDB's
 * `WALRecoveryMode`). A torn tail is a record cut short by the end of the file (or a tail of
 * zeros): a write a crash interrupted, never acknowledged as synced. Damage is a complete record
 * that fails its checksum, or fragments out of order.
 * - `"tolerateTornTail"` (default): a torn tail is dropped; damage is `Corruption` and the open
 *   changes nothing.
 * - `"absoluteConsistency"`: a torn tail is `Corruption` too.
 * - `"pointInTime"`: replay stops at the first damage; the rest of that log and every later log
 *   are dropped (moved into `lost/`, not deleted) and reported in `stats.recovery`. The database
 *   opens at the last consistent point before the damage: writes after it, synced or not, are lost.
 */
export type WalRecoveryMode = "tolerateTornTail" | "absoluteConsistency" | "pointInTime"

export interface DbOptions {
  /** Directory holding the database's files. Created if missing. */
  readonly directory: string
  /** Memtable size that triggers a flush to an L0 table. Default 4 MiB, or derived from `memoryBudget`. */
  readonly writeBufferSize?: number
  /** Immutable memtables allowed before writers wait for the flusher. Default 2. */
  readonly maxImmutableMemtables?: number
  /** Uncompressed size of a table data block. Default 4 KiB. */
  readonly blockSize?: number
  /** Keys between restart points in a block. Default 16. */
  readonly blockRestartInterval?: number
  /** Bloom filter bits per key; 0 disables filters. Default 10. */
  readonly bloomBitsPerKey?: number
  /** Block cache capacity in bytes (shared by all tables). Default 8 MiB, or derived from `memoryBudget`. */
  readonly blockCacheSize?: number
  /** Open table readers kept. Default 1000 (LevelDB's `max_open_files`). */
  readonly maxOpenTables?: number
  /** Largest key in bytes. Default 64 KiB. */
  readonly maxKeySize?: number
  /** Largest value in bytes. Default 64 MiB. */
  readonly maxValueSize?: number
  /** How table data blocks are compressed (see `Compression`). Default "lz4". */
  readonly compression?: Compression
  /**
   * The compression of each level, by level (RocksDB's `compression_per_level`): entry i for
   * tables written into level i, the last entry for the levels past the end, e.g.
   * `["none", "none", "lz4"]`. Default `[]`: `compression` for every level.
   */
  readonly compressionPerLevel?: ReadonlyArray<Compression>
  /** Compaction strategy. Default "leveled". */
  readonly compaction?: CompactionStrategy
  /** L0 table count that starts a compaction into L1. Default 4. */
  readonly level0CompactionTrigger?: number
  /** L0 table count at which each write is slowed down. Default 8. */
  readonly level0SlowdownTrigger?: number
  /** L0 table count at which writes wait for compaction. Default 12. */
  readonly level0StopTrigger?: number
  /** Target bytes of L1; level n+1 targets `levelSizeMultiplier` times level n. Default 16 MiB. */
  readonly maxBytesForLevelBase?: number
  /** Growth factor between levels. Default 10. */
  readonly levelSizeMultiplier?: number
  /** Size at which compaction output tables are cut. Default 2 MiB. */
  readonly targetFileSize?: number
  /** Number of levels. Default 7. */
  readonly numLevels?: number
  /** Size-tiered: tables whose sizes lie within this ratio of each other form a tier. Default 2. */
  readonly tieredSizeRatio?: number
  /** Size-tiered: tables in a tier that start a merge. Default 4. */
  readonly tieredMinMergeWidth?: number
  /** Runs compaction in the background. Default true (tests may turn it off). */
  readonly backgroundCompaction?: boolean
  /**
   * Leveled: a table that point reads keep looking through without finding their key is compacted
   * into the level below once it has cost `max(100, size / 16 KiB)` such reads (LevelDB's seek
   * compaction), so a database that stops writing settles into fewer levels. Default true.
   */
  readonly seekCompaction?: boolean
  /** What opening does with a damaged or torn WAL (see `WalRecoveryMode`). Default "tolerateTornTail". */
  readonly walRecoveryMode?: WalRecoveryMode
  /** Creates the database when the directory holds none. Default true; false makes that `InvalidArgument`. */
  readonly createIfMissing?: boolean
  /** Refuses (`InvalidArgument`) to open a database that already exists. Default false. */
  readonly errorIfExists?: boolean
  /**
   * Default true: a close flushes the memtables when they hold 64 KiB or more, so the next open
   * does not replay them (a crash still can lose nothing: the logs stay until the flush is in the
   * manifest). false: a close leaves them in their logs, as LevelDB does (RocksDB's
   * `avoid_flush_during_shutdown`).
   */
  readonly flushOnClose?: boolean
  /**
   * One bound, in bytes, on the memory the engine keeps: the memtables (`writeBufferSize` × (1 +
   * `maxImmutableMemtables`)), the block cache (`blockCacheSize`) and the metadata open tables keep
   * resident (filter, index, properties). Default 0: no budget, each part bounded by its own option
   * (and the table metadata only by `maxOpenTables`). When > 0, a part the user sets keeps its
   * value and the others are derived (`withBudgetDefaults`): the memtables get a quarter of the
   * budget, the block cache a half, the table metadata the rest. Parts that do not fit (the parts
   * set exceed the budget, or a budget too small for the least memtables) are `InvalidArgument`.
   * `stats.memory` reports each part.
   */
  readonly memoryBudget?: number
}

/** The options with every default filled in: what the engine runs on. */
export type ResolvedOptions = { readonly [K in keyof DbOptions]-?: NonNullable<DbOptions[K]> }

/** A value in a message without running the caller's code (`String(x)` calls `toString`). */
const describeValue = (x: unknown): string =>
  typeof x === "string" ? JSON.stringify(x) : x === null || typeof x !== "object" && typeof x !== "function" ? String(x) : typeof x

/**
 * The message of a field whose value is not `what`. It overrides the inner schemas' messages (a
 * string given for an integer says the same as 1.5 does) and names the value without running the
 * caller's code.
 */
const expected = (what: string) => (issue: ParseResult.ParseIssue) => ({
  message: `expected ${what}, got ${describeValue(issue.actual)}`,
  override: true
})

/**
 * An option of type `schema`, `fallback` when absent or undefined. Absent, undefined or `schema`
 * is one union, so a bad value is one issue with one message (`what` the value should be).
 */
const withDefault = <A, I>(schema: Schema.Schema<A, I>, what: string, fallback: A) =>
  Schema.optionalToRequired(Schema.UndefinedOr(schema).annotations({ message: expected(what) }), Schema.typeSchema(schema), {
    decode: (given) => {
      const value = Option.getOrUndefined(given)
      return value === undefined ? fallback : value
    },
    encode: Option.some
  })

/** An integer option in [min, max]. */
const integer = (min: number, max: number, fallback: number) =>
  withDefault(Schema.Int.pipe(Schema.between(min, max)), `an integer in [${min}, ${max}]`, fallback)

/** A boolean option. */
const flag = (fallback: boolean) => withDefault(Schema.Boolean, "a boolean", fallback)

/** An option that is one of `literals`. */
const oneOf = <const L extends ReadonlyArray<string>>(literals: L, fallback: L[number]) =>
  withDefault(
    Schema.Literal(...literals),
    literals.map((l) => JSON.stringify(l)).join(", ").replace(/, ([^,]*)$/, " or $1"),
    fallback
  )

const MiB = 1024 * 1024

const COMPRESSIONS = ["none", "lz4", "zlib", "snappy"] as const satisfies ReadonlyArray<Compression>
const compressionOption = oneOf(COMPRESSIONS, "lz4")

/**
 * The compression of tables written into `level` (`compressionPerLevel`, else `compression`).
 */
export const compressionForLevel = (
  options: Pick<ResolvedOptions, "compression" | "compressionPerLevel">,
  level: number
): Compression => {
  const perLevel = options.compressionPerLevel
  return perLevel.length === 0 ? options.compression : perLevel[Math.min(level, perLevel.length - 1)]!
}

/** The ranges of the sizes the memory budget derives (clamped into them). */
const WRITE_BUFFER_SIZE = { min: 4 * 1024, max: 1024 * MiB } as const
const BLOCK_CACHE_SIZE = { min: 0, max: 64 * 1024 * MiB } as const

/** The options the memory budget reads, declared once: `DbOptionsSchema` and `withBudgetDefaults` share them. */
const writeBufferSizeOption = integer(WRITE_BUFFER_SIZE.min, WRITE_BUFFER_SIZE.max, 4 * MiB)
const maxImmutableMemtablesOption = integer(1, 64, 2)
const blockCacheSizeOption = integer(BLOCK_CACHE_SIZE.min, BLOCK_CACHE_SIZE.max, 8 * MiB)
const memoryBudgetOption = integer(0, 2 ** 50, 0)

/**
 * The shares of a memory budget: memtables, block cache, and the metadata of open tables. The
 * table metadata is not an option: it gets what the other two leave (`tableMetadataBudget`).
 */
const MEMTABLES_SHARE = 1 / 4
const BLOCK_CACHE_SHARE = 1 / 2
const TABLE_METADATA_SHARE = 1 / 4

/** What the budget reads of the options, decoded by the options' own schemas (other fields ignored). */
const decodeBudgetInputs = Schema.decodeUnknownOption(
  Schema.Struct({
    memoryBudget: memoryBudgetOption,
    maxImmutableMemtables: maxImmutableMemtablesOption,
    writeBufferSize: writeBufferSizeOption,
    blockCacheSize: blockCacheSizeOption
  })
)

/** The most bytes the memtables hold: the mutable one and every frozen one, each `writeBufferSize`. */
const memtablesBytes = (o: Pick<ResolvedOptions, "writeBufferSize" | "maxImmutableMemtables">): number =>
  o.writeBufferSize * (1 + o.maxImmutableMemtables)

const clamp = (x: number, range: { readonly min: number; readonly max: number }) => Math.min(range.max, Math.max(range.min, x))

/**
 * The options as given, with `writeBufferSize` and `blockCacheSize` derived from `memoryBudget`
 * when it is > 0 and they were not given (absent or undefined, as for any default). What the
 * parts given leave of the budget is shared by the parts not given (the table metadata always one
 * of them) in proportion to their shares, each at most its share of the budget: with nothing else
 * given, the memtables get a quarter (`writeBufferSize` = floor(budget / 4 / (1 +
 * maxImmutableMemtables))), the block cache a half. Each is then clamped into its option's range,
 * so a budget too small for the least memtables fails the check that follows decoding.
 *
 * Anything this cannot read (not an object, a budget input that is not a valid option) is passed
 * on unchanged, for the schema to report.
 */
const withBudgetDefaults = (given: unknown): unknown => {
  if (!isPlainObject(given)) return given
  const inputs = decodeBudgetInputs(given)
  if (Option.isNone(inputs) || inputs.value.memoryBudget === 0) return given
  const { blockCacheSize, maxImmutableMemtables, memoryBudget: budget, writeBufferSize } = inputs.value
  const memtablesGiven = given.writeBufferSize !== undefined
  const blockCacheGiven = given.blockCacheSize !== undefined
  if (memtablesGiven && blockCacheGiven) return given
  const memtableCount = 1 + maxImmutableMemtables
  const left = Math.max(0, budget - (memtablesGiven ? memtablesBytes({ writeBufferSize, maxImmutableMemtables }) : 0) - (blockCacheGiven ? blockCacheSize : 0))
  const sharesLeft = TABLE_METADATA_SHARE + (memtablesGiven ? 0 : MEMTABLES_SHARE) + (blockCacheGiven ? 0 : BLOCK_CACHE_SHARE)
  const scale = Math.min(1, left / (sharesLeft * budget))
  const derived: Record<string, unknown> = { ...given }
  if (!memtablesGiven) derived.writeBufferSize = clamp(Math.floor((budget * MEMTABLES_SHARE * scale) / memtableCount), WRITE_BUFFER_SIZE)
  if (!blockCacheGiven) derived.blockCacheSize = clamp(Math.floor(budget * BLOCK_CACHE_SHARE * scale), BLOCK_CACHE_SIZE)
  return derived
}

/**
 * The options as given, before anything is decoded: any input, typed as what it should be
 * (`DecodedOptions`, after it, checks it is).
 */
const GivenOptions = Schema.declare((_: unknown): _ is DbOptions => true, { identifier: "DbOptions" })

/**
 * Every option: its type, its range and its default (the defaults are documented on `DbOptions`
 * and in the README's Options table). Typed against `DbOptions` and `ResolvedOptions`, so the
 * compiler keeps the three in step.
 */
const DecodedOptions: Schema.Schema<ResolvedOptions, DbOptions> = Schema.Struct({
  directory: Schema.propertySignature(
    Schema.String.pipe(Schema.minLength(1)).annotations({ message: expected("a non-empty string") })
  ).annotations({ missingMessage: () => "expected a non-empty string, got nothing" }),
  writeBufferSize: writeBufferSizeOption,
  maxImmutableMemtables: maxImmutableMemtablesOption,
  blockSize: integer(256, MiB, 4 * 1024),
  blockRestartInterval: integer(1, 1024, 16),
  bloomBitsPerKey: integer(0, 64, 10),
  blockCacheSize: blockCacheSizeOption,
  maxOpenTables: integer(1, 1_000_000, 1000),
  maxKeySize: integer(1, MiB, 64 * 1024),
  maxValueSize: integer(0, 1024 * MiB, 64 * MiB),
  compression: compressionOption,
  compressionPerLevel: withDefault(
    Schema.Array(Schema.Literal(...COMPRESSIONS)),
    `an array of ${COMPRESSIONS.map((c) => JSON.stringify(c)).join(", ")}`,
    []
  ),
  compaction: oneOf(["leveled", "tiered"], "leveled"),
  level0CompactionTrigger: integer(1, 1000, 4),
  level0SlowdownTrigger: integer(1, 1000, 8),
  level0StopTrigger: integer(1, 1000, 12),
  maxBytesForLevelBase: integer(1024, 2 ** 50, 16 * MiB),
  levelSizeMultiplier: integer(2, 1000, 10),
  targetFileSize: integer(1024, 2 ** 40, 2 * MiB),
  numLevels: integer(2, 20, 7),
  tieredSizeRatio: integer(1, 1000, 2),
  tieredMinMergeWidth: integer(2, 1000, 4),
  backgroundCompaction: flag(true),
  seekCompaction: flag(true),
  walRecoveryMode: oneOf(["tolerateTornTail", "absoluteConsistency", "pointInTime"], "tolerateTornTail"),
  createIfMissing: flag(true),
  errorIfExists: flag(false),
  flushOnClose: flag(true),
  memoryBudget: memoryBudgetOption
}).pipe(
  Schema.filter((o) =>
    o.level0CompactionTrigger <= o.level0SlowdownTrigger && o.level0SlowdownTrigger <= o.level0StopTrigger
      ? undefined
      : "need level0CompactionTrigger <= level0SlowdownTrigger <= level0StopTrigger, got " +
        `${o.level0CompactionTrigger}, ${o.level0SlowdownTrigger}, ${o.level0StopTrigger}`
  ),
  Schema.filter((o) => {
    for (const [path, c] of [["compression", o.compression] as const, ...o.compressionPerLevel.map((c, i) => [`compressionPerLevel.${i}`, c] as const)]) {
      const why = unavailable(c)
      if (why !== undefined) return { path: path.split("."), message: why }
    }
    return undefined
  }),
  Schema.filter((o) => {
    if (o.memoryBudget === 0) return undefined
    const memtables = memtablesBytes(o)
    if (memtables + o.blockCacheSize <= o.memoryBudget) return undefined
    return {
      path: ["memoryBudget"],
      message:
        `${o.memoryBudget} bytes cannot hold the memtables (writeBufferSize ${o.writeBufferSize} × (1 + maxImmutableMemtables ` +
        `${o.maxImmutableMemtables}) = ${memtables}) and the block cache (blockCacheSize ${o.blockCacheSize}): ` +
        `${memtables + o.blockCacheSize} bytes`
    }
  })
)

/** The options decoded: the budget's defaults derived from the options as given, then every option decoded and checked. */
export const DbOptionsSchema: Schema.Schema<ResolvedOptions, DbOptions> = Schema.compose(
  Schema.transform(GivenOptions, GivenOptions, { strict: true, decode: (given) => withBudgetDefaults(given) as DbOptions, encode: (o) => o }),
  DecodedOptions
)

/**
 * The bytes the metadata of open tables (filters, indexes, properties) may keep resident: what
 * the memory budget leaves after the memtables and the block cache (a quarter of it when neither
 * was set); unbounded without a budget (`maxOpenTables` still bounds the tables).
 */
export const tableMetadataBudget = (
  options: Pick<ResolvedOptions, "memoryBudget" | "writeBufferSize" | "maxImmutableMemtables" | "blockCacheSize">
): number =>
  options.memoryBudget === 0
    ? Number.POSITIVE_INFINITY
    : options.memoryBudget - memtablesBytes(options) - options.blockCacheSize

/** The defaults, as the schema fills them in (exported as `defaultOptions`). */
export const defaults: Omit<ResolvedOptions, "directory"> = (() => {
  const { directory: _directory, ...rest } = Schema.decodeSync(DbOptionsSchema)({ directory: "." })
  return Object.freeze(rest)
})()

const invalid = (description: string) => new InvalidArgument({ method: "open", description })

/**
 * The options as given, each own enumerable field read once inside a guard: a throwing getter or
 * Proxy trap is an `InvalidArgument`, and a getter is not asked twice (it could answer differently).
 * The copy has no prototype, so an own `__proto__` option is an unknown option like any other.
 */
const readOwn = (options: unknown): Record<string, unknown> | InvalidArgument => {
  try {
    if (!isPlainObject(options)) return invalid("options must be a plain object")
    const values: Record<string, unknown> = Object.create(null)
    for (const key of Object.keys(options)) values[key] = options[key]
    return values
  } catch (e) {
    return invalid(`reading the options threw: ${reasonOf(e)}`)
  }
}

/** Every issue (not only the first), an unknown option as such. */
const decode = Schema.decodeUnknownEither(DbOptionsSchema, { errors: "all", onExcessProperty: "error" })

/** A parse error as one line: `path: message` per issue, in the order the schema found them. */
const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const message = issue._tag === "Unexpected" ? "unknown option" : issue.message
      return issue.path.length === 0 ? message : `${issue.path.map(String).join(".")}: ${message}`
    })
    .join("; ")

/**
 * Fills in defaults and validates: every number an integer in range, the enums and booleans, no
 * unknown option, thresholds ordered. Reads the caller's object once (`readOwn`); the schema
 * decodes that copy.
 */
export const resolve = (options: DbOptions): Effect.Effect<ResolvedOptions, InvalidArgument> =>
  Effect.suspend(() => {
    const given = readOwn(options)
    if (given instanceof InvalidArgument) return Effect.fail(given)
    return Either.match(decode(given), {
      onLeft: (error) => Effect.fail(invalid(describeParseError(error))),
      onRight: Effect.succeed
    })
  })
