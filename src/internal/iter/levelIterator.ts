/**
 * The concatenating iterator over one level's tables (disjoint, sorted by key): LevelDB's
 * two-level iterator with the file list as its index. Tables are opened lazily: `peek` gives a
 * table's iterator at once when the table cache can (open, or opened synchronously); a step that
 * must wait for the open leaves the iterator pending, and `load` opens it through `open`.
 */
import { Effect } from "effect"
import type { TableError } from "../table/tableFile.js"
import { compareInternal, type Kind } from "../key/internalKey.js"
import type { FileMeta } from "../version/fileMeta.js"
import type { InternalIterator } from "./internalIterator.js"

type Step =
  | { readonly op: "first" }
  | { readonly op: "last" }
  | { readonly op: "seek"; readonly key: string; readonly seq: number }
  | { readonly op: "seekForPrev"; readonly key: string; readonly seq: number }

// The steps that carry no target, shared (a scan steps into a new table with one of them).
const FIRST: Step = { op: "first" }
const LAST: Step = { op: "last" }

export class LevelIterator implements InternalIterator {
  private index = -1
  private iter: InternalIterator | undefined = undefined
  private step: Step | undefined = undefined
  private forward = true

  constructor(
    private readonly files: ReadonlyArray<FileMeta>,
    /** Opens a table's iterator (pinning it for the scan's lifetime). */
    private readonly open: (meta: FileMeta) => Effect.Effect<InternalIterator, TableError>,
    /** A table iterator available without I/O, if its table is open. */
    private readonly peek: (meta: FileMeta) => InternalIterator | undefined
  ) {}

  valid(): boolean {
    return this.step === undefined && this.iter !== undefined && this.iter.valid()
  }
  key(): string {
    return this.iter!.key()
  }
  seq(): number {
    return this.iter!.seq()
  }
  kind(): Kind {
    return this.iter!.kind()
  }
  value(): Uint8Array {
    return this.iter!.value()
  }
  pending(): boolean {
    return this.step !== undefined || (this.iter !== undefined && this.iter.pending())
  }

  load(): Effect.Effect<void, TableError> {
    return Effect.suspend(() => {
      if (this.iter !== undefined && this.iter.pending()) {
        return Effect.zipRight(this.iter.load(), Effect.suspend(() => this.afterLoad()))
      }
      if (this.step !== undefined) {
        return Effect.flatMap(this.open(this.files[this.index]!), (iter) => {
          this.iter = iter
          return this.afterLoad()
        })
      }
      return Effect.void
    })
  }

  private afterLoad(): Effect.Effect<void, TableError> {
    if (this.step !== undefined && this.iter !== undefined) {
      const step = this.step
      this.step = undefined
      this.apply(this.iter, step)
    }
    this.skipEmpty()
    return this.pending() ? this.load() : Effect.void
  }

  private apply(iter: InternalIterator, step: Step): void {
    switch (step.op) {
      case "first":
        return iter.seekToFirst()
      case "last":
        return iter.seekToLast()
      case "seek":
        return iter.seek(step.key, step.seq)
      case "seekForPrev":
        return iter.seekForPrev(step.key, step.seq)
    }
  }

  /** Positions on table `index` with `step`, without I/O if the table is open. */
  private enter(index: number, step: Step): void {
    this.index = index
    this.iter = undefined
    this.step = undefined
    if (index < 0 || index >= this.files.length) return
    const iter = this.peek(this.files[index]!)
    if (iter === undefined) {
      this.step = step
      return
    }
    this.iter = iter
    this.apply(iter, step)
  }

  /** Moves past exhausted tables in the current direction. */
  private skipEmpty(): void {
    while (this.step === undefined && this.iter !== undefined && !this.iter.pending() && !this.iter.valid()) {
      if (this.forward) this.enter(this.index + 1, FIRST)
      else this.enter(this.index - 1, LAST)
    }
  }

  seekToFirst(): void {
    this.forward = true
    this.enter(0, FIRST)
    this.skipEmpty()
  }
  seekToLast(): void {
    this.forward = false
    this.enter(this.files.length - 1, LAST)
    this.skipEmpty()
  }
  seek(key: string, seq: number): void {
    this.forward = true
    let lo = 0
    let hi = this.files.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const f = this.files[mid]!
      if (compareInternal(f.largestKey, f.largestSeq, key, seq) < 0) lo = mid + 1
      else hi = mid
    }
    this.enter(lo, { op: "seek", key, seq })
    this.skipEmpty()
  }
  seekForPrev(key: string, seq: number): void {
    this.forward = false
    // The last table whose smallest key is at or before (key, seq).
    let lo = 0
    let hi = this.files.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const f = this.files[mid]!
      if (compareInternal(f.smallestKey, f.smallestSeq, key, seq) <= 0) lo = mid + 1
      else hi = mid
    }
    this.enter(lo - 1, { op: "seekForPrev", key, seq })
    this.skipEmpty()
  }
  next(): void {
    this.forward = true
    this.iter!.next()
    this.skipEmpty()
  }
  prev(): void {
    this.forward = false
    this.iter!.prev()
    this.skipEmpty()
  }
}
