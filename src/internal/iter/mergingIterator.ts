/**
 * The merging iterator (LevelDB's merger.cc): the union of several sorted children in internal-key
 * order. Children earlier in the list win ties (they never tie: sequences are unique). It moves in
 * one direction per positioning (`seek*` sets it); `next` after `prev` (or the reverse) is not
 * supported, as the scans above it never switch direction.
 */
import { Effect } from "effect"
import type { PlatformError } from "@effect/platform/Error"
import type { Corruption } from "../../errors.js"
import { compareInternal, type Kind } from "../key/internalKey.js"
import type { InternalIterator } from "./internalIterator.js"

export class MergingIterator implements InternalIterator {
  private current: InternalIterator | undefined = undefined
  private forward = true

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
    for (const c of this.children) if (c.pending()) return true
    return false
  }

  load(): Effect.Effect<void, Corruption | PlatformError> {
    return Effect.forEach(this.children, (c) => (c.pending() ? c.load() : Effect.void), { discard: true }).pipe(
      Effect.zipRight(Effect.sync(() => this.settle()))
    )
  }

  private settle(): void {
    if (this.pending()) return
    let best: InternalIterator | undefined = undefined
    for (const c of this.children) {
      if (!c.valid()) continue
      if (best === undefined) {
        best = c
        continue
      }
      const cmp = compareInternal(c.key(), c.seq(), best.key(), best.seq())
      if (this.forward ? cmp < 0 : cmp > 0) best = c
    }
    this.current = best
  }

  seekToFirst(): void {
    this.forward = true
    for (const c of this.children) c.seekToFirst()
    this.settle()
  }
  seekToLast(): void {
    this.forward = false
    for (const c of this.children) c.seekToLast()
    this.settle()
  }
  seek(key: string, seq: number): void {
    this.forward = true
    for (const c of this.children) c.seek(key, seq)
    this.settle()
  }
  seekForPrev(key: string, seq: number): void {
    this.forward = false
    for (const c of this.children) c.seekForPrev(key, seq)
    this.settle()
  }
  next(): void {
    if (!this.forward) throw new Error("MergingIterator: next after a backward positioning")
    this.current!.next()
    this.settle()
  }
  prev(): void {
    if (this.forward) throw new Error("MergingIterator: prev after a forward positioning")
    this.current!.prev()
    this.settle()
  }
}
