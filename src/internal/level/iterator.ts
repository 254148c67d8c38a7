/**
 * abstract-level's iterators (entries, keys, values) over one stratadb `Cursor`.
 *
 * The cursor opens synchronously in the iterator's constructor, which pins the point in time (the
 * implicit snapshot) or reads at the explicit snapshot given. Reads never cost an engine call per
 * entry: `_nextv(size)` is one `cursor.next(size)`, `_all` pulls big chunks, and `_next` serves
 * from a buffer refilled by one `cursor.next(n)`, n growing from 1 (after opening or a seek: often
 * one entry is all a caller wants) through 16 to 1024. `seek` drops the buffer.
 *
 * A seek target outside the range ends the iterator (until the next seek), as in classic-level: the
 * engine's cursor does that. The range's `limit` is enforced here, not by the engine: entries
 * buffered and dropped by a seek were never delivered and must not count (abstract-level counts
 * what it yields, across seeks).
 */
import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from "abstract-level"
import type { AbstractIteratorOptions, AbstractKeyIteratorOptions, AbstractValueIteratorOptions } from "abstract-level"
import { Effect, Exit, Scope } from "effect"
import type { Bytes, Cursor, DbService, Entry, RangeOptions, ScanOptions, Snapshot } from "../../Db.js"
import type { DbError } from "../../errors.js"
import { decoderFor, run, runAbortable, runSync } from "./run.js"
import { StrataSnapshot } from "./snapshot.js"

/** The options abstract-level gives `_iterator`, `_keys`, `_values` (keys and bounds encoded). */
export interface PrivateIteratorOptions {
  readonly gt?: unknown
  readonly gte?: unknown
  readonly lt?: unknown
  readonly lte?: unknown
  readonly reverse?: boolean
  /** -1 for none. */
  readonly limit?: number
  readonly keys?: boolean
  readonly values?: boolean
  readonly keyEncoding?: string
  readonly valueEncoding?: string
  readonly snapshot?: unknown
  readonly signal?: AbortSignal | null
}

/** `T` without `readonly`, to build engine options field by field. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] }

type MutableRange = Mutable<RangeOptions>

/** abstract-level's range as the engine's: `gte` wins over `gt`, `lte` over `lt` (abstract-level's rule). */
export const rangeOf = (options: PrivateIteratorOptions): MutableRange => {
  const range: MutableRange = {}
  if (options.gte !== undefined) range.gte = options.gte as Bytes
  else if (options.gt !== undefined) range.gt = options.gt as Bytes
  if (options.lte !== undefined) range.lte = options.lte as Bytes
  else if (options.lt !== undefined) range.lt = options.lt as Bytes
  return range
}

/**
 * The engine snapshot of an abstract-level `snapshot` option: undefined for none; a `TypeError`
 * for a snapshot that is not one of this database's.
 */
export const engineSnapshotOf = (snapshot: unknown, service: DbService): Snapshot | undefined => {
  if (snapshot === undefined || snapshot === null) return undefined
  if (snapshot instanceof StrataSnapshot && snapshot.service === service) return snapshot.engine
  throw new TypeError("The snapshot option must be a snapshot of this database")
}

const FIRST_CHUNK = 1
const SECOND_CHUNK = 16
const MAX_CHUNK = 1024
const ALL_CHUNK = 4096
/** An entry of a cursor whose `keys`/`values` flags are known at run time only. */
type AnyEntry = Entry<Uint8Array | undefined, Uint8Array | undefined>

const NO_ENTRIES: Array<AnyEntry> = []

/** A cursor, its buffer and the limit: the machinery the three iterator kinds share. */
class CursorSource<T> {
  readonly #scope: Scope.CloseableScope
  readonly #cursor: Cursor<AnyEntry> | undefined
  /** Why the cursor did not open; reads reject with it. */
  readonly #error: Error | undefined
  readonly #signal: AbortSignal | null
  readonly #convert: (entry: AnyEntry) => T
  #buffer: Array<AnyEntry> = NO_ENTRIES
  #position = 0
  #chunk = FIRST_CHUNK
  /** The cursor said it is at its end (until a seek). */
  #ended = false
  /** Entries still allowed by the limit (Infinity for none). */
  #remaining: number

  constructor(
    service: DbService,
    options: PrivateIteratorOptions,
    keys: boolean,
    values: boolean,
    convert: (entry: AnyEntry) => T
  ) {
    this.#convert = convert
    this.#signal = options.signal ?? null
    const limit = options.limit
    this.#remaining = typeof limit === "number" && limit >= 0 ? limit : Number.POSITIVE_INFINITY
    this.#scope = Effect.runSync(Scope.make())
    const range = rangeOf(options)
    let cursor: Cursor<AnyEntry> | undefined
    let error: Error | undefined
    try {
      const scan: Mutable<ScanOptions> = range
      if (options.reverse === true) scan.reverse = true
      if (!keys) scan.keys = false
      if (!values) scan.values = false
      const snapshot = engineSnapshotOf(options.snapshot, service)
      if (snapshot !== undefined) scan.snapshot = snapshot
      cursor = runSync(Scope.extend(service.cursor(scan), this.#scope))
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e))
      Effect.runFork(Scope.close(this.#scope, Exit.void))
    }
    this.#cursor = cursor
    this.#error = error
  }

  #fetch(max: number): Promise<Array<AnyEntry>> {
    const cursor = this.#cursor
    if (cursor === undefined) return Promise.reject(this.#error)
    const effect: Effect.Effect<Array<AnyEntry>, DbError> = cursor.next(max)
    return this.#signal === null ? run(effect) : runAbortable(effect, this.#signal)
  }

  async next(): Promise<T | undefined> {
    if (this.#position < this.#buffer.length) {
      this.#remaining--
      return this.#convert(this.#buffer[this.#position++]!)
    }
    this.#buffer = NO_ENTRIES
    this.#position = 0
    if (this.#ended || this.#remaining <= 0) return undefined
    const want = Math.min(this.#chunk, this.#remaining)
    this.#chunk = this.#chunk === FIRST_CHUNK ? SECOND_CHUNK : Math.min(this.#chunk * 2, MAX_CHUNK)
    const entries = await this.#fetch(want)
    if (entries.length === 0) {
      this.#ended = true
      return undefined
    }
    this.#buffer = entries
    this.#position = 1
    // Each entry counts against the limit when it is delivered: the rest of the buffer as it is served.
    this.#remaining--
    return this.#convert(entries[0]!)
  }

  async nextv(size: number): Promise<Array<T>> {
    const buffered = this.#buffer.length - this.#position
    if (buffered > 0) {
      const n = Math.min(size, buffered)
      const out = new Array<T>(n)
      for (let i = 0; i < n; i++) out[i] = this.#convert(this.#buffer[this.#position + i]!)
      this.#position += n
      this.#remaining -= n
      return out
    }
    this.#buffer = NO_ENTRIES
    this.#position = 0
    if (this.#ended || this.#remaining <= 0) return []
    const entries = await this.#fetch(Math.min(size, this.#remaining))
    if (entries.length === 0) {
      this.#ended = true
      return []
    }
    this.#remaining -= entries.length
    return this.#convertAll(entries, 0)
  }

  async all(): Promise<Array<T>> {
    const out = this.#convertAll(this.#buffer, this.#position)
    this.#remaining -= out.length
    this.#buffer = NO_ENTRIES
    this.#position = 0
    while (!this.#ended && this.#remaining > 0) {
      const entries = await this.#fetch(Math.min(ALL_CHUNK, this.#remaining))
      if (entries.length === 0) {
        this.#ended = true
        break
      }
      this.#remaining -= entries.length
      for (let i = 0; i < entries.length; i++) out.push(this.#convert(entries[i]!))
    }
    return out
  }

  #convertAll(entries: Array<AnyEntry>, from: number): Array<T> {
    const out = new Array<T>(entries.length - from)
    for (let i = from; i < entries.length; i++) out[i - from] = this.#convert(entries[i]!)
    return out
  }

  seek(target: unknown): void {
    // Buffered entries were not delivered: the limit does not count them.
    this.#buffer = NO_ENTRIES
    this.#position = 0
    this.#chunk = FIRST_CHUNK
    this.#ended = false
    const cursor = this.#cursor
    if (cursor === undefined) return // reads reject with the reason it did not open
    runSync(cursor.seek(target as Bytes))
  }

  async close(): Promise<void> {
    this.#buffer = NO_ENTRIES
    this.#position = 0
    if (this.#cursor !== undefined) await run(Scope.close(this.#scope, Exit.void))
  }
}

type Decoder = (bytes: Uint8Array) => string | Uint8Array

/**
 * An entry as abstract-level's private API wants it: `[key, value]`, undefined for what was not
 * asked. The cursor was opened with the same `keys`/`values` flags, so a side asked for is there.
 */
const entryConverter = (keys: boolean, values: boolean, key: Decoder, value: Decoder): (entry: AnyEntry) => [unknown, unknown] =>
  keys && values
    ? (e) => [key(e.key!), value(e.value!)]
    : keys
      ? (e) => [key(e.key!), undefined]
      : values
        ? (e) => [undefined, value(e.value!)]
        : () => [undefined, undefined]

/** `db.iterator()`: entries. */
export class StrataIterator<TDatabase, K, V> extends AbstractIterator<TDatabase, K, V> {
  readonly #source: CursorSource<[unknown, unknown]>

  constructor(db: TDatabase, service: DbService, options: PrivateIteratorOptions) {
    super(db, options as unknown as AbstractIteratorOptions<K, V>)
    const keys = options.keys !== false
    const values = options.values !== false
    const convert = entryConverter(keys, values, decoderFor(options.keyEncoding), decoderFor(options.valueEncoding))
    this.#source = new CursorSource(service, options, keys, values, convert)
  }

  _next(): Promise<[unknown, unknown] | undefined> {
    return this.#source.next()
  }

  _nextv(size: number, _options: object): Promise<Array<[unknown, unknown]>> {
    return this.#source.nextv(size)
  }

  _all(_options: object): Promise<Array<[unknown, unknown]>> {
    return this.#source.all()
  }

  _seek(target: unknown, _options: object): void {
    this.#source.seek(target)
  }

  _close(): Promise<void> {
    return this.#source.close()
  }
}

/** `db.keys()`: keys only (the cursor copies no values). */
export class StrataKeyIterator<TDatabase, K> extends AbstractKeyIterator<TDatabase, K> {
  readonly #source: CursorSource<string | Uint8Array>

  constructor(db: TDatabase, service: DbService, options: PrivateIteratorOptions) {
    super(db, options as unknown as AbstractKeyIteratorOptions<K>)
    const key = decoderFor(options.keyEncoding)
    this.#source = new CursorSource(service, options, true, false, (e) => key(e.key!))
  }

  _next(): Promise<string | Uint8Array | undefined> {
    return this.#source.next()
  }

  _nextv(size: number, _options: object): Promise<Array<string | Uint8Array>> {
    return this.#source.nextv(size)
  }

  _all(_options: object): Promise<Array<string | Uint8Array>> {
    return this.#source.all()
  }

  _seek(target: unknown, _options: object): void {
    this.#source.seek(target)
  }

  _close(): Promise<void> {
    return this.#source.close()
  }
}

/** `db.values()`: values only (the cursor makes no keys). */
export class StrataValueIterator<TDatabase, K, V> extends AbstractValueIterator<TDatabase, K, V> {
  readonly #source: CursorSource<string | Uint8Array>

  constructor(db: TDatabase, service: DbService, options: PrivateIteratorOptions) {
    super(db, options as unknown as AbstractValueIteratorOptions<K, V>)
    const value = decoderFor(options.valueEncoding)
    this.#source = new CursorSource(service, options, false, true, (e) => value(e.value!))
  }

  _next(): Promise<string | Uint8Array | undefined> {
    return this.#source.next()
  }

  _nextv(size: number, _options: object): Promise<Array<string | Uint8Array>> {
    return this.#source.nextv(size)
  }

  _all(_options: object): Promise<Array<string | Uint8Array>> {
    return this.#source.all()
  }

  _seek(target: unknown, _options: object): void {
    this.#source.seek(target)
  }

  _close(): Promise<void> {
    return this.#source.close()
  }
}
