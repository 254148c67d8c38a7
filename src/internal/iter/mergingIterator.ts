/**
 * The merging iterator (LevelDB's merger.cc): the union of several sorted children in internal-key
 * order. It moves in one direction per positioning (`seek*` sets it); `next` after `prev` (or the
 * reverse) is not supported, as the scans and compactions above it never switch direction.
 *
 * Forward, the valid children sit in a binary min-heap, so a step costs O(log n) comparisons: only
 * the child that moved can change its place, and only it can become pending. Backward (reverse
 * scans only) the largest child is found by a linear pass.
 */
import { Effect } from "effect"
import type { TableError } from "../table/tableFile.js"
import { compareInternal, type Kind } from "../key/internalKey.js"
import type { InternalIterator } from "./internalIterator.js"

const before = (a: InternalIterator, b: InternalIterator): boolean => {
  const ak = a.key()
  const bk = b.key()
  return ak < bk || (ak === bk && a.seq() > b.seq())
}

export class MergingIterator implements InternalIterator {
  private current: InternalIterator | undefined = undefined
  private forward = true
  /** Forward: the valid children, a min-heap in internal-key order. */
  private heap: Array<InternalIterator> = []
  /** Every child was repositioned: the order is rebuilt once none is pending. */
  private repositioned = false

  constructor(private readonly children: ReadonlyArray<InternalIterator>) {}

  valid(): boolean {
    return this.current !== undefined && this.current.valid()
  }
  key(): string {
    return this.current!.key()
  }
  seq(): number {
    return this.current!.seq()
  }
  kind(): Kind {
    return this.current!.kind()
  }
  value(): Uint8Array {
    return this.current!.value()
  }

  pending(): boolean {
    if (this.repositioned) {
      for (const c of this.children) if (c.pending()) return true
      return false
    }
    return this.current !== undefined && this.current.pending()
  }

  load(): Effect.Effect<void, TableError> {
    if (!this.repositioned) {
      const c = this.current
      if (c === undefined || !c.pending()) return Effect.void
      return Effect.zipRight(c.load(), Effect.sync(() => this.afterStep()))
    }
    return Effect.forEach(this.children, (c) => (c.pending() ? c.load() : Effect.void), { discard: true }).pipe(
      Effect.zipRight(Effect.sync(() => this.rebuild()))
    )
  }

  /** After every child was repositioned: the order from scratch, unless some child waits for I/O. */
  private rebuild(): void {
    this.repositioned = true
    for (const c of this.children) if (c.pending()) return
    this.repositioned = false
    if (this.forward) {
      this.heap = []
      for (const c of this.children) if (c.valid()) this.push(c)
      this.current = this.heap[0]
    } else {
      this.current = this.largest()
    }
  }

  /** After the current child moved: its new place, unless it waits for I/O. */
  private afterStep(): void {
    const c = this.current!
    if (c.pending()) return
    if (!this.forward) {
      this.current = this.largest()
      return
    }
    const heap = this.heap
    if (c.valid()) {
      this.siftDown(0)
    } else {
      const last = heap.pop()!
      if (heap.length > 0 && last !== c) {
        heap[0] = last
        this.siftDown(0)
      }
    }
    this.current = heap[0]
  }

  private largest(): InternalIterator | undefined {
    let best: InternalIterator | undefined = undefined
    for (const c of this.children) {
      if (!c.valid()) continue
      if (best === undefined || compareInternal(c.key(), c.seq(), best.key(), best.seq()) > 0) best = c
    }
    return best
  }

  private push(c: InternalIterator): void {
    const heap = this.heap
    let i = heap.length
    heap.push(c)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(c, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = c
  }

  private siftDown(i: number): void {
    const heap = this.heap
    const n = heap.length
    const item = heap[i]!
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left
      if (!before(heap[child]!, item)) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = item
  }

  seekToFirst(): void {
    this.forward = true
    for (const c of this.children) c.seekToFirst()
    this.rebuild()
  }
  seekToLast(): void {
    this.forward = false
    for (const c of this.children) c.seekToLast()
    this.rebuild()
  }
  seek(key: string, seq: number): void {
    this.forward = true
    for (const c of this.children) c.seek(key, seq)
    this.rebuild()
  }
  seekForPrev(key: string, seq: number): void {
    this.forward = false
    for (const c of this.children) c.seekForPrev(key, seq)
    this.rebuild()
  }
  next(): void {
    if (!this.forward) throw new Error("MergingIterator: next after a backward positioning")
    this.current!.next()
    this.afterStep()
  }
  prev(): void {
    if (this.forward) throw new Error("MergingIterator: prev after a forward positioning")
    this.current!.prev()
    this.afterStep()
  }
}
