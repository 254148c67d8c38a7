/**
 * An LRU cache of parsed blocks shared by all tables, bounded by the bytes charged for them,
 * keyed by (file number, block offset). It never holds more than `capacity`: a block larger than
 * the capacity is not cached, and capacity 0 caches nothing.
 *
 * A doubly linked list keeps recency (head = most recent); a map per file finds entries and lets
 * `evictFile` drop a deleted table's blocks without scanning the others.
 */
import type { Block } from "./block.js"

class Node<V> {
  prev: Node<V> = this
  next: Node<V> = this
  constructor(
    readonly fileNumber: number,
    readonly offset: number,
    public value: V,
    public charge: number
  ) {}
}

export class BlockCache<V = Block> {
  private readonly files = new Map<number, Map<number, Node<V>>>()
  /** Sentinel: `head.next` is the most recently used entry, `head.prev` the least. */
  private readonly head: Node<V>
  private _usage = 0
  private _entries = 0
  /** Lookups that found / did not find their block. */
  hits = 0
  misses = 0
  /**
   * Blocks missed once and not admitted: key `fileNumber * 2^32 + offset` -> its slot in `ring`,
   * which holds the last `ghostLimit` keys and forgets the oldest when full (no iterator, no
   * scan: a Set's insertion order would walk its deleted holes every time the oldest goes).
   */
  private readonly ghosts = new Map<number, number>()
  private readonly ring: Float64Array
  private ringNext = 0
  private readonly ghostLimit: number

  constructor(readonly capacity: number) {
    if (!(capacity >= 0)) throw new RangeError(`block cache capacity must be >= 0, got ${capacity}`)
    this.head = new Node<V>(-1, -1, undefined as unknown as V, 0)
    this.ghostLimit = Math.max(1024, Math.ceil(capacity / 2048))
    this.ring = new Float64Array(this.ghostLimit).fill(-1)
  }

  /**
   * Whether a block just read after a miss should be cached: always while the cache has room,
   * otherwise only on its second miss in a while (a "ghost" remembers the first). A block read
   * once in a large random working set then costs no cache churn, while blocks read again and
   * again still earn their place.
   */
  admit(fileNumber: number, offset: number, charge: number): boolean {
    if (charge > this.capacity) return false
    if (this._usage + charge <= this.capacity) return true
    const key = fileNumber * 4294967296 + offset
    if (this.ghosts.delete(key)) return true
    const slot = this.ringNext
    const oldest = this.ring[slot]!
    // The slot's key may have been admitted since, or remembered again in a newer slot.
    if (oldest >= 0 && this.ghosts.get(oldest) === slot) this.ghosts.delete(oldest)
    this.ring[slot] = key
    this.ghosts.set(key, slot)
    this.ringNext = slot + 1 === this.ghostLimit ? 0 : slot + 1
    return false
  }

  /** Bytes charged by the cached blocks. */
  get usage(): number {
    return this._usage
  }

  /** Number of cached blocks. */
  get entries(): number {
    return this._entries
  }

  /** The cached block, made most recently used; counts a hit or a miss. */
  get(fileNumber: number, offset: number): V | undefined {
    const node = this.files.get(fileNumber)?.get(offset)
    if (node === undefined) {
      this.misses++
      return undefined
    }
    this.hits++
    this.unlink(node)
    this.pushFront(node)
    return node.value
  }

  /** True when the block is cached (no counters, no recency change). */
  has(fileNumber: number, offset: number): boolean {
    return this.files.get(fileNumber)?.has(offset) === true
  }

  /** Caches a block charged `charge` bytes, evicting least recently used blocks to make room. */
  set(fileNumber: number, offset: number, value: V, charge: number): void {
    let file = this.files.get(fileNumber)
    const existing = file?.get(offset)
    if (existing !== undefined) this.remove(existing)
    if (charge > this.capacity) return
    while (this._usage + charge > this.capacity) this.remove(this.head.prev)
    if (file === undefined || file.size === 0) {
      file = new Map()
      this.files.set(fileNumber, file)
    }
    const node = new Node(fileNumber, offset, value, charge)
    file.set(offset, node)
    this.pushFront(node)
    this._usage += charge
    this._entries++
  }

  /** Drops every block of a file (its table was deleted). */
  evictFile(fileNumber: number): void {
    const file = this.files.get(fileNumber)
    if (file === undefined) return
    for (const node of file.values()) {
      this.unlink(node)
      this._usage -= node.charge
      this._entries--
    }
    this.files.delete(fileNumber)
  }

  /** Drops everything. */
  clear(): void {
    this.files.clear()
    this.ghosts.clear()
    this.ring.fill(-1)
    this.ringNext = 0
    this.head.next = this.head
    this.head.prev = this.head
    this._usage = 0
    this._entries = 0
  }

  private remove(node: Node<V>): void {
    this.unlink(node)
    this._usage -= node.charge
    this._entries--
    const file = this.files.get(node.fileNumber)
    if (file !== undefined) {
      file.delete(node.offset)
      if (file.size === 0) this.files.delete(node.fileNumber)
    }
  }

  private unlink(node: Node<V>): void {
    node.prev.next = node.next
    node.next.prev = node.prev
  }

  private pushFront(node: Node<V>): void {
    const head = this.head
    node.prev = head
    node.next = head.next
    head.next.prev = node
    head.next = node
  }
}
