/**
 * A memtable packed for a worker thread (the flush job's payload): the memtable's batch payloads
 * (the WAL records of its writes, doc/log_format.md) end to end, in one buffer that is transferred,
 * not copied. Packing is one copy of bytes the JS thread already laid out; the worker decodes the
 * payloads, sorts the entries and drops the versions no snapshot needs (`forEachSorted`).
 */
import { Effect } from "effect"
import type { Kind } from "../key/internalKey.js"
import type { Memtable } from "../memtable/memtable.js"
import { survives } from "../snapshotRetention.js"
import { decodeBatch } from "../wal/batchCodec.js"

export interface PackedRun {
  /** The memtable's batch payloads end to end, in arrival order. */
  readonly records: Uint8Array
  /** Where each payload ends in `records`. */
  readonly recordEnds: Uint32Array
}

/** Packs the memtable; the buffers to transfer are `transferList`'s. */
export const packMemtable = (table: Memtable): Effect.Effect<PackedRun> =>
  Effect.sync(() => {
    const payloads = table.records()
    const records = new Uint8Array(table.recordBytes)
    const recordEnds = new Uint32Array(payloads.length)
    let offset = 0
    for (let i = 0; i < payloads.length; i++) {
      records.set(payloads[i]!, offset)
      offset += payloads[i]!.byteLength
      recordEnds[i] = offset
    }
    return { records, recordEnds }
  })

/** The buffers of a packed run, to transfer with it. */
export const transferList = (run: PackedRun): Array<ArrayBuffer> =>
  [run.records.buffer as ArrayBuffer, run.recordEnds.buffer as ArrayBuffer]

/**
 * The run's entries in internal-key order (keys ascending, versions newest first), without the
 * versions no snapshot in `snapshots` (ascending) needs: what a flush writes. Throws what
 * `decodeBatch` throws on a payload that does not parse (a defect: the memtable's own bytes).
 */
export const forEachSorted = (
  run: PackedRun,
  snapshots: ReadonlyArray<number>,
  f: (key: string, seq: number, kind: Kind, value: Uint8Array) => void
): void => {
  const keys: Array<string> = []
  const seqs: Array<number> = []
  const kinds: Array<Kind> = []
  const values: Array<Uint8Array> = []
  let start = 0
  for (let r = 0; r < run.recordEnds.length; r++) {
    const end = run.recordEnds[r]!
    decodeBatch(run.records.subarray(start, end), (key, seq, kind, value) => {
      keys.push(key)
      seqs.push(seq)
      kinds.push(kind)
      values.push(value)
    })
    start = end
  }
  const order = Array.from({ length: keys.length }, (_, i) => i)
  // Latin1 strings compare as their bytes do; sequences are unique.
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : seqs[b]! - seqs[a]!))
  let key: string | undefined = undefined
  let newer = Number.POSITIVE_INFINITY
  for (const i of order) {
    if (keys[i] !== key) {
      key = keys[i]!
      newer = Number.POSITIVE_INFINITY
    }
    const seq = seqs[i]!
    if (survives(seq, newer, snapshots)) f(key, seq, kinds[i]!, values[i]!)
    newer = seq
  }
}
