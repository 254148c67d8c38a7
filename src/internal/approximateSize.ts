/**
 * `approximateSize`: the bytes of table data a key range takes on disk, LevelDB's
 * `GetApproximateSizes` over `Version::ApproximateOffsetOf`. For each key bound, every table has
 * an offset: its whole size if it lies before the key, 0 if it lies after, and inside it the start
 * of the data block the key would be in (from the table's index, read at open; no data block is
 * read). The range's size is the sum over tables of offset(end) - offset(start), so a table inside
 * the range counts whole and a table straddling a bound counts by its blocks in the range.
 * Memtables (optional) count the key and value bytes of their versions in the range.
 */
import { Effect } from "effect"
import type { DbError } from "../errors.js"
import { MAX_SEQUENCE } from "./key/internalKey.js"
import type { Memtable } from "./memtable/memtable.js"
import type { Memtables } from "./memtable/memtables.js"
import { CachedTable } from "./table/tableCache.js"
import { isTableError } from "./table/tableFile.js"
import type { TableStore } from "./table/tableStore.js"
import type { FileMeta } from "./version/fileMeta.js"
import type { Version } from "./version/version.js"
import type { VersionSet } from "./version/versionSet.js"
import { lowerBound } from "./lowerBound.js"

/** A key range [start, end) of latin1 user keys; a missing bound is open. */
export interface KeyRange {
  readonly start: string | undefined
  readonly end: string | undefined
}

/** Where `key` falls in the table, as bytes of the file before it (`Table::ApproximateOffsetOf`). */
const offsetIn = (store: TableStore, meta: FileMeta, key: string | undefined, atEnd: boolean): Effect.Effect<number, DbError> => {
  if (key === undefined) return Effect.succeed(atEnd ? meta.size : 0)
  if (meta.largestKey < key) return Effect.succeed(meta.size)
  if (meta.smallestKey >= key) return Effect.succeed(0)
  // The key falls inside the table: the start of the block it would be in (past the last block:
  // the whole table).
  return Effect.acquireUseRelease(
    Effect.suspend(() => {
      const table = store.acquire(meta)
      if (table instanceof CachedTable) return Effect.succeed(table)
      return isTableError(table) ? Effect.fail(table) : table
    }),
    (table) =>
      Effect.sync(() => {
        const index = table.reader.index
        const i = index.find(key, MAX_SEQUENCE)
        return i < index.length ? Math.min(index.offsets[i]!, meta.size) : meta.size
      }),
    (table) => Effect.sync(() => store.release(table))
  )
}

/** Bytes of the tables of `version` in the range. */
export const tableBytesInRange = (store: TableStore, version: Version, range: KeyRange): Effect.Effect<number, DbError> =>
  Effect.gen(function* () {
    let total = 0
    for (const files of version.levels) {
      for (const meta of files) {
        // Tables wholly outside the range count nothing and are not opened.
        if (range.start !== undefined && meta.largestKey < range.start) continue
        if (range.end !== undefined && meta.smallestKey >= range.end) continue
        const from = yield* offsetIn(store, meta, range.start, false)
        const to = yield* offsetIn(store, meta, range.end, true)
        if (to > from) total += to - from
      }
    }
    return total
  })

/** Key and value bytes of every version in the memtable whose key is in the range. */
const memtableBytesInRange = (table: Memtable, range: KeyRange): number => {
  if (table.isEmpty) return 0
  const keys = table.sortedKeys()
  const from = range.start === undefined ? 0 : lowerBound(keys, range.start)
  const to = range.end === undefined ? keys.length : lowerBound(keys, range.end)
  let total = 0
  for (let i = from; i < to; i++) {
    const key = keys[i]!
    for (let e = table.chain(key); e !== undefined; e = e.older) total += key.length + e.valueLength
  }
  return total
}

/** The approximate bytes of the range: the current version's tables, and the memtables when asked. */
export const approximateSize = (
  deps: { readonly versions: VersionSet; readonly store: TableStore; readonly memtables: Memtables },
  range: KeyRange,
  includeMemtables: boolean
): Effect.Effect<number, DbError> =>
  Effect.acquireUseRelease(
    // The version is pinned while its tables are opened, so compaction does not delete them.
    Effect.sync(() => deps.versions.acquire()),
    (version) =>
      Effect.map(tableBytesInRange(deps.store, version, range), (tables) => {
        if (!includeMemtables) return tables
        let memory = memtableBytesInRange(deps.memtables.mutable(), range)
        for (const table of deps.memtables.immutables()) memory += memtableBytesInRange(table, range)
        return tables + memory
      }),
    (version) => Effect.sync(() => deps.versions.release(version))
  )
