/**
 * A memtable packed for a worker thread (the flush job's payload): where the memtable's batch
 * payloads (the WAL records of its writes, doc/log_format.md) lie. A batch's payload lies in the
 * payload arena's `SharedArrayBuffer` chunks (internal/wal/payloadArena.ts), which the message
 * shares with the worker: packing copies none of its bytes, only notes its chunk, offset and
 * length. The payloads outside shared memory (single writes', and recovery's, read from a log) are
 * copied into one shared buffer. The worker decodes the payloads, sorts the entries and drops the
 * versions no snapshot needs (`forEachSorted`).
 */
import { Effect } from "effect"
import type { Kind } from "../key/internalKey.js"
import type { Memtable } from "../memtable/memtable.js"
import { survives } from "../snapshotRetention.js"
import { decodeBatch } from "../wal/batchCodec.js"

export interface PackedRun {
  /** The shared buffers the payloads lie in. */
  readonly buffers: ReadonlyArray<SharedArrayBuffer>
  /** Per payload, in arrival order: the index of its buffer, its byte offset and its length. */
  readonly records: Uint32Array
}

/** Packs the memtable; the buffers to transfer are `transferList`'s (the shared ones are shared). */
export const packMemtable = (table: Memtable): Effect.Effect<PackedRun> =>
  Effect.sync(() => {
    const payloads = table.records()
    const buffers: Array<SharedArrayBuffer> = []
    const index = new Map<SharedArrayBuffer, number>()
    const records = new Uint32Array(payloads.length * 3)
    let last: ArrayBufferLike | undefined = undefined
    let lastIndex = 0
    // Payloads outside shared memory, copied into one shared buffer after the loop.
    let unshared: Array<number> | undefined = undefined
    let unsharedBytes = 0
    for (let i = 0; i < payloads.length; i++) {
      const p = payloads[i]!
      const buffer = p.buffer
      if (buffer !== last) {
        if (!(buffer instanceof SharedArrayBuffer)) {
          ;(unshared ??= []).push(i)
          records[3 * i + 1] = unsharedBytes
          records[3 * i + 2] = p.byteLength
          unsharedBytes += p.byteLength
          continue
        }
        let at = index.get(buffer)
        if (at === undefined) {
          at = buffers.push(buffer) - 1
          index.set(buffer, at)
        }
        last = buffer
        lastIndex = at
      }
      records[3 * i] = lastIndex
      records[3 * i + 1] = p.byteOffset
      records[3 * i + 2] = p.byteLength
    }
    if (unshared !== undefined) {
      const copy = new Uint8Array(new SharedArrayBuffer(unsharedBytes))
      const at = buffers.push(copy.buffer as SharedArrayBuffer) - 1
      for (const i of unshared) {
        copy.set(payloads[i]!, records[3 * i + 1]!)
        records[3 * i] = at
      }
    }
    return { buffers, records }
  })

/** The buffers of a packed run to transfer with it (the shared ones travel shared). */
export const transferList = (run: PackedRun): Array<ArrayBuffer> => [run.records.buffer as ArrayBuffer]

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
  const { buffers, records } = run
  for (let r = 0; r < records.length; r += 3) {
    decodeBatch(new Uint8Array(buffers[records[r]!]!, records[r + 1]!, records[r + 2]!), (key, seq, kind, value) => {
      keys.push(key)
      seqs.push(seq)
      kinds.push(kind)
      values.push(value)
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
    if (survives(seq, newer, snapshots)) f(key, seq, kinds[i]!, values[i]!)
    newer = seq
  }
}
