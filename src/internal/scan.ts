/**
 * Range scans: a `Stream` of entries at one point in time. The scan pins its sequence (so
 * compaction keeps the versions it reads), the version (so its tables are not deleted) and the
 * tables it opens (so the table cache does not close them) until the stream ends or is
 * interrupted. Entries come in chunks filled synchronously between block loads.
 */
import { Buffer } from "node:buffer"
import { Chunk, Effect, Option, type Scope, Stream } from "effect"
import type { Bytes, Cursor, DbService, Entry, ScanOptions } from "../Db.js"
import { DbClosed, type DbError, InvalidArgument } from "../errors.js"
import { VersionSet } from "./version/versionSet.js"
import { Memtables } from "./memtable/memtables.js"
import { TableStore, type TablePins } from "./table/tableStore.js"
import { DbStateTag } from "./dbState.js"
import type { InternalIterator } from "./iter/internalIterator.js"
import { LevelIterator } from "./iter/levelIterator.js"
import { MergingIterator } from "./iter/mergingIterator.js"
import { type Bounds, UserIterator } from "./iter/userIterator.js"
import { readOptions, resolveBound } from "./validate.js"
import { yieldToEventLoop } from "./realSleep.js"
import { MemtableIterator } from "./memtable/memtableIterator.js"
import type { Version } from "./version/version.js"

const CHUNK = 256

/** An entry of a scan whose flags are not known statically; `DbService` types it by its options. */
type AnyEntry = Entry<Uint8Array | undefined, Uint8Array | undefined>

/** The smallest key greater than every key starting with `prefix`; undefined when there is none. */
export const prefixSuccessor = (prefix: string): string | undefined => {
  let end = prefix.length
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--
  if (end === 0) return undefined
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1)
}

interface ResolvedScan {
  readonly bounds: Bounds
  readonly reverse: boolean
  readonly limit: number
  readonly keys: boolean
  readonly values: boolean
}

/**
 * Validates scan options into bounds (a prefix becomes a lower and an upper bound). Each field is
 * read once, guarded (`readOptions`); `snapshot` is left to the read sequence.
 */
export const resolveScan = (options: ScanOptions | undefined): ResolvedScan | InvalidArgument => {
  const o = readOptions("scan", options, ["gt", "gte", "lt", "lte", "prefix", "limit", "reverse", "keys", "values"])
  if (o instanceof InvalidArgument) return o
  const gt = resolveBound("scan", "gt", o.gt)
  const gte = resolveBound("scan", "gte", o.gte)
  const lt = resolveBound("scan", "lt", o.lt)
  const lte = resolveBound("scan", "lte", o.lte)
  const prefix = resolveBound("scan", "prefix", o.prefix)
  for (const b of [gt, gte, lt, lte, prefix]) if (b instanceof InvalidArgument) return b
  if (gt !== undefined && gte !== undefined) return new InvalidArgument({ method: "scan", description: "give gt or gte, not both" })
  if (lt !== undefined && lte !== undefined) return new InvalidArgument({ method: "scan", description: "give lt or lte, not both" })
  const limit = o.limit ?? Number.POSITIVE_INFINITY
  if (typeof limit !== "number" || Number.isNaN(limit) || limit < 0 || (Number.isFinite(limit) && !Number.isInteger(limit))) {
    return new InvalidArgument({ method: "scan", description: "limit must be a non-negative integer" })
  }
  for (const flag of ["reverse", "keys", "values"] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") {
      return new InvalidArgument({ method: "scan", description: `${flag} must be a boolean` })
    }
  }
  let lower = (gt ?? gte) as string | undefined
  let lowerExclusive = gt !== undefined
  let upper = (lt ?? lte) as string | undefined
  let upperExclusive = lt !== undefined
  if (typeof prefix === "string") {
    if (lower === undefined || prefix > lower || (prefix === lower && !lowerExclusive)) {
      lower = prefix
      lowerExclusive = false
    }
    const succ = prefixSuccessor(prefix)
    if (succ !== undefined && (upper === undefined || succ <= upper)) {
      upper = succ
      upperExclusive = true
    }
  }
  return {
    bounds: { lower, lowerExclusive, upper, upperExclusive },
    reverse: o.reverse === true,
    limit,
    keys: o.keys !== false,
    values: o.values !== false
  }
}

/** The merged internal iterator over the memtables and the version's tables. */
export const mergedIterator = (
  memtables: Memtables,
  version: Version,
  store: TableStore,
  pins: TablePins
): MergingIterator => {
  const children: Array<InternalIterator> = [new MemtableIterator(memtables.mutable())]
  const imms = memtables.immutables()
  for (let i = imms.length - 1; i >= 0; i--) children.push(new MemtableIterator(imms[i]!))
  const open = (meta: Parameters<TableStore["iterator"]>[0]) => store.iterator(meta, pins)
  const peek = (meta: Parameters<TableStore["iterator"]>[0]) => store.peekIterator(meta, pins)
  for (const f of version.levels[0]!) children.push(new LevelIterator([f], open, peek))
  for (let level = 1; level < version.levels.length; level++) {
    const files = version.levels[level]!
    if (files.length > 0) children.push(new LevelIterator(files, open, peek))
  }
  return new MergingIterator(children)
}

/**
 * Cursors and scans over the database's parts, each taken from the context once. `readSequence`:
 * the sequence a scan reads at (validating a given snapshot).
 */
export const makeScan = (readSequence: (options: ScanOptions | undefined) => number | InvalidArgument) => Effect.gen(function* () {
  const state = yield* DbStateTag
  const memtables = yield* Memtables
  const versions = yield* VersionSet
  const store = yield* TableStore

  /**
   * Opens a cursor: validates, pins the sequence, the version and (as they open) the tables until
   * the scope closes. Synchronous: nothing here waits, so the point in time is the call's.
   */
  const openCursor = (options?: ScanOptions): Effect.Effect<Cursor<AnyEntry>, DbError, Scope.Scope> =>
    Effect.gen(function* () {
      if (state.lifecycle.closed) return yield* new DbClosed({ method: "scan" })
      const scan = resolveScan(options)
      if (scan instanceof InvalidArgument) return yield* scan
      const sequence = readSequence(options)
      if (typeof sequence !== "number") return yield* sequence
      yield* Effect.acquireRelease(
        Effect.sync(() => state.sequences.pin(sequence)),
        () => Effect.sync(() => state.sequences.unpin(sequence))
      )
      const version = yield* Effect.acquireRelease(
        Effect.sync(() => versions.acquire()),
        (v) => Effect.sync(() => versions.release(v))
      )
      const pins: TablePins = new Set()
      yield* Effect.addFinalizer(() => store.unpin(pins))
      const merged = mergedIterator(memtables, version, store, pins)
      const user = new UserIterator(merged, sequence, scan.bounds, scan.reverse, scan.limit)

      const keys: Array<string> = []
      const values: Array<Uint8Array> = []
      /** A `next` is running (it may wait for a block): the iterators are not to be moved under it. */
      let busy = false

      const fill = (max: number): Effect.Effect<Array<AnyEntry>, DbError> =>
        Effect.suspend(() => {
          const result = user.fill(keys, values, max)
          if (result === "pending") return Effect.zipRight(merged.load(), fill(max))
          // A side the scan was told to leave out is `undefined`, not empty bytes: the empty key
          // is a real key (`EntryOf` says the same in the types).
          const out = new Array<AnyEntry>(keys.length)
          for (let i = 0; i < keys.length; i++) {
            out[i] = {
              key: scan.keys ? Buffer.from(keys[i]!, "latin1") : undefined,
              value: scan.values ? new Uint8Array(values[i]!) : undefined
            }
          }
          keys.length = 0
          values.length = 0
          return Effect.succeed(out)
        })

      const next = (max: number): Effect.Effect<Array<AnyEntry>, DbError> =>
        Effect.suspend(() => {
          // Closing the database closed the tables under this cursor.
          if (state.lifecycle.closed) return Effect.fail(new DbClosed({ method: "scan" }))
          if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
            return Effect.fail(new InvalidArgument({ method: "scan", description: "next: max must be a positive integer" }))
          }
          if (busy) return Effect.fail(new InvalidArgument({ method: "scan", description: "next: another next is running" }))
          busy = true
          const run = Effect.ensuring(fill(max), Effect.sync(() => { busy = false }))
          // A loop of scans that never waits yields to pending background work like point operations.
          return state.slice.yieldDue(Math.min(max, CHUNK)) ? Effect.zipRight(yieldToEventLoop, run) : run
        })

      const seek = (target: Bytes): Effect.Effect<void, DbError> =>
        Effect.suspend((): Effect.Effect<void, DbError> => {
          if (state.lifecycle.closed) return Effect.fail(new DbClosed({ method: "seek" }))
          const t = resolveBound("seek", "target", target)
          if (t instanceof InvalidArgument) return Effect.fail(t)
          if (t === undefined) return Effect.fail(new InvalidArgument({ method: "seek", description: "target is required" }))
          if (busy) return Effect.fail(new InvalidArgument({ method: "seek", description: "a next is running" }))
          user.seek(t)
          return Effect.void
        })

      return { next, seek } satisfies Cursor<AnyEntry>
    })

  /** A scan: the cursor read to its end in chunks of `CHUNK`. */
  const scanAny = (options?: ScanOptions): Stream.Stream<AnyEntry, DbError> =>
    Stream.unwrapScoped(
      Effect.map(openCursor(options), (c) => {
        const pull: Effect.Effect<Chunk.Chunk<AnyEntry>, Option.Option<DbError>> = Effect.mapBoth(c.next(CHUNK), {
          onFailure: Option.some,
          onSuccess: (entries) => entries
        }).pipe(
          Effect.flatMap((entries) =>
            entries.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(entries))
          )
        )
        return Stream.repeatEffectChunkOption(pull)
      })
    )

  // The entries are what `EntryOf<O>` says: a side is left out exactly when its flag is `false`.
  return { cursor: openCursor as DbService["cursor"], scan: scanAny as DbService["scan"] }
})
