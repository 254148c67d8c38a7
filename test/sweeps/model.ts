/**
 * What the sweeps compare the engine with: a plain in-memory key-value model (a Map, sorted when
 * scanned, copied for a snapshot), a small seeded PRNG, and the translation of a scan spec to the
 * engine's `ScanOptions`.
 *
 * Keys are bytes. The model holds them as latin1 strings (one char per byte), whose JavaScript
 * order is the bytewise order the engine promises; `keyBytes` turns one into the `Uint8Array` the
 * engine is given. Values are ASCII strings (stored as their UTF-8 bytes, the same bytes).
 */
import { Buffer } from "node:buffer"
import { seededRandom } from "../../src/internal/seededRandom.js"
import type { Entry, ScanOptions, Snapshot } from "../../src/Db.js"

/** A seeded PRNG (mulberry32), enough for workloads (not for statistics). */
export class Rng {
  private readonly source: () => number
  constructor(seed: number) {
    this.source = seededRandom(seed)
  }
  /** A float in [0, 1). */
  next(): number {
    return this.source()
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<A>(items: ReadonlyArray<A>): A {
    return items[this.int(items.length)]!
  }
}

/** The engine's view of a model key. */
export const keyBytes = (key: string): Uint8Array => Buffer.from(key, "latin1")
/** The model's view of engine bytes (a key). */
export const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")
/** The model's view of engine bytes (a value). */
export const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")

/** A key printed so that every byte shows: printable ASCII as is, the rest as \xNN. */
export const showKey = (key: string): string =>
  JSON.stringify(key.replace(/[^\x21-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))

/** A value printed short: its length and head (values in the sweeps start with a unique tag). */
export const showValue = (value: string | undefined): string =>
  value === undefined ? "none" : value.length <= 24 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 20))}..(${value.length})`

/** A range scan as the model sees it (bounds and prefix are model keys). */
export interface ScanSpec {
  readonly gt?: string
  readonly gte?: string
  readonly lt?: string
  readonly lte?: string
  readonly prefix?: string
  readonly reverse: boolean
  readonly limit?: number
  /** false: entries carry no key (`undefined`). */
  readonly keys: boolean
  /** false: entries carry no value (`undefined`). */
  readonly values: boolean
}

export const showScan = (s: ScanSpec): string => {
  const parts: Array<string> = []
  if (s.gt !== undefined) parts.push(`gt ${showKey(s.gt)}`)
  if (s.gte !== undefined) parts.push(`gte ${showKey(s.gte)}`)
  if (s.lt !== undefined) parts.push(`lt ${showKey(s.lt)}`)
  if (s.lte !== undefined) parts.push(`lte ${showKey(s.lte)}`)
  if (s.prefix !== undefined) parts.push(`prefix ${showKey(s.prefix)}`)
  if (s.reverse) parts.push("reverse")
  if (s.limit !== undefined) parts.push(`limit ${s.limit}`)
  if (!s.keys) parts.push("keys:false")
  if (!s.values) parts.push("values:false")
  return `{${parts.join(", ")}}`
}

/** An entry as the model holds it: `undefined` for a side the scan left out. */
export type ModelEntry = readonly [key: string | undefined, value: string | undefined]

/** The model's view of an engine entry. */
export const modelEntry = (e: Entry<Uint8Array | undefined, Uint8Array | undefined>): ModelEntry => [
  e.key === undefined ? undefined : latin1(e.key),
  e.value === undefined ? undefined : utf8(e.value)
]

/** The engine's options for a scan spec. */
export const scanOptions = (s: ScanSpec, snapshot?: Snapshot): ScanOptions => ({
  ...(s.gt === undefined ? {} : { gt: keyBytes(s.gt) }),
  ...(s.gte === undefined ? {} : { gte: keyBytes(s.gte) }),
  ...(s.lt === undefined ? {} : { lt: keyBytes(s.lt) }),
  ...(s.lte === undefined ? {} : { lte: keyBytes(s.lte) }),
  ...(s.prefix === undefined ? {} : { prefix: keyBytes(s.prefix) }),
  ...(s.reverse ? { reverse: true } : {}),
  ...(s.limit === undefined ? {} : { limit: s.limit }),
  ...(s.keys ? {} : { keys: false }),
  ...(s.values ? {} : { values: false }),
  ...(snapshot === undefined ? {} : { snapshot })
})

export const fullScan = (reverse: boolean): ScanSpec => ({ reverse, keys: true, values: true })

/** The model: a Map from key to value; scans sort it. */
export class Model {
  constructor(private readonly entries: Map<string, string> = new Map()) {}

  put(key: string, value: string): void {
    this.entries.set(key, value)
  }
  delete(key: string): void {
    this.entries.delete(key)
  }
  get(key: string): string | undefined {
    return this.entries.get(key)
  }
  get size(): number {
    return this.entries.size
  }
  /** A copy, for a snapshot. */
  clone(): Model {
    return new Model(new Map(this.entries))
  }
  /** Every key, sorted. */
  keys(): Array<string> {
    return [...this.entries.keys()].sort(compareKeys)
  }
  /** What a scan returns: [key, value] pairs in scan order (`undefined` for a side left out). */
  scan(s: ScanSpec): Array<ModelEntry> {
    const out: Array<ModelEntry> = []
    const keys = this.keys()
    if (s.reverse) keys.reverse()
    for (const k of keys) {
      if (s.limit !== undefined && out.length >= s.limit) break
      if (s.gt !== undefined && !(k > s.gt)) continue
      if (s.gte !== undefined && !(k >= s.gte)) continue
      if (s.lt !== undefined && !(k < s.lt)) continue
      if (s.lte !== undefined && !(k <= s.lte)) continue
      if (s.prefix !== undefined && !k.startsWith(s.prefix)) continue
      out.push([s.keys ? k : undefined, s.values ? this.entries.get(k)! : undefined])
    }
    return out
  }
}

export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
