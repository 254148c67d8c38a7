/**
 * A memtable packed for a worker thread (the flush job's payload): every version of every key, in
 * the memtable's own order (keys as they first arrived, each key's versions newest first), in a
 * few flat arrays whose buffers are transferred, not copied. The worker sorts the keys and drops
 * the versions no snapshot needs (`forEachSorted`), so the JS thread does neither.
 */
import { Effect } from "effect"
import type { Kind } from "../key/internalKey.js"
import type { Memtable } from "../memtable/memtable.js"
import { survives } from "../snapshotRetention.js"

export interface PackedRun {
  /** The distinct keys (latin1 strings) concatenated, in arrival order. */
  readonly keys: string
  /** Per distinct key: its length in `keys`, and how many versions it has. */
  readonly keyLengths: Uint32Array
  readonly versionCounts: Uint32Array
  /** Per version, in key order then newest first: sequence, kind, end offset of its value in `values`. */
  readonly seqs: Float64Array
  readonly kinds: Uint8Array
  readonly valueEnds: Uint32Array
  readonly values: Uint8Array
}

/** Keys packed between yields. */
const KEYS_PER_SLICE = 4096

/** Packs the memtable, yielding between slices; the buffers to transfer are `transferList`'s. */
export const packMemtable = (table: Memtable): Effect.Effect<PackedRun> =>
  Effect.gen(function* () {
    const keys = table.unsortedKeys()
    const keyLengths = new Uint32Array(keys.length)
    const versionCounts = new Uint32Array(keys.length)
    const seqs = new Float64Array(table.entries)
    const kinds = new Uint8Array(table.entries)
    const valueEnds = new Uint32Array(table.entries)
    // An upper bound of the values' bytes (the memtable also charges keys and bookkeeping).
    let values = new Uint8Array(table.approximateBytes)
    let v = 0
    let offset = 0
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!
      keyLengths[k] = key.length
      let count = 0
      for (let e = table.chain(key); e !== undefined; e = e.older) {
        seqs[v] = e.seq
        kinds[v] = e.kind
        values.set(e.value, offset)
        offset += e.value.byteLength
        valueEnds[v] = offset
        v++
        count++
      }
      versionCounts[k] = count
      if ((k + 1) % KEYS_PER_SLICE === 0) yield* Effect.yieldNow()
    }
    // Not more than the bytes used travel to the worker.
    if (offset < values.byteLength / 2) values = values.slice(0, offset)
    return { keys: keys.join(""), keyLengths, versionCounts, seqs, kinds, valueEnds, values }
  })

/** The buffers of a packed run, to transfer with it. */
export const transferList = (run: PackedRun): Array<ArrayBuffer> =>
  [run.keyLengths, run.versionCounts, run.seqs, run.kinds, run.valueEnds, run.values].map((a) => a.buffer as ArrayBuffer)

/**
 * The run's entries in internal-key order (keys ascending, versions newest first), without the
 * versions no snapshot in `snapshots` (ascending) needs: what a flush writes.
 */
export const forEachSorted = (
  run: PackedRun,
  snapshots: ReadonlyArray<number>,
  f: (key: string, seq: number, kind: Kind, value: Uint8Array) => void
): void => {
  const count = run.keyLengths.length
  const keys = new Array<string>(count)
  const firstVersion = new Uint32Array(count)
  let at = 0
  let version = 0
  for (let k = 0; k < count; k++) {
    keys[k] = run.keys.slice(at, at + run.keyLengths[k]!)
    at += run.keyLengths[k]!
    firstVersion[k] = version
    version += run.versionCounts[k]!
  }
  const order = Array.from({ length: count }, (_, k) => k)
  // Latin1 strings compare as their bytes do.
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0))
  for (const k of order) {
    const key = keys[k]!
    let newer = Number.POSITIVE_INFINITY
    const end = firstVersion[k]! + run.versionCounts[k]!
    for (let i = firstVersion[k]!; i < end; i++) {
      const seq = run.seqs[i]!
      if (survives(seq, newer, snapshots)) {
        const start = i === 0 ? 0 : run.valueEnds[i - 1]!
        f(key, seq, run.kinds[i] as Kind, run.values.subarray(start, run.valueEnds[i]!))
      }
      newer = seq
    }
  }
}
