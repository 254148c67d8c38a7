/**
 * A memtable packed for a worker thread (the flush job's payload): its batch payloads (the WAL
 * records of its writes, doc/log_format.md) copied end to end into one buffer, which the message
 * transfers to the worker (moved, not copied again). The worker decodes the payloads, sorts the
 * entries and drops the versions no snapshot needs (`forEachSorted`).
 */
import { Effect } from "effect"
import type { Kind } from "../key/internalKey.js"
import type { Memtable } from "../memtable/memtable.js"
import { survives } from "../snapshotRetention.js"
import { decodeEntries } from "../wal/batchCodec.js"

export interface PackedRun {
  /** The payloads, end to end, in arrival order. */
  readonly buffer: ArrayBuffer
  /** Per payload, in arrival order: its byte offset in `buffer` and its length. */
  readonly records: Uint32Array
}

/** Packs the memtable: a copy of its payloads the message may move to the worker (`transferList`). */
export const packMemtable = (table: Memtable): Effect.Effect<PackedRun> =>
  Effect.sync(() => {
    const payloads = table.records()
    const records = new Uint32Array(payloads.length * 2)
    let total = 0
    for (let i = 0; i < payloads.length; i++) {
      records[2 * i] = total
      records[2 * i + 1] = payloads[i]!.byteLength
      total += payloads[i]!.byteLength
    }
    const buffer = new ArrayBuffer(total)
    const bytes = new Uint8Array(buffer)
    for (let i = 0; i < payloads.length; i++) bytes.set(payloads[i]!, records[2 * i]!)
    return { buffer, records }
  })

/** The buffers of a packed run, moved to the worker with the message. */
export const transferList = (run: PackedRun): Array<ArrayBuffer> => [run.buffer, run.records.buffer as ArrayBuffer]

/**
 * The run's entries in internal-key order (keys ascending, versions newest first), without the
 * versions no snapshot in `snapshots` (ascending) needs: what a flush writes. Throws what
 * `decodeEntries` throws on a payload that does not parse (a defect: the memtable's own bytes).
 */
export const forEachSorted = (
  run: PackedRun,
  snapshots: ReadonlyArray<number>,
  f: (key: string, seq: number, kind: Kind, value: Uint8Array) => void
): void => {
  const keys: Array<string> = []
  const seqs: Array<number> = []
  const kinds: Array<Kind> = []
  // Where each value lies in `buffer`: its view is made as it is handed on (short-lived, not kept
  // through the sort by the thousand).
  const starts: Array<number> = []
  const ends: Array<number> = []
  const { buffer, records } = run
  for (let r = 0; r < records.length; r += 2) {
    const at = records[r]!
    decodeEntries(new Uint8Array(buffer, at, records[r + 1]!), (key, seq, kind, valueStart, valueEnd) => {
      keys.push(key)
      seqs.push(seq)
      kinds.push(kind)
      starts.push(at + valueStart)
      ends.push(at + valueEnd)
    })
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
    if (survives(seq, newer, snapshots)) f(key, seq, kinds[i]!, new Uint8Array(buffer, starts[i]!, ends[i]! - starts[i]!))
    newer = seq
  }
}
