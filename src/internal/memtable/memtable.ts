/**
 * A memtable: the newest writes, in memory. A `Map` from user key to its version chain gives
 * O(1) inserts and point reads; the sorted order that flushes and scans need is built on demand
 * (and cached until a new key arrives). Every version is kept, so snapshots and iterators opened
 * earlier read consistently; the flush drops what no snapshot needs.
 *
 * Every entry arrives in a batch payload (the WAL record, doc/log_format.md), and the memtable keeps
 * the payloads (its values are views into them anyway): a flush on the worker sends them as they
 * are (internal/background/packedRun.ts) instead of walking the map.
 */
import type { Kind } from "../key/internalKey.js"
import { decodeBatch, encodeBatch, type EncodedBatch, setSequence } from "../wal/batchCodec.js"
import { MemEntry, visibleAt } from "./memEntry.js"

/**
 * Bytes charged per entry on top of its key and value bytes: what an entry costs beyond them,
 * measured for the costliest shape, a batch per entry (Node 20, 200k puts of 16-byte keys and
 * 100-byte values, bench/experiments/memtableShapes.ts, after full GCs): 248 B of JS heap (the key
 * string, the `MemEntry`, the Map slot, the view of its batch's payload in `records`) and 136 B of
 * payload arena (batch header, kind, varints, key, value) = 384 B, so 268 B beyond the 116 of key
 * and value. Entries of larger batches share one payload view, and cost less. Charging it makes
 * `writeBufferSize` (and the memory budget's share of memtables) the memory a memtable really
 * takes. Was 48, which undercounted a memtable by 2.3x.
 */
export const ENTRY_OVERHEAD = 264

export class Memtable {
  private readonly map = new Map<string, MemEntry>()
  private sorted: Array<string> | undefined = undefined
  /** The batch payloads of every entry, in arrival order. */
  private readonly _records: Array<Uint8Array> = []
  private _bytes = 0
  private _entries = 0
  private _minSeq = Number.POSITIVE_INFINITY
  private _maxSeq = 0

  /** @param logNumber the WAL that holds this memtable's writes. */
  constructor(readonly logNumber: number) {}

  /** Adds a committed batch whose first entry has sequence `first` (stamped in its payload). */
  addBatch(batch: Pick<EncodedBatch, "payload" | "keys" | "kinds" | "valueStarts" | "valueEnds">, first: number): void {
    const { payload, keys, kinds, valueStarts, valueEnds } = batch
    this._records.push(payload)
    for (let i = 0; i < keys.length; i++) this.insert(keys[i]!, first + i, kinds[i]!, payload, valueStarts[i]!, valueEnds[i]!)
  }

  /**
   * Adds the entries of a logged batch payload (recovery). Throws what `decodeBatch` throws on a
   * payload that does not parse; the memtable is then not to be used.
   */
  addRecord(payload: Uint8Array): number {
    const last = decodeBatch(payload, (key, seq, kind, value) => {
      // The value is a view of the payload's bytes.
      const start = value.byteLength === 0 ? 0 : value.byteOffset - payload.byteOffset
      this.insert(key, seq, kind, payload, start, start + value.byteLength)
    })
    this._records.push(payload)
    return last
  }

  /** Adds one entry on its own, as a batch of one (repair, tests). */
  add(key: string, seq: number, kind: Kind, value: Uint8Array): void {
    const batch = encodeBatch([{ kind, key, value, valueLength: value.byteLength }])
    setSequence(batch.payload, seq)
    this.addBatch(batch, seq)
  }

  /** The batch payloads holding every entry, in arrival order (the array is the memtable's own). */
  records(): ReadonlyArray<Uint8Array> {
    return this._records
  }

  private insert(key: string, seq: number, kind: Kind, record: Uint8Array, valueStart: number, valueEnd: number): void {
    const older = this.map.get(key)
    if (older === undefined) this.sorted = undefined
    this.map.set(key, new MemEntry(seq, kind, record, valueStart, valueEnd, older))
    this._bytes += key.length + (valueEnd - valueStart) + ENTRY_OVERHEAD
    this._entries++
    if (seq < this._minSeq) this._minSeq = seq
    if (seq > this._maxSeq) this._maxSeq = seq
  }

  /** The newest version of `key` with sequence <= seq. */
  get(key: string, seq: number): MemEntry | undefined {
    return visibleAt(this.map.get(key), seq)
  }

  /** The whole version chain of `key`, newest first. */
  chain(key: string): MemEntry | undefined {
    return this.map.get(key)
  }

  /** Distinct keys sorted (cached until a new key is added); the array is never mutated later. */
  sortedKeys(): ReadonlyArray<string> {
    if (this.sorted === undefined) this.sorted = Array.from(this.map.keys()).sort()
    return this.sorted
  }

  /** Distinct keys in insertion order (the map's own order; a copy), for an incremental sort off the hot path. */
  unsortedKeys(): ReadonlyArray<string> {
    return Array.from(this.map.keys())
  }

  /** Installs a sorted key array computed elsewhere (only if no key arrived meanwhile). */
  setSortedKeys(sorted: Array<string>): void {
    if (sorted.length === this.map.size) this.sorted = sorted
  }

  get approximateBytes(): number {
    return this._bytes
  }
  get entries(): number {
    return this._entries
  }
  get distinctKeys(): number {
    return this.map.size
  }
  get isEmpty(): boolean {
    return this._entries === 0
  }
  get minSeq(): number {
    return this._minSeq
  }
  get maxSeq(): number {
    return this._maxSeq
  }
}
