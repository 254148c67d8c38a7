/**
 * A memtable: the newest writes, in memory. A `Map` from user key to its version chain gives
 * O(1) inserts and point reads; the sorted order that flushes and scans need is built on demand
 * (and cached until a new key arrives). Every version is kept, so snapshots and iterators opened
 * earlier read consistently; the flush drops what no snapshot needs.
 *
 * Every entry arrives in a batch payload (the WAL record, doc/log_format.md), and the memtable keeps
 * the payloads (its values are views into them anyway): a flush on the worker sends them as they
 * are (internal/background/packedRun.ts) instead of walking the map.
 *
 * A large batch goes into the map lazily: it is only noted (its payload, its counts); the first
 * read after it (a point read, an iterator, the inline flush) decodes the payloads not yet in the
 * map and inserts their entries. Batches that no read follows before the flush (a bulk load) never
 * make a key string, a `MemEntry` or a map slot on the database's thread: the worker decodes and
 * sorts the payloads. A fillbatch-like load spent about a fifth of its time on the database's
 * thread inserting into the map and collecting what it kept alive. A small batch (a single put)
 * goes in at once, as the writer's own work: deferred, a reader interleaved with
 * writers (readwhilewriting, keylite) would do the inserts of every write since its last read.
 */
import type { Kind } from "../key/internalKey.js"
import { decodeEntries, encodeBatch, type EncodedBatch, setSequence } from "../wal/batchCodec.js"
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

/** Batches of at most this many entries go into the map when added; larger ones at the next read. */
export const EAGER_BATCH_MAX = 16

export class Memtable {
  private readonly map = new Map<string, MemEntry>()
  private sorted: Array<string> | undefined = undefined
  /** The batch payloads of every entry, in arrival order. */
  private readonly _records: Array<Uint8Array> = []
  /** How many of `_records` (the first ones) have their entries in `map`. */
  private indexed = 0
  private _bytes = 0
  private _entries = 0
  private _minSeq = Number.POSITIVE_INFINITY
  private _maxSeq = 0

  /** @param logNumber the WAL that holds this memtable's writes. */
  constructor(readonly logNumber: number) {}

  /**
   * Adds a committed batch whose first entry has sequence `first` (stamped in its payload, where
   * the entries are decoded from: now for a small batch, else when a read needs them).
   */
  addBatch(batch: Pick<EncodedBatch, "payload" | "keys" | "userBytes">, first: number): void {
    this._records.push(batch.payload)
    this.count(batch.keys.length, batch.userBytes, first)
    if (batch.keys.length <= EAGER_BATCH_MAX) this.index()
  }

  /**
   * Adds the entries of a logged batch payload (recovery), decoding it now. Throws what
   * `decodeEntries` throws on a payload that does not parse; the memtable is then not to be used.
   */
  addRecord(payload: Uint8Array): number {
    const map = this.index()
    let first = -1
    let entries = 0
    let userBytes = 0
    const last = decodeEntries(payload, (key, seq, kind, valueStart, valueEnd) => {
      if (first < 0) first = seq
      entries++
      userBytes += key.length + valueEnd - valueStart
      this.insert(map, key, seq, kind, payload, valueStart, valueEnd)
    })
    this._records.push(payload)
    this.indexed++
    this.count(entries, userBytes, first)
    return last
  }

  /** Adds one entry on its own, as a batch of one (repair, tests). */
  add(key: string, seq: number, kind: Kind, value: Uint8Array): void {
    const batch = encodeBatch([{ kind, key, value, valueLength: value.byteLength }])
    setSequence(batch.payload, seq)
    this.addBatch(batch, seq)
  }

  /** Counts `entries` entries of `userBytes` key and value bytes, sequences `first` onwards. */
  private count(entries: number, userBytes: number, first: number): void {
    if (entries === 0) return
    this._bytes += userBytes + entries * ENTRY_OVERHEAD
    this._entries += entries
    if (first < this._minSeq) this._minSeq = first
    if (first + entries - 1 > this._maxSeq) this._maxSeq = first + entries - 1
  }

  /** The batch payloads holding every entry, in arrival order (the array is the memtable's own). */
  records(): ReadonlyArray<Uint8Array> {
    return this._records
  }

  /** The map, with the entries of every payload added so far. */
  private index(): Map<string, MemEntry> {
    const map = this.map
    const records = this._records
    while (this.indexed < records.length) {
      const payload = records[this.indexed]!
      // Our own encoding of a committed batch: it parses (a failure is a defect).
      decodeEntries(payload, (key, seq, kind, valueStart, valueEnd) => this.insert(map, key, seq, kind, payload, valueStart, valueEnd))
      this.indexed++
    }
    return map
  }

  private insert(map: Map<string, MemEntry>, key: string, seq: number, kind: Kind, record: Uint8Array, valueStart: number, valueEnd: number): void {
    const older = map.get(key)
    if (older === undefined) this.sorted = undefined
    map.set(key, new MemEntry(seq, kind, record, valueStart, valueEnd, older))
  }

  /** The newest version of `key` with sequence <= seq. */
  get(key: string, seq: number): MemEntry | undefined {
    return visibleAt(this.index().get(key), seq)
  }

  /** The whole version chain of `key`, newest first. */
  chain(key: string): MemEntry | undefined {
    return this.index().get(key)
  }

  /** Distinct keys sorted (cached until a new key is added); the array is never mutated later. */
  sortedKeys(): ReadonlyArray<string> {
    const map = this.index()
    if (this.sorted === undefined) this.sorted = Array.from(map.keys()).sort()
    return this.sorted
  }

  /** Distinct keys in insertion order (the map's own order; a copy), for an incremental sort off the hot path. */
  unsortedKeys(): ReadonlyArray<string> {
    return Array.from(this.index().keys())
  }

  /** Installs a sorted key array computed elsewhere (only if no key arrived meanwhile). */
  setSortedKeys(sorted: Array<string>): void {
    if (sorted.length === this.index().size) this.sorted = sorted
  }

  get approximateBytes(): number {
    return this._bytes
  }
  get entries(): number {
    return this._entries
  }
  get distinctKeys(): number {
    return this.index().size
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
