/**
 * Point reads, LevelDB's `Version::Get`: the memtable, the immutable memtables (newest first),
 * then one loop over the tables of the current version that may hold the key (`candidateTables`:
 * L0 newest first, as their ranges overlap, then at most one table per deeper level). Each table
 * is asked through the table cache (`TableStore.acquire`, which pins it) and the table's own
 * lookup (`TableReader.get`: bloom filter, index, one block through the block fetch).
 *
 * `get` and `getSync` share that loop (`search`). It runs synchronously while the tables it asks
 * are open (or open synchronously) and their blocks cached (or read synchronously), and stops at
 * the first table that must wait for I/O. `getSync` then fails `NotSupported`; `get` continues as
 * an effect that pins the version until it completes, waits for that table, and resumes the loop.
 *
 * `tableReads` counts the tables a read searched: those neither range, filter nor index ruled out.
 * A read that goes on past the first candidate charges that table a seek (`state/seekCharges.ts`,
 * LevelDB's `UpdateStats`); the charge that makes a table due wakes the compactor.
 */
import { Effect, Exit, Option } from "effect"
import { type DbError, NotSupported } from "../errors.js"
import { VersionSet } from "./version/versionSet.js"
import { Memtables } from "./memtable/memtables.js"
import { TableStore } from "./table/tableStore.js"
import { DbStateTag } from "./dbState.js"
import { KIND_PUT } from "./key/internalKey.js"
import { CachedTable } from "./table/tableCache.js"
import { isTableError, type TableError } from "./table/tableFile.js"
import { type Found, TOMBSTONE, type TableReader } from "./table/tableReader.js"
import type { FileMeta } from "./version/fileMeta.js"
import type { Version } from "./version/version.js"
import { DbMetricsTag } from "./metrics/dbMetrics.js"
import { DbConfig } from "./dbConfig.js"

type Answer = Option.Option<Uint8Array>

const ABSENT: Answer = Option.none()
const SUCCEED_ABSENT: Effect.Effect<Answer> = Effect.succeed(ABSENT)

/** `search` stopped at a table that must wait for I/O. */
const WAIT: unique symbol = Symbol("WAIT")

/** A copy, so the caller can never write into the engine's buffers (nor see a reused one change). */
const copyOut = (value: Uint8Array): Answer => Option.some(new Uint8Array(value))

/** A table's finding as the read's answer; undefined when the table has no version of the key. */
const answerOf = (found: Found): Answer | undefined =>
  found === undefined ? undefined : found === TOMBSTONE ? ABSENT : copyOut(found)

const notSynchronous = new NotSupported({
  method: "getSync",
  description: "the file system cannot open or read tables synchronously (use NodeSyncFileSystem or MemoryFileSystem, or get)"
})

/** The tables that may hold `key`, in the order a read must consult them. */
export const candidateTables = (version: Version, key: string): Array<FileMeta> => {
  const out: Array<FileMeta> = []
  for (const f of version.levels[0]!) if (f.smallestKey <= key && key <= f.largestKey) out.push(f)
  for (let level = 1; level < version.levels.length; level++) {
    const files = version.levels[level]!
    let lo = 0
    let hi = files.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (files[mid]!.largestKey < key) lo = mid + 1
      else hi = mid
    }
    if (lo < files.length && files[lo]!.smallestKey <= key) out.push(files[lo]!)
  }
  return out
}

/** The point read over the database's parts, each taken from the context once. */
export const makePointRead = Effect.gen(function* () {
  const state = yield* DbStateTag
  const memtables = yield* Memtables
  const versions = yield* VersionSet
  const store = yield* TableStore
  const counters = store.counters
  const latency = (yield* DbMetricsTag).get
  const options = (yield* DbConfig).options
  const chargeSeeks = options.seekCompaction && options.backgroundCompaction && options.compaction === "leveled"

  /*
   * Where `search` stopped when it answers WAIT, read by its caller in the same synchronous step:
   * the table's position in the candidates and, when the table is open and its block must be read,
   * the reader asked and the effect reading the block (else both undefined: the table must open).
   */
  let stoppedAt = 0
  let stoppedReader: TableReader | undefined = undefined
  let stoppedRead: Effect.Effect<Found, TableError> | undefined = undefined

  /**
   * One open table's answer: the answer, undefined (no version of the key here), a failure, or
   * the effect reading the block the key would be in. Counts the table as read when its lookup
   * searched a block, or is about to (the filter and the index let it through).
   */
  const ask = (reader: TableReader, key: string, seq: number): Answer | undefined | TableError | Effect.Effect<Found, TableError> => {
    const searched = counters.blockSearches
    const checks = counters.bloomChecks
    const negatives = counters.bloomNegatives
    const found = reader.get(key, seq)
    // The table's bloom filter let the key through: a false positive if the table has no version of it.
    const passed = counters.bloomChecks !== checks && counters.bloomNegatives === negatives
    if (found === undefined) {
      state.counters.tableReads += counters.blockSearches - searched
      if (passed) state.counters.bloomFalsePositives++
      return undefined
    }
    if (found instanceof Uint8Array) {
      state.counters.tableReads++
      return copyOut(found)
    }
    if (found === TOMBSTONE) {
      state.counters.tableReads++
      return ABSENT
    }
    if (isTableError(found)) return found
    state.counters.tableReads++
    return passed ? Effect.map(found, countFalsePositive) : found
  }

  const countFalsePositive = (found: Found): Found => {
    if (found === undefined) state.counters.bloomFalsePositives++
    return found
  }

  /**
   * The loop over the candidate tables from `from`, synchronous: the answer, a failure, or WAIT
   * (see `stoppedAt`). Each table is pinned while it is asked; a table that must wait is released
   * before the loop stops, and pinned again by `settle` inside the effect that waits for it.
   */
  const search = (tables: ReadonlyArray<FileMeta>, from: number, key: string, seq: number): Answer | TableError | typeof WAIT => {
    for (let i = from; i < tables.length; i++) {
      // The first table did not answer: it cost this read a seek.
      if (i === 1 && chargeSeeks && state.seeks.charge(tables[0]!)) state.work.raise()
      const table = store.acquire(tables[i]!)
      if (!(table instanceof CachedTable)) {
        if (isTableError(table)) return table
        stoppedAt = i
        stoppedReader = undefined
        stoppedRead = undefined
        return WAIT
      }
      const answer = ask(table.reader, key, seq)
      store.release(table)
      if (answer === undefined) continue
      // An Option is an Effect too: tested first.
      if (Option.isOption(answer) || isTableError(answer)) return answer
      stoppedAt = i
      stoppedReader = table.reader
      stoppedRead = answer
      return WAIT
    }
    return ABSENT
  }

  /**
   * Table `meta` with I/O, pinned (opened first if it must be) until its answer is in. `reader`
   * and `read`: `search` asked that reader already and stopped at its block read, which is used
   * if the cache still holds the same reader (else the table is asked again).
   */
  const settle = (
    meta: FileMeta,
    reader: TableReader | undefined,
    read: Effect.Effect<Found, TableError> | undefined,
    key: string,
    seq: number
  ): Effect.Effect<Answer | undefined, TableError> =>
    Effect.acquireUseRelease(
      Effect.suspend(() => {
        const table = store.acquire(meta)
        if (table instanceof CachedTable) return Effect.succeed(table)
        return isTableError(table) ? Effect.fail(table) : table
      }),
      (table): Effect.Effect<Answer | undefined, TableError> => {
        if (table.reader === reader) return Effect.map(read!, answerOf)
        const answer = ask(table.reader, key, seq)
        if (answer === undefined || Option.isOption(answer)) return Effect.succeed(answer)
        return isTableError(answer) ? Effect.fail(answer) : Effect.map(answer, answerOf)
      },
      (table) => Effect.sync(() => store.release(table))
    )

  /** Settles the table `search` stopped at, then searches on from the next, until an answer. */
  const continueFrom = (
    tables: ReadonlyArray<FileMeta>,
    i: number,
    reader: TableReader | undefined,
    read: Effect.Effect<Found, TableError> | undefined,
    key: string,
    seq: number
  ): Effect.Effect<Answer, TableError> =>
    Effect.flatMap(settle(tables[i]!, reader, read, key, seq), (answer) => {
      if (answer !== undefined) return Effect.succeed(answer)
      const next = search(tables, i + 1, key, seq)
      if (next !== WAIT) return Option.isOption(next) ? Effect.succeed(next) : Effect.fail(next)
      const stopped = takeStopped()
      return continueFrom(tables, stopped.at, stopped.reader, stopped.read, key, seq)
    })

  /** What `search` left in `stopped*`, cleared so that nothing is retained after the read. */
  const takeStopped = () => {
    const stopped = { at: stoppedAt, reader: stoppedReader, read: stoppedRead }
    stoppedReader = undefined
    stoppedRead = undefined
    return stopped
  }

  /** `read` but for its count. */
  const find = (key: string, snapshot: number | undefined): Effect.Effect<Answer, TableError> => {
    const seq = snapshot ?? state.sequences.visible
    const entry = memtables.get(key, seq)
    if (entry !== undefined) return entry.kind === KIND_PUT ? Effect.succeed(copyOut(entry.value)) : SUCCEED_ABSENT
    const version = versions.current()
    const tables = candidateTables(version, key)
    const answer = search(tables, 0, key, seq)
    if (answer !== WAIT) {
      if (!Option.isOption(answer)) return Effect.fail(answer)
      return Option.isNone(answer) ? SUCCEED_ABSENT : Effect.succeed(answer)
    }
    const stopped = takeStopped()
    // The version is pinned inside the effect, uninterruptibly with the finalizer that releases
    // it, so an interrupted read never leaves a version pinned.
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        // Other fibers may have run since the search above and installed another version (its
        // compactions may have dropped versions older than the latest): start over.
        if (versions.current() !== version) return restore(Effect.suspend(() => find(key, snapshot)))
        const pinned = versions.acquire()
        return Effect.ensuring(
          restore(continueFrom(tables, stopped.at, stopped.reader, stopped.read, key, seq)),
          Effect.sync(() => versions.release(pinned))
        )
      })
    )
  }

  /**
   * The value of `key` visible at `snapshot` (a pinned sequence), or at the latest visible
   * sequence when undefined. Synchronous until the first table that must wait for I/O.
   */
  const read = (key: string, snapshot: number | undefined): Effect.Effect<Answer, TableError> => {
    state.counters.gets++
    const start = latency.start()
    if (start < 0) return find(key, snapshot)
    const answer = find(key, snapshot)
    // Answered synchronously (an Exit): timed now; else when its I/O completes.
    if (Exit.isExit(answer)) {
      latency.record(start)
      return answer
    }
    return Effect.ensuring(answer, Effect.sync(() => latency.record(start)))
  }

  /**
   * `read` as one synchronous call (`Db.getSync`): no effect runs, so nothing can happen between
   * its steps and nothing stays pinned. `NotSupported` where a table would have to wait.
   */
  const readSync = (key: string, snapshot: number | undefined): Answer | DbError => {
    state.counters.gets++
    const start = latency.start()
    const answer = findSync(key, snapshot)
    latency.record(start)
    return answer
  }

  /** `readSync` but for its count and its time. */
  const findSync = (key: string, snapshot: number | undefined): Answer | DbError => {
    const seq = snapshot ?? state.sequences.visible
    const entry = memtables.get(key, seq)
    if (entry !== undefined) return entry.kind === KIND_PUT ? copyOut(entry.value) : ABSENT
    const answer = search(candidateTables(versions.current(), key), 0, key, seq)
    if (answer !== WAIT) return answer
    takeStopped()
    return notSynchronous
  }

  return { read, readSync }
})
