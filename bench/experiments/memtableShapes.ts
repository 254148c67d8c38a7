/**
 * Experiment: where a memtable's heap goes, and what LevelDB's shape (an arena of bytes with a
 * sorted index) would save. It compares two shapes holding the same N puts:
 *
 * - `map`: today's `Memtable` (src/internal/memtable/memtable.ts), a `Map` from latin1 key string
 *   to a chain of `MemEntry` objects whose values are views into the WAL payload chunks. Each put
 *   is fed as the writer feeds it: `encodeBatch` of a one-op batch, then `Memtable.add` of its
 *   view (writer.ts `apply`).
 * - `arena`: `ArenaMemtable` below, a prototype of LevelDB's memtable: a skiplist whose nodes live
 *   in `Int32Array` chunks and whose keys and values are copied into 1 MiB byte chunks; no object
 *   per entry. It is fed the same encoded batches (the WAL still needs them), copies key and value
 *   out of them, and keeps no reference to the payload, so payload chunks die with the batch.
 *
 * This is an experiment, not the engine's memtable: nothing in src uses `ArenaMemtable`.
 *
 * Per shape, each in a fresh child process (so one shape's garbage and JIT state never count for
 * the other), with N keys = the 16-digit zero-padded decimal of a pseudo-random permutation of
 * 0..N-1 and 100-byte values:
 * - bytes per entry: the delta of V8's `heapUsed` and of `arrayBuffers` (typed array backing
 *   stores, so payload or arena chunks) across building the structure, each read after full GCs,
 *   with the structure still referenced; plus "retained": the chunk bytes the entries actually
 *   occupy (payload slices for `map`, arena bytes and node words for `arena`), which does not
 *   depend on where a 1 MiB chunk boundary falls;
 * - inserts/s (building: key string, `encodeBatch`, add), and "feed only/s", the same loop
 *   without the add, so the memtable's own share can be told from the feeding;
 * - gets/s: every key once per pass in another random order, at the newest sequence, returning
 *   the value (a view: the arena makes one per get, the `Map` has it already);
 * - sort ms: the `Map` shape sorts its distinct keys before its first ordered read (the skiplist
 *   paid for order during its inserts);
 * - iteration entries/s over all entries in internal-key order, reading lengths only ("fields") and
 *   producing what a scan hands out, the key as a latin1 string and the value as a view
 *   ("materialized"; the same walk for `map`, whose strings and views exist already).
 *
 * Before measuring, the parent runs a self-check: both shapes fed the same random workload (short,
 * long, latin1 and prefix keys, deletes, several versions of a key, values spanning chunk
 * boundaries and ones given a chunk of their own) must answer every get at every probed sequence
 * alike and iterate the same entries in the same order; it exits 1 otherwise.
 *
 * Memory figures are for N of 40,000 and more: below, the 1 MiB chunks dominate `arrayBuffers`
 * (the arena's first chunks are all new; the payload arena's current chunk, allocated before the
 * baseline, can hold a small run's payloads entirely, so `map` may show 0) and the heap delta is
 * within the noise of compiled code and feedback; "retained" is exact at any N. Timings share the
 * machine: run it when nothing else does, and repeat.
 *
 * Run (gc must be exposed; the parent spawns itself with the same node flags):
 *   node --expose-gc --import tsx bench/experiments/memtableShapes.ts 200000
 *   node --expose-gc --import tsx bench/experiments/memtableShapes.ts 2000 --phase-ms 20   # smoke test
 * Arguments: N (default 40000); `--phase-ms M`, the least time each repeated phase (gets,
 * iterations) runs (default 200); `--shape map|arena` measures one shape and prints its JSON
 * (what the parent runs in each child). Output: one text table, then one JSON line.
 */
import { Buffer } from "node:buffer"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { KIND_DELETE, KIND_PUT, type Kind } from "../../src/internal/key/internalKey.js"
import { Memtable } from "../../src/internal/memtable/memtable.js"
import { decodeEntries, encodeBatch, type EncodedBatch, type ResolvedOp } from "../../src/internal/wal/batchCodec.js"
import { Rng } from "../random.js"

// ---------------------------------------------------------------------------------------------
// The arena skiplist

/** Tallest a node gets: with p = 1/4, enough for 4^12 = 16M entries, as LevelDB's memtable. */
const MAX_HEIGHT = 12

/**
 * A node is `F_NEXT + height` words of a node chunk: where its key (then value) bytes start, their
 * lengths, its sequence as two 32-bit halves (sequences go to 2^53), its kind, and one `next`
 * pointer per level. A pointer is `chunk index << nodeShift | word offset`.
 */
const F_ADDRESS = 0
const F_KEY_LENGTH = 1
const F_VALUE_LENGTH = 2
const F_SEQ_LOW = 3
const F_SEQ_HIGH = 4
const F_KIND = 5
const F_NEXT = 6

/**
 * The head node is the first node allocated, at pointer 0. Nothing ever links to the head, so a
 * `next` of 0 can mean "none" and freshly zeroed chunks need no initialization.
 */
const HEAD = 0
const NIL = 0

const TWO_32 = 4294967296

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0

/**
 * LevelDB's memtable shape: a skiplist ordered by internal key (user key bytewise ascending, then
 * sequence descending, so a key's newer versions come first) whose nodes and bytes live in large
 * chunks. Nodes are handled as numbers (pointers), so an entry costs no JS object; reads that
 * hand out a value make a view then.
 */
export class ArenaMemtable {
  /** Key and value bytes: 1 MiB chunks filled in turn, plus one chunk of its own per large entry. */
  private readonly byteChunks: Array<Buffer> = []
  private byteChunk: Buffer
  private byteChunkIndex = 0
  private byteChunkUsed = 0
  private readonly byteShift: number
  private readonly byteMask: number
  /** An entry larger than this gets a chunk of its own (filling chunks wastes at most a quarter). */
  private readonly largeEntry: number

  private readonly nodeChunks: Array<Int32Array> = []
  private nodeChunk: Int32Array
  private nodeChunkUsed = 0
  private readonly nodeShift: number
  private readonly nodeMask: number

  /** Levels in use: the tallest node's height. */
  private height = 1
  /** Scratch for `add`: the last node before the new one at each level. */
  private readonly splice = new Int32Array(MAX_HEIGHT)
  private randomState = 0x2545f491
  private _entries = 0
  private _entryBytes = 0
  private _nodeWords = 0

  constructor(
    private readonly byteChunkSize = 1 << 20,
    private readonly nodeChunkWords = 1 << 16
  ) {
    if (!isPowerOfTwo(byteChunkSize) || !isPowerOfTwo(nodeChunkWords)) throw new Error("chunk sizes must be powers of two")
    if (nodeChunkWords < F_NEXT + MAX_HEIGHT) throw new Error("a node chunk must hold the tallest node")
    this.byteShift = Math.log2(byteChunkSize)
    this.byteMask = byteChunkSize - 1
    this.largeEntry = byteChunkSize >>> 2
    this.nodeShift = Math.log2(nodeChunkWords)
    this.nodeMask = nodeChunkWords - 1
    this.byteChunk = Buffer.allocUnsafeSlow(byteChunkSize)
    this.byteChunks.push(this.byteChunk)
    this.nodeChunk = new Int32Array(nodeChunkWords)
    this.nodeChunks.push(this.nodeChunk)
    const head = this.allocNode(MAX_HEIGHT)
    if (head !== HEAD) throw new Error("the head must be the first node")
  }

  /** Adds a version; `seq` must differ from every version of `key` already in (as the writer's). */
  add(key: string, seq: number, kind: Kind, value: Uint8Array): void {
    const height = this.randomHeight()
    const splice = this.splice
    this.seek(key, seq, splice)
    if (height > this.height) {
      for (let level = this.height; level < height; level++) splice[level] = HEAD
      this.height = height
    }
    const address = this.appendBytes(key, value)
    const node = this.allocNode(height)
    const words = this.nodeChunks[node >>> this.nodeShift]!
    const at = node & this.nodeMask
    words[at + F_ADDRESS] = address
    words[at + F_KEY_LENGTH] = key.length
    words[at + F_VALUE_LENGTH] = value.byteLength
    words[at + F_SEQ_LOW] = seq >>> 0
    words[at + F_SEQ_HIGH] = Math.floor(seq / TWO_32)
    words[at + F_KIND] = kind
    for (let level = 0; level < height; level++) {
      const before = splice[level]!
      words[at + F_NEXT + level] = this.nextOf(before, level)
      this.setNext(before, level, node)
    }
    this._entries++
  }

  /** The node of the newest version of `key` with sequence <= seq, or NIL. */
  get(key: string, seq: number): number {
    const node = this.seek(key, seq, undefined)
    return node !== NIL && this.keyEquals(node, key) ? node : NIL
  }

  /** The first node in internal-key order, or NIL. */
  first(): number {
    return this.nextOf(HEAD, 0)
  }

  /** The node after `node` in internal-key order, or NIL. */
  next(node: number): number {
    return this.nextOf(node, 0)
  }

  seqOf(node: number): number {
    const words = this.nodeChunks[node >>> this.nodeShift]!
    const at = node & this.nodeMask
    return words[at + F_SEQ_HIGH]! * TWO_32 + (words[at + F_SEQ_LOW]! >>> 0)
  }

  kindOf(node: number): Kind {
    return this.nodeChunks[node >>> this.nodeShift]![(node & this.nodeMask) + F_KIND] as Kind
  }

  keyLengthOf(node: number): number {
    return this.nodeChunks[node >>> this.nodeShift]![(node & this.nodeMask) + F_KEY_LENGTH]!
  }

  valueLengthOf(node: number): number {
    return this.nodeChunks[node >>> this.nodeShift]![(node & this.nodeMask) + F_VALUE_LENGTH]!
  }

  /** The key as a latin1 string (a new string per call). */
  keyOf(node: number): string {
    const words = this.nodeChunks[node >>> this.nodeShift]!
    const at = node & this.nodeMask
    const address = words[at + F_ADDRESS]!
    const start = address & this.byteMask
    return this.byteChunks[address >>> this.byteShift]!.latin1Slice(start, start + words[at + F_KEY_LENGTH]!)
  }

  /**
   * The value as a view into the arena (a new view per call). A plain `Uint8Array` made directly:
   * `Buffer#subarray` goes through the species constructor, several times slower per view.
   */
  valueOf(node: number): Uint8Array {
    const words = this.nodeChunks[node >>> this.nodeShift]!
    const at = node & this.nodeMask
    const address = words[at + F_ADDRESS]!
    const bytes = this.byteChunks[address >>> this.byteShift]!
    const start = bytes.byteOffset + (address & this.byteMask) + words[at + F_KEY_LENGTH]!
    return new Uint8Array(bytes.buffer, start, words[at + F_VALUE_LENGTH]!)
  }

  get entries(): number {
    return this._entries
  }

  /** Bytes the entries occupy: key and value bytes plus node words (chunk tails not counted). */
  get retainedBytes(): number {
    return this._entryBytes + this._nodeWords * 4
  }

  /**
   * The first node not before (key, seq) in internal-key order: for a get, the newest version of
   * `key` with sequence <= seq if there is one. With `splice`, records the last node before it at
   * every level in use (where an insert links in).
   */
  private seek(key: string, seq: number, splice: Int32Array | undefined): number {
    let node = HEAD
    let level = this.height - 1
    for (;;) {
      const next = this.nextOf(node, level)
      if (next !== NIL && this.isBefore(next, key, seq)) {
        node = next
      } else {
        if (splice !== undefined) splice[level] = node
        if (level === 0) return next
        level--
      }
    }
  }

  /** Whether `node` sorts before the internal key (key, seq): bytes against the key's char codes. */
  private isBefore(node: number, key: string, seq: number): boolean {
    const words = this.nodeChunks[node >>> this.nodeShift]!
    const at = node & this.nodeMask
    const address = words[at + F_ADDRESS]!
    const bytes = this.byteChunks[address >>> this.byteShift]!
    const start = address & this.byteMask
    const length = words[at + F_KEY_LENGTH]!
    const common = length < key.length ? length : key.length
    for (let i = 0; i < common; i++) {
      const d = bytes[start + i]! - key.charCodeAt(i)
      if (d !== 0) return d < 0
    }
    if (length !== key.length) return length < key.length
    // Same user key: a newer version (larger sequence) sorts first.
    return words[at + F_SEQ_HIGH]! * TWO_32 + (words[at + F_SEQ_LOW]! >>> 0) > seq
  }

  private keyEquals(node: number, key: string): boolean {
    const words = this.nodeChunks[node >>> this.nodeShift]!
    const at = node & this.nodeMask
    const length = words[at + F_KEY_LENGTH]!
    if (length !== key.length) return false
    const address = words[at + F_ADDRESS]!
    const bytes = this.byteChunks[address >>> this.byteShift]!
    const start = address & this.byteMask
    for (let i = 0; i < length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false
    return true
  }

  private nextOf(node: number, level: number): number {
    return this.nodeChunks[node >>> this.nodeShift]![(node & this.nodeMask) + F_NEXT + level]!
  }

  private setNext(node: number, level: number, to: number): void {
    this.nodeChunks[node >>> this.nodeShift]![(node & this.nodeMask) + F_NEXT + level] = to
  }

  /** Height of a new node: 1, then one more with probability 1/4 each, at most MAX_HEIGHT. */
  private randomHeight(): number {
    let height = 1
    while (height < MAX_HEIGHT) {
      // xorshift32: cheap, and deterministic so runs build the same towers.
      let x = this.randomState
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      this.randomState = x
      if ((x >>> 30) !== 0) break
      height++
    }
    return height
  }

  private allocNode(height: number): number {
    const words = F_NEXT + height
    if (this.nodeChunkUsed + words > this.nodeChunkWords) {
      // Pointers are 32-bit: the chunk index must fit above the offset bits.
      if (this.nodeChunks.length >= 2 ** (32 - this.nodeShift)) throw new Error("node pool full")
      this.nodeChunk = new Int32Array(this.nodeChunkWords)
      this.nodeChunks.push(this.nodeChunk)
      this.nodeChunkUsed = 0
    }
    const node = ((this.nodeChunks.length - 1) << this.nodeShift) | this.nodeChunkUsed
    this.nodeChunkUsed += words
    this._nodeWords += words
    return node
  }

  /** Copies key then value contiguously (a value view must be one chunk); returns their address. */
  private appendBytes(key: string, value: Uint8Array): number {
    const size = key.length + value.byteLength
    this._entryBytes += size
    if (size > this.largeEntry) {
      const own = Buffer.allocUnsafeSlow(size)
      if (key.length > 0) own.latin1Write(key, 0)
      own.set(value, key.length)
      return this.pushByteChunk(own) << this.byteShift
    }
    if (this.byteChunkUsed + size > this.byteChunkSize) {
      this.byteChunk = Buffer.allocUnsafeSlow(this.byteChunkSize)
      this.byteChunkIndex = this.pushByteChunk(this.byteChunk)
      this.byteChunkUsed = 0
    }
    const start = this.byteChunkUsed
    // Empty writes skipped: `latin1Write` at an offset equal to the length throws.
    if (key.length > 0) this.byteChunk.latin1Write(key, start)
    if (value.byteLength > 0) this.byteChunk.set(value, start + key.length)
    this.byteChunkUsed += size
    return (this.byteChunkIndex << this.byteShift) | start
  }

  private pushByteChunk(chunk: Buffer): number {
    if (this.byteChunks.length >= 2 ** (32 - this.byteShift)) throw new Error("byte arena full")
    this.byteChunks.push(chunk)
    return this.byteChunks.length - 1
  }
}

// ---------------------------------------------------------------------------------------------
// The two shapes behind one interface (each child process runs one, so calls stay monomorphic)

type ShapeName = "map" | "arena"
const SHAPES: ReadonlyArray<ShapeName> = ["map", "arena"]

/** One version as the self-check compares it. */
interface Version {
  readonly key: string
  readonly seq: number
  readonly kind: Kind
  readonly value: Uint8Array
}

interface Shape {
  /** Adds a batch's entries with sequences first, first + 1, ... (the writer's `apply`). */
  apply(batch: EncodedBatch, first: number): void
  /** The value visible at `seq`, or undefined (no version, or a delete). */
  getValue(key: string, seq: number): Uint8Array | undefined
  /** The version visible at `seq`, as an object (self-check only). */
  version(key: string, seq: number): Version | undefined
  /** Readies ordered reads: the `Map` shape sorts its distinct keys; the skiplist is sorted. */
  prepareIteration(): void
  /** Walks every entry in order reading lengths only; returns the entries visited. */
  iterateFields(): number
  /** Walks every entry in order making its key string and value view; returns the entries visited. */
  iterateMaterialized(): number
  /** Every entry in order, as objects (self-check only). */
  versions(): Array<Version>
  /** Chunk bytes the entries occupy, chunk tails not counted. */
  retainedBytes(): number
  entries(): number
}

/** Where the walks put what they read, so the JIT cannot drop the reads. */
let sink = 0

const makeMapShape = (): Shape => {
  const memtable = new Memtable(1)
  let payloadBytes = 0
  const walk = (): number => {
    let visited = 0
    for (const key of memtable.sortedKeys()) {
      for (let e = memtable.chain(key); e !== undefined; e = e.older) {
        sink += key.length + e.value.byteLength
        visited++
      }
    }
    return visited
  }
  return {
    apply(batch, first) {
      memtable.addBatch(batch, first)
      // The payload chunk keeps the whole payload alive (header, key copy, varints), 8-aligned.
      payloadBytes += (batch.payload.byteLength + 7) & ~7
    },
    getValue(key, seq) {
      const e = memtable.get(key, seq)
      return e !== undefined && e.kind === KIND_PUT ? e.value : undefined
    },
    version(key, seq) {
      const e = memtable.get(key, seq)
      return e === undefined ? undefined : { key, seq: e.seq, kind: e.kind, value: e.value }
    },
    prepareIteration() {
      memtable.sortedKeys()
    },
    iterateFields: walk,
    // Keys are strings and values views already: a scan hands them out as they are.
    iterateMaterialized: walk,
    versions() {
      const out: Array<Version> = []
      for (const key of memtable.sortedKeys()) {
        for (let e = memtable.chain(key); e !== undefined; e = e.older) out.push({ key, seq: e.seq, kind: e.kind, value: e.value })
      }
      return out
    },
    retainedBytes: () => payloadBytes,
    entries: () => memtable.entries
  }
}

const makeArenaShape = (arena: ArenaMemtable = new ArenaMemtable()): Shape => ({
  apply(batch, first) {
    const { payload } = batch
    let i = 0
    decodeEntries(payload, (key, _seq, kind, valueStart, valueEnd) => arena.add(key, first + i++, kind, payload.subarray(valueStart, valueEnd)))
  },
  getValue(key, seq) {
    const node = arena.get(key, seq)
    return node !== NIL && arena.kindOf(node) === KIND_PUT ? arena.valueOf(node) : undefined
  },
  version(key, seq) {
    const node = arena.get(key, seq)
    return node === NIL ? undefined : { key: arena.keyOf(node), seq: arena.seqOf(node), kind: arena.kindOf(node), value: arena.valueOf(node) }
  },
  prepareIteration() {},
  iterateFields() {
    let visited = 0
    for (let node = arena.first(); node !== NIL; node = arena.next(node)) {
      sink += arena.keyLengthOf(node) + arena.valueLengthOf(node)
      visited++
    }
    return visited
  },
  iterateMaterialized() {
    let visited = 0
    for (let node = arena.first(); node !== NIL; node = arena.next(node)) {
      sink += arena.keyOf(node).length + arena.valueOf(node).byteLength
      visited++
    }
    return visited
  },
  versions() {
    const out: Array<Version> = []
    for (let node = arena.first(); node !== NIL; node = arena.next(node)) {
      out.push({ key: arena.keyOf(node), seq: arena.seqOf(node), kind: arena.kindOf(node), value: arena.valueOf(node) })
    }
    return out
  },
  retainedBytes: () => arena.retainedBytes,
  entries: () => arena.entries
})

const makeShape = (name: ShapeName): Shape => (name === "map" ? makeMapShape() : makeArenaShape())

// ---------------------------------------------------------------------------------------------
// Self-check: both shapes answer alike on a random workload

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

const describeVersion = (v: Version | undefined): string =>
  v === undefined ? "none" : `${JSON.stringify(v.key)}@${v.seq} kind ${v.kind} value ${v.value.byteLength} B`

const sameVersion = (a: Version | undefined, b: Version | undefined): boolean =>
  a === undefined || b === undefined
    ? a === b
    : a.key === b.key && a.seq === b.seq && a.kind === b.kind && sameBytes(a.value, b.value)

/** Returns the mismatches found (empty when both shapes agree). */
const selfCheck = (): Array<string> => {
  const rng = new Rng(7)
  // Bytes that catch ordering mistakes: 0x00 and 0xff ends, both sides of 0x80 (signed-byte bugs),
  // and few enough letters that keys share prefixes and one key is often a prefix of another.
  const alphabet = [0x00, 0x01, 0x61, 0x62, 0x7f, 0x80, 0xfe, 0xff]
  const randomKey = (): string => {
    const length = 1 + rng.below(rng.below(4) === 0 ? 40 : 6)
    let key = ""
    for (let i = 0; i < length; i++) key += String.fromCharCode(alphabet[rng.below(alphabet.length)]!)
    return key
  }
  const keys = Array.from({ length: 150 }, randomKey)
  const absent = Array.from({ length: 30 }, randomKey).filter((k) => !keys.includes(k))
  const randomValue = (): Uint8Array => {
    const r = rng.below(100)
    // Mostly small; some a good part of a test chunk (entries straddle chunk ends); a few larger
    // than a quarter chunk (a chunk of their own); empty ones too.
    const length = r < 1 ? 3000 + rng.below(2000) : r < 11 ? 200 + rng.below(800) : rng.below(40)
    const value = new Uint8Array(length)
    for (let i = 0; i < length; i++) value[i] = rng.below(256)
    return value
  }

  const map = makeMapShape()
  // Small chunks, so a short workload crosses many byte and node chunk boundaries.
  const arena = makeArenaShape(new ArenaMemtable(4096, 256))
  const problems: Array<string> = []
  let lastSeq = 0
  const compare = (round: number) => {
    const probeKeys = [...keys, ...absent]
    for (const key of probeKeys) {
      const seqs = [lastSeq, 0, ...Array.from({ length: 6 }, () => rng.below(lastSeq + 1))]
      for (const seq of seqs) {
        const a = map.version(key, seq)
        const b = arena.version(key, seq)
        if (!sameVersion(a, b) && problems.length < 20) {
          problems.push(`round ${round}: get(${JSON.stringify(key)}, ${seq}): map ${describeVersion(a)}, arena ${describeVersion(b)}`)
        }
      }
    }
    const fromMap = map.versions()
    const fromArena = arena.versions()
    if (fromMap.length !== fromArena.length || map.entries() !== arena.entries()) {
      problems.push(`round ${round}: map iterates ${fromMap.length} of ${map.entries()} entries, arena ${fromArena.length} of ${arena.entries()}`)
    }
    for (let i = 0; i < Math.min(fromMap.length, fromArena.length); i++) {
      if (!sameVersion(fromMap[i], fromArena[i])) {
        problems.push(`round ${round}: entry ${i}: map ${describeVersion(fromMap[i])}, arena ${describeVersion(fromArena[i])}`)
        break
      }
    }
  }

  const rounds = 4
  for (let round = 0; round < rounds; round++) {
    for (let b = 0; b < 300; b++) {
      const ops: Array<ResolvedOp> = []
      const size = 1 + rng.below(4)
      for (let i = 0; i < size; i++) {
        const key = keys[rng.below(keys.length)]!
        if (rng.below(4) === 0) ops.push({ kind: KIND_DELETE, key, value: undefined, valueLength: 0 })
        else {
          const value = randomValue()
          ops.push({ kind: KIND_PUT, key, value, valueLength: value.byteLength })
        }
      }
      // One encoded batch fed to both, as the writer's `apply` would feed one memtable.
      const batch = encodeBatch(ops)
      map.apply(batch, lastSeq + 1)
      arena.apply(batch, lastSeq + 1)
      lastSeq += ops.length
    }
    compare(round)
  }
  return problems
}

// ---------------------------------------------------------------------------------------------
// Measuring one shape (in a child process)

const KEY_LENGTH = 16
const VALUE_LENGTH = 100
const SEED = 20240611

const gc = (globalThis as { gc?: () => void }).gc

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Full GCs until the heap and array-buffer figures hold still. V8 frees array buffers on a
 * background sweeper and updates `arrayBuffers` when that finishes, which on a busy machine can
 * lag a `gc()` by several milliseconds: reading at once could still count the warm-up's chunks.
 */
const settle = async (): Promise<void> => {
  let last = { heapUsed: -1, arrayBuffers: -1 }
  let steady = 0
  for (let round = 0; round < 30 && steady < 2; round++) {
    gc!()
    await sleep(10)
    const now = process.memoryUsage()
    steady = now.arrayBuffers === last.arrayBuffers && Math.abs(now.heapUsed - last.heapUsed) < 4096 ? steady + 1 : 0
    last = now
  }
}

const keyScratch = Buffer.allocUnsafe(KEY_LENGTH)

/**
 * The 16-digit zero-padded decimal of `i` as a flat latin1 string, made as `Db.put` makes one from
 * a key `Buffer` (a `latin1Slice`), so the `Map` shape holds the same kind of string it holds
 * in the engine.
 */
const keyText = (i: number): string => {
  let n = i
  for (let p = KEY_LENGTH - 1; p >= 0; p--) {
    keyScratch[p] = 48 + (n % 10)
    n = Math.floor(n / 10)
  }
  return keyScratch.latin1Slice(0, KEY_LENGTH)
}

/** A 100-byte printable value with the key's index in its first 4 bytes (values differ, cheaply). */
const valueScratch = Buffer.alloc(VALUE_LENGTH, 0x61)
const valueOf = (i: number): Buffer => {
  valueScratch.writeUInt32LE(i >>> 0, 0)
  return valueScratch
}

/** One put as `Db.put` hands it to the writer: a one-op batch, encoded. */
const encodePut = (i: number): EncodedBatch =>
  encodeBatch([{ kind: KIND_PUT, key: keyText(i), value: valueOf(i), valueLength: VALUE_LENGTH }])

/** Fills `shape` with the puts of `order` (key indexes), sequence 1, 2, ... */
const fill = (shape: Shape, order: Int32Array, from: number, to: number): void => {
  for (let i = from; i < to; i++) shape.apply(encodePut(order[i]!), i + 1)
}

/** Runs `pass` repeatedly for at least `minMs`; returns items per second (`pass` returns items). */
const rate = (minMs: number, pass: () => number): number => {
  let items = 0
  const start = performance.now()
  let elapsed = 0
  do {
    items += pass()
    elapsed = performance.now() - start
  } while (elapsed < minMs)
  return (items / elapsed) * 1000
}

interface ShapeResult {
  readonly shape: ShapeName
  readonly n: number
  readonly heapBytesPerEntry: number
  readonly arrayBufferBytesPerEntry: number
  readonly totalBytesPerEntry: number
  readonly retainedChunkBytesPerEntry: number
  readonly insertsPerSec: number
  readonly feedOnlyPerSec: number
  readonly getsPerSec: number
  readonly sortMs: number
  readonly iterFieldsPerSec: number
  readonly iterMaterializedPerSec: number
}

/**
 * Builds, reads and walks a structure of its own (keys past n, so none is shared), then drops it:
 * the JIT compiles the paths before the clock runs. 20,000 entries whatever N is: with fewer, the
 * skiplist's first measured inserts still ran partly unoptimized (several times slower). A function
 * of its own, so nothing of it stays in the measuring frame's registers across the awaits, and its
 * garbage is gone before the baseline.
 */
const WARM_UP_ENTRIES = 20000

const warmUp = (name: ShapeName, n: number): void => {
  const warmN = WARM_UP_ENTRIES
  const warm = makeShape(name)
  const warmOrder = new Int32Array(warmN)
  for (let i = 0; i < warmN; i++) warmOrder[i] = n + i
  fill(warm, warmOrder, 0, warmN)
  for (let i = 0; i < warmN; i++) warm.getValue(keyText(n + i), warmN)
  warm.prepareIteration()
  warm.iterateFields()
  warm.iterateMaterialized()
}

const measure = async (name: ShapeName, n: number, phaseMs: number): Promise<ShapeResult> => {
  const order = new Rng(SEED).permutation(n)
  const getOrder = new Rng(SEED + 1).permutation(n)

  warmUp(name, n)

  await settle()
  const before = process.memoryUsage()
  const buildStart = performance.now()
  const shape = makeShape(name)
  fill(shape, order, 0, n)
  const buildMs = performance.now() - buildStart
  await settle()
  const after = process.memoryUsage()
  if (shape.entries() !== n) throw new Error(`${name}: ${shape.entries()} entries after ${n} puts`)

  // The same loop without the add: key strings and encoded batches only (garbage at once).
  const feedStart = performance.now()
  for (let i = 0; i < n; i++) sink += encodePut(order[i]!).payload.byteLength
  const feedMs = performance.now() - feedStart

  const probes = Array.from(getOrder, keyText)
  const getsPerSec = rate(phaseMs, () => {
    for (const key of probes) {
      const value = shape.getValue(key, n)
      if (value === undefined) throw new Error(`${name}: get(${key}) found nothing`)
      sink += value.byteLength
    }
    return probes.length
  })

  const sortStart = performance.now()
  shape.prepareIteration()
  const sortMs = performance.now() - sortStart
  const check = (visited: number) => {
    if (visited !== n) throw new Error(`${name}: iteration visited ${visited} of ${n} entries`)
    return visited
  }
  const iterFieldsPerSec = rate(phaseMs, () => check(shape.iterateFields()))
  const iterMaterializedPerSec = rate(phaseMs, () => check(shape.iterateMaterialized()))

  const heap = after.heapUsed - before.heapUsed
  const arrayBuffers = after.arrayBuffers - before.arrayBuffers
  const result: ShapeResult = {
    shape: name,
    n,
    heapBytesPerEntry: heap / n,
    arrayBufferBytesPerEntry: arrayBuffers / n,
    totalBytesPerEntry: (heap + arrayBuffers) / n,
    retainedChunkBytesPerEntry: shape.retainedBytes() / n,
    insertsPerSec: (n / buildMs) * 1000,
    feedOnlyPerSec: (n / feedMs) * 1000,
    getsPerSec,
    sortMs,
    iterFieldsPerSec,
    iterMaterializedPerSec
  }
  // The structure stays referenced until here, after every measurement that needs it.
  if (shape.entries() !== n) throw new Error("unreachable")
  return result
}

// ---------------------------------------------------------------------------------------------
// Parent: self-check, one child per shape, the comparison

interface Args {
  readonly n: number
  readonly phaseMs: number
  readonly shape: ShapeName | undefined
}

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  let n = 40000
  let phaseMs = 200
  let shape: ShapeName | undefined = undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--shape") {
      const s = argv[++i]
      if (s !== "map" && s !== "arena") throw new Error(`--shape takes map or arena, got ${s}`)
      shape = s
    } else if (arg === "--phase-ms") {
      phaseMs = Number(argv[++i])
      if (!(phaseMs >= 0)) throw new Error("--phase-ms takes a number of milliseconds")
    } else if (/^\d+$/.test(arg) && Number(arg) > 0) {
      n = Number(arg)
    } else {
      throw new Error(`unknown argument ${arg} (usage: memtableShapes.ts [N] [--phase-ms M] [--shape map|arena])`)
    }
  }
  return { n, phaseMs, shape }
}

const runChild = (shape: ShapeName, args: Args): ShapeResult => {
  const script = fileURLToPath(import.meta.url)
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, script, String(args.n), "--phase-ms", String(args.phaseMs), "--shape", shape],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 }
  )
  if (child.status !== 0) throw new Error(`the ${shape} child exited with ${child.status ?? child.signal}`)
  const lines = child.stdout.trim().split("\n")
  return JSON.parse(lines[lines.length - 1]!) as ShapeResult
}

const fixed = (x: number, digits: number): string => x.toFixed(digits)
const thousands = (x: number): string => Math.round(x).toLocaleString("en-US")

const printTable = (results: ReadonlyArray<ShapeResult>): void => {
  const rows: Array<[string, (r: ShapeResult) => string]> = [
    ["JS heap B/entry", (r) => fixed(r.heapBytesPerEntry, 1)],
    ["arrayBuffers B/entry", (r) => fixed(r.arrayBufferBytesPerEntry, 1)],
    ["total B/entry", (r) => fixed(r.totalBytesPerEntry, 1)],
    ["retained chunk B/entry", (r) => fixed(r.retainedChunkBytesPerEntry, 1)],
    ["inserts/s", (r) => thousands(r.insertsPerSec)],
    ["  feed only/s", (r) => thousands(r.feedOnlyPerSec)],
    ["gets/s", (r) => thousands(r.getsPerSec)],
    ["sort ms", (r) => fixed(r.sortMs, 2)],
    ["iter fields entries/s", (r) => thousands(r.iterFieldsPerSec)],
    ["iter materialized entries/s", (r) => thousands(r.iterMaterializedPerSec)]
  ]
  const labelWidth = Math.max(...rows.map(([label]) => label.length))
  const cells = rows.map(([, cell]) => results.map(cell))
  const widths = results.map((r, i) => Math.max(r.shape.length, ...cells.map((row) => row[i]!.length)))
  const line = (label: string, values: ReadonlyArray<string>) =>
    [label.padEnd(labelWidth), ...values.map((v, i) => v.padStart(widths[i]!))].join("  ")
  console.log(line("", results.map((r) => r.shape)))
  rows.forEach(([label], i) => console.log(line(label, cells[i]!)))
}

const main = async (): Promise<void> => {
  const args = parseArgs(process.argv.slice(2))
  if (typeof gc !== "function") {
    console.error("gc is not exposed: node --expose-gc --import tsx bench/experiments/memtableShapes.ts [N]")
    process.exit(2)
  }
  if (args.shape !== undefined) {
    console.log(JSON.stringify({ ...(await measure(args.shape, args.n, args.phaseMs)), checksum: sink }))
    return
  }
  const problems = selfCheck()
  if (problems.length > 0) {
    console.error("self-check failed: the arena memtable and today's Memtable disagree")
    for (const p of problems) console.error(`  ${p}`)
    process.exit(1)
  }
  console.log("self-check passed: both shapes answer alike (gets at many sequences, full iteration)")
  const results = SHAPES.map((shape) => runChild(shape, args))
  console.log(
    `memtable shapes, N=${args.n.toLocaleString("en-US")} puts of ${KEY_LENGTH}-byte keys and ${VALUE_LENGTH}-byte values, node ${process.version}`
  )
  printTable(results)
  console.log(JSON.stringify({ experiment: "memtableShapes", n: args.n, node: process.version, phaseMs: args.phaseMs, results }))
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
