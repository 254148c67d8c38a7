/**
 * Point reads: memtable, immutable memtables (newest first), then the tables of the version the
 * read pins: L0 newest first (ranges overlap), then at most one table per deeper level (binary
 * search on key ranges). Tables are skipped by key range and, inside the store, by bloom filter.
 * `tableReads` counts the tables a read searched: those neither range, filter nor index ruled out.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { Effect, Option } from "effect"
import { Corruption, type DbError, NotSupported } from "../errors.js"
import type { Manifest } from "../Manifest.js"
import type { Memtable } from "../Memtable.js"
import type { SstableStore } from "../SstableStore.js"
import type { DbState } from "./dbState.js"
import { KIND_PUT } from "./key/internalKey.js"
import { BLOCK_NOT_CACHED, type TableEntry, type TableReader } from "./table/tableReader.js"
import type { FileMeta } from "./version/fileMeta.js"
import type { Version } from "./version/version.js"

const NONE = Effect.succeed(Option.none<Uint8Array>())

/** A copy, so the caller can never write into the engine's buffers. */
const copyOut = (value: Uint8Array): Option.Option<Uint8Array> => Option.some(new Uint8Array(value))

/** A table's entry as the read's answer (a copy); undefined when the table has none for the key. */
const answerOf = (found: TableEntry | undefined): Option.Option<Uint8Array> | undefined =>
  found === undefined ? undefined : found.kind === KIND_PUT ? copyOut(found.value) : Option.none()

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
  const counters = store.counters

  /**
   * `getSync` on one table, counting the table as read when the lookup searched one of its data
   * blocks: not when the bloom filter or the index ruled it out (synchronous, so the counter's
   * change is this lookup's alone).
   */
  const lookup = (reader: TableReader, key: string, seq: number) => {
    const searched = counters.blockSearches
    const found = reader.getSync(key, seq)
    state.tableReads += counters.blockSearches - searched
    return found
  }

  /** Reads the block a lookup found missing from the cache: the filter passed, so the table is read. */
  const fromDisk = (reader: TableReader, key: string, seq: number) => {
    state.tableReads++
    return Effect.map(reader.getFromDisk(key, seq), answerOf)
  }

  /**
   * One table's answer, its reader pinned while the read waits for I/O. `pastFilter`: a lookup
   * already passed the filter and found the block missing from the cache.
   */
  const fromTable = (
    meta: FileMeta,
    key: string,
    seq: number,
    pastFilter: boolean
  ): Effect.Effect<Option.Option<Uint8Array> | undefined, Corruption | PlatformError> =>
    store.withReader(meta, (reader) => {
      if (pastFilter) return fromDisk(reader, key, seq)
      const found = lookup(reader, key, seq)
      if (found instanceof Corruption || isPlatformError(found)) return Effect.fail(found)
      return found === BLOCK_NOT_CACHED ? fromDisk(reader, key, seq) : Effect.succeed(answerOf(found))
    })

  const fromTables = (
    tables: ReadonlyArray<FileMeta>,
    i: number,
    key: string,
    seq: number,
    pastFilter: boolean
  ): Effect.Effect<Option.Option<Uint8Array>, Corruption | PlatformError> => {
    if (i >= tables.length) return NONE
    return Effect.flatMap(fromTable(tables[i]!, key, seq, pastFilter), (answer) =>
      answer === undefined ? fromTables(tables, i + 1, key, seq, false) : Effect.succeed(answer)
    )
  }

  /**
   * The value of `key` visible at `snapshot` (a pinned sequence), or at the latest visible
   * sequence when undefined. While tables are open and their blocks cached the whole read is
   * synchronous; the first table that needs I/O continues as an effect that pins the version
   * until it completes. The pin is taken inside that effect, uninterruptibly with the finalizer
   * that releases it, so an interrupted read never leaves a version pinned.
   */
  const read = (key: string, snapshot: number | undefined): Effect.Effect<Option.Option<Uint8Array>, Corruption | PlatformError> => {
    state.gets++
    const seq = snapshot ?? state.visibleSequence
    const entry = memtable.get(key, seq)
    if (entry !== undefined) return Effect.succeed(entry.kind === KIND_PUT ? copyOut(entry.value) : Option.none())
    const version = manifest.current()
    const tables = candidateTables(version, key)
    for (let i = 0; i < tables.length; i++) {
      const reader = store.openReader(tables[i]!.number)
      const found = reader === undefined ? BLOCK_NOT_CACHED : lookup(reader, key, seq)
      if (found instanceof Corruption || isPlatformError(found)) return Effect.fail(found)
      if (found === BLOCK_NOT_CACHED) {
        const from = i
        const pastFilter = reader !== undefined
        return Effect.uninterruptibleMask((restore) =>
          Effect.suspend(() => {
            // Other fibers may have run since the lookup above and installed another version
            // (its compactions may have dropped versions older than the latest): start over.
            if (manifest.current() !== version) return restore(Effect.suspend(() => read(key, snapshot)))
            const pinned = manifest.acquire()
            return Effect.ensuring(
              restore(fromTables(tables, from, key, seq, pastFilter)),
              Effect.sync(() => manifest.release(pinned))
            )
          })
        )
      }
      if (found !== undefined) return Effect.succeed(answerOf(found)!)
    }
    return NONE
  }
  /**
   * `read` as one synchronous call (`Db.getSync`): tables not open are opened synchronously and
   * blocks missing from the cache read synchronously. Nothing can run in between, so nothing is pinned.
   */
  const readSync = (key: string, snapshot: number | undefined): Option.Option<Uint8Array> | DbError => {
    state.gets++
    const seq = snapshot ?? state.visibleSequence
    const entry = memtable.get(key, seq)
    if (entry !== undefined) return entry.kind === KIND_PUT ? copyOut(entry.value) : Option.none()
    const tables = candidateTables(manifest.current(), key)
    for (let i = 0; i < tables.length; i++) {
      const reader = store.openReaderSync(tables[i]!)
      if (reader instanceof NotSupported || reader instanceof Corruption || isPlatformError(reader)) return reader
      const found = lookup(reader, key, seq)
      if (found instanceof Corruption || isPlatformError(found)) return found
      if (found === BLOCK_NOT_CACHED) return blockNotSynchronous
      if (found !== undefined) return answerOf(found)!
    }
    return Option.none()
  }

  return { read, readSync }
}

const blockNotSynchronous = new NotSupported({
  method: "getSync",
  description: "the file system's handles cannot read synchronously (use NodeSyncFileSystem or MemoryFileSystem, or get)"
})
