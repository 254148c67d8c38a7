/**
 * Point reads: memtable, immutable memtables (newest first), then the tables of the version the
 * read pins: L0 newest first (ranges overlap), then at most one table per deeper level (binary
 * search on key ranges). Tables are skipped by key range and, inside the store, by bloom filter.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { Effect, Option } from "effect"
import { Corruption } from "../errors.js"
import type { Manifest } from "../Manifest.js"
import type { Memtable } from "../Memtable.js"
import type { SstableStore } from "../SstableStore.js"
import type { DbState } from "./dbState.js"
import { KIND_PUT } from "./key/internalKey.js"
import { BLOCK_NOT_CACHED } from "./table/tableReader.js"
import type { FileMeta } from "./version/fileMeta.js"
import type { Version } from "./version/version.js"

const NONE = Effect.succeed(Option.none<Uint8Array>())

/** A copy, so the caller can never write into the engine's buffers. */
const copyOut = (value: Uint8Array): Option.Option<Uint8Array> => Option.some(new Uint8Array(value))

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

export const makePointRead = (deps: {
  readonly state: DbState
  readonly memtable: Memtable
  readonly manifest: Manifest
  readonly store: SstableStore
}) => {
  const { state, memtable, manifest, store } = deps

  const fromTables = (
    tables: ReadonlyArray<FileMeta>,
    i: number,
    key: string,
    seq: number
  ): Effect.Effect<Option.Option<Uint8Array>, Corruption | PlatformError> => {
    if (i >= tables.length) return NONE
    state.tableReads++
    return Effect.flatMap(store.get(tables[i]!, key, seq), (found) =>
      found === undefined
        ? fromTables(tables, i + 1, key, seq)
        : Effect.succeed(found.kind === KIND_PUT ? copyOut(found.value) : Option.none())
    )
  }

  /**
   * The value of `key` visible at `seq`. While tables are open and their blocks cached the whole
   * read is synchronous; the first table that needs I/O continues as an effect that pins the
   * version until it completes.
   */
  return (key: string, seq: number): Effect.Effect<Option.Option<Uint8Array>, Corruption | PlatformError> => {
    state.gets++
    const entry = memtable.get(key, seq)
    if (entry !== undefined) return Effect.succeed(entry.kind === KIND_PUT ? copyOut(entry.value) : Option.none())
    const version = manifest.current()
    const tables = candidateTables(version, key)
    for (let i = 0; i < tables.length; i++) {
      const reader = store.openReader(tables[i]!.number)
      const found = reader === undefined ? BLOCK_NOT_CACHED : reader.getSync(key, seq)
      if (found instanceof Corruption || isPlatformError(found)) return Effect.fail(found)
      if (found === BLOCK_NOT_CACHED) {
        manifest.acquire()
        return Effect.ensuring(fromTables(tables, i, key, seq), Effect.sync(() => manifest.release(version)))
      }
      state.tableReads++
      if (found !== undefined) return Effect.succeed(found.kind === KIND_PUT ? copyOut(found.value) : Option.none())
    }
    return NONE
  }
}
