/**
 * An `InternalIterator` over a memtable: walks the sorted keys and, for each key, its version
 * chain newest first. Never pending (everything is in memory). It reads the sorted-key array of
 * the moment it was created; keys added later are not visited (their sequences are newer than
 * any snapshot the iterator serves anyway).
 */
import { Effect } from "effect"
import type { Kind } from "../key/internalKey.js"
import type { InternalIterator } from "../iter/internalIterator.js"
import type { MemEntry } from "./memEntry.js"
import type { Memtable } from "./memtable.js"
import { lowerBound } from "../lowerBound.js"

const oldest = (entry: MemEntry): MemEntry => {
  while (entry.older !== undefined) entry = entry.older
  return entry
}

export class MemtableIterator implements InternalIterator {
  private readonly keys: ReadonlyArray<string>
  private index = -1
  private entry: MemEntry | undefined = undefined

  constructor(private readonly memtable: Memtable) {
    this.keys = memtable.sortedKeys()
  }

  valid(): boolean {
    return this.entry !== undefined
  }
  key(): string {
    return this.keys[this.index]!
  }
  seq(): number {
    return this.entry!.seq
  }
  kind(): Kind {
    return this.entry!.kind
  }
  value(): Uint8Array {
    return this.entry!.value
  }
  pending(): boolean {
    return false
  }
  load(): Effect.Effect<void> {
    return Effect.void
  }

  private atHead(index: number): void {
    this.index = index
    this.entry = index >= 0 && index < this.keys.length ? this.memtable.chain(this.keys[index]!) : undefined
  }

  private atOldest(index: number): void {
    this.index = index
    const head = index >= 0 && index < this.keys.length ? this.memtable.chain(this.keys[index]!) : undefined
    this.entry = head === undefined ? undefined : oldest(head)
  }

  seekToFirst(): void {
    this.atHead(0)
  }

  seekToLast(): void {
    this.atOldest(this.keys.length - 1)
  }

  seek(key: string, seq: number): void {
    const i = lowerBound(this.keys, key)
    if (i < this.keys.length && this.keys[i] === key) {
      let e = this.memtable.chain(key)
      while (e !== undefined && e.seq > seq) e = e.older
      if (e !== undefined) {
        this.index = i
        this.entry = e
        return
      }
      this.atHead(i + 1)
      return
    }
    this.atHead(i)
  }

  seekForPrev(key: string, seq: number): void {
    const i = lowerBound(this.keys, key)
    if (i < this.keys.length && this.keys[i] === key) {
      let last: MemEntry | undefined = undefined
      for (let e = this.memtable.chain(key); e !== undefined && e.seq >= seq; e = e.older) last = e
      if (last !== undefined) {
        this.index = i
        this.entry = last
        return
      }
    }
    this.atOldest(i - 1)
  }

  next(): void {
    const older = this.entry!.older
    if (older !== undefined) this.entry = older
    else this.atHead(this.index + 1)
  }

  prev(): void {
    const head = this.memtable.chain(this.keys[this.index]!)!
    if (head === this.entry) {
      this.atOldest(this.index - 1)
      return
    }
    let e = head
    while (e.older !== this.entry) e = e.older!
    this.entry = e
  }
}
