/**
 * Database options, their documented defaults and their validation. A bad option is an
 * `InvalidArgument` at open.
 */
import { Effect } from "effect"
import { InvalidArgument } from "./errors.js"
import { isPlainObject, reasonOf } from "./internal/validate.js"

export type CompactionStrategy = "leveled" | "tiered"

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
  /** Memtable size that triggers a flush to an L0 table. Default 4 MiB. */
  readonly writeBufferSize?: number
  /** Immutable memtables allowed before writers wait for the flusher. Default 2. */
  readonly maxImmutableMemtables?: number
  /** Uncompressed size of a table data block. Default 4 KiB. */
  readonly blockSize?: number
  /** Keys between restart points in a block. Default 16. */
  readonly blockRestartInterval?: number
  /** Bloom filter bits per key; 0 disables filters. Default 10. */
  readonly bloomBitsPerKey?: number
  /** Block cache capacity in bytes (shared by all tables). Default 8 MiB. */
  readonly blockCacheSize?: number
  /** Open table readers kept. Default 500. */
  readonly maxOpenTables?: number
  /** Largest key in bytes. Default 64 KiB. */
  readonly maxKeySize?: number
  /** Largest value in bytes. Default 64 MiB. */
  readonly maxValueSize?: number
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
  /** What opening does with a damaged or torn WAL (see `WalRecoveryMode`). Default "tolerateTornTail". */
  readonly walRecoveryMode?: WalRecoveryMode
  /** Creates the database when the directory holds none. Default true; false makes that `InvalidArgument`. */
  readonly createIfMissing?: boolean
  /** Refuses (`InvalidArgument`) to open a database that already exists. Default false. */
  readonly errorIfExists?: boolean
}

export type ResolvedOptions = { readonly [K in keyof DbOptions]-?: NonNullable<DbOptions[K]> }

export const defaults: Omit<ResolvedOptions, "directory"> = {
  writeBufferSize: 4 * 1024 * 1024,
  maxImmutableMemtables: 2,
  blockSize: 4 * 1024,
  blockRestartInterval: 16,
  bloomBitsPerKey: 10,
  blockCacheSize: 8 * 1024 * 1024,
  maxOpenTables: 500,
  maxKeySize: 64 * 1024,
  maxValueSize: 64 * 1024 * 1024,
  compaction: "leveled",
  level0CompactionTrigger: 4,
  level0SlowdownTrigger: 8,
  level0StopTrigger: 12,
  maxBytesForLevelBase: 16 * 1024 * 1024,
  levelSizeMultiplier: 10,
  targetFileSize: 2 * 1024 * 1024,
  numLevels: 7,
  tieredSizeRatio: 2,
  tieredMinMergeWidth: 4,
  backgroundCompaction: true,
  walRecoveryMode: "tolerateTornTail",
  createIfMissing: true,
  errorIfExists: false
}

type Rule = readonly [min: number, max: number]
const integerRules: { readonly [K in keyof typeof defaults]?: Rule } = {
  writeBufferSize: [4 * 1024, 1024 * 1024 * 1024],
  maxImmutableMemtables: [1, 64],
  blockSize: [256, 1024 * 1024],
  blockRestartInterval: [1, 1024],
  bloomBitsPerKey: [0, 64],
  blockCacheSize: [0, 64 * 1024 * 1024 * 1024],
  maxOpenTables: [1, 1_000_000],
  maxKeySize: [1, 1024 * 1024],
  maxValueSize: [0, 1024 * 1024 * 1024],
  level0CompactionTrigger: [1, 1000],
  level0SlowdownTrigger: [1, 1000],
  level0StopTrigger: [1, 1000],
  maxBytesForLevelBase: [1024, 2 ** 50],
  levelSizeMultiplier: [2, 1000],
  targetFileSize: [1024, 2 ** 40],
  numLevels: [2, 20],
  tieredSizeRatio: [1, 1000],
  tieredMinMergeWidth: [2, 1000]
}

const invalid = (description: string) => new InvalidArgument({ method: "open", description })

/**
 * The options as given, each own enumerable field read once inside a guard: a throwing getter or
 * Proxy trap is an `InvalidArgument`, and a getter is not asked twice (it could answer differently).
 */
const readOwn = (options: unknown): Record<string, unknown> | InvalidArgument => {
  try {
    if (!isPlainObject(options)) return invalid("options must be a plain object")
    const values: Record<string, unknown> = {}
    for (const key of Object.keys(options)) values[key] = options[key]
    return values
  } catch (e) {
    return invalid(`reading the options threw: ${reasonOf(e)}`)
  }
}

/** Fills in defaults and validates: every number an integer in range, thresholds ordered. */
export const resolve = (options: DbOptions): Effect.Effect<ResolvedOptions, InvalidArgument> =>
  Effect.suspend(() => {
    const given = readOwn(options)
    if (given instanceof InvalidArgument) return Effect.fail(given)
    const known = new Set<string>(["directory", ...Object.keys(defaults)])
    for (const key of Object.keys(given)) {
      if (!known.has(key)) return Effect.fail(invalid(`unknown option ${key}`))
    }
    if (typeof given.directory !== "string" || given.directory.length === 0) {
      return Effect.fail(invalid("directory must be a non-empty string"))
    }
    const resolved: Record<string, unknown> = { ...defaults }
    for (const [key, value] of Object.entries(given)) if (value !== undefined) resolved[key] = value
    for (const [key, rule] of Object.entries(integerRules) as Array<[string, Rule]>) {
      const value = resolved[key]
      if (typeof value !== "number" || !Number.isInteger(value) || value < rule[0] || value > rule[1]) {
        return Effect.fail(invalid(`${key} must be an integer in [${rule[0]}, ${rule[1]}], got ${describeValue(value)}`))
      }
    }
    if (resolved.compaction !== "leveled" && resolved.compaction !== "tiered") {
      return Effect.fail(invalid(`compaction must be "leveled" or "tiered", got ${describeValue(resolved.compaction)}`))
    }
    if (!["tolerateTornTail", "absoluteConsistency", "pointInTime"].includes(resolved.walRecoveryMode as string)) {
      return Effect.fail(
        invalid(`walRecoveryMode must be "tolerateTornTail", "absoluteConsistency" or "pointInTime", got ${describeValue(resolved.walRecoveryMode)}`)
      )
    }
    for (const flag of ["backgroundCompaction", "createIfMissing", "errorIfExists"]) {
      if (typeof resolved[flag] !== "boolean") return Effect.fail(invalid(`${flag} must be a boolean`))
    }
    const r = resolved as unknown as ResolvedOptions
    if (!(r.level0CompactionTrigger <= r.level0SlowdownTrigger && r.level0SlowdownTrigger <= r.level0StopTrigger)) {
      return Effect.fail(invalid("need level0CompactionTrigger <= level0SlowdownTrigger <= level0StopTrigger"))
    }
    return Effect.succeed(r)
  })

/** A value in a message without running the caller's code (`String(x)` calls `toString`). */
const describeValue = (x: unknown): string =>
  typeof x === "string" ? JSON.stringify(x) : x === null || typeof x !== "object" && typeof x !== "function" ? String(x) : typeof x
