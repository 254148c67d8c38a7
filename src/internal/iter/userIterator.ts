/**
 * The user-level iterator (LevelDB's DBIter): over the merged internal entries it shows, for each
 * user key, only the newest version visible at the read's sequence, hides tombstones, and keeps
 * to the scan's bounds. It fills chunks synchronously and stops when the merged iterator needs
 * I/O (`"pending"`); the caller loads and calls `fill` again, which resumes where it stopped.
 */
import { MAX_SEQUENCE, KIND_PUT, type Kind } from "../key/internalKey.js"
import type { InternalIterator } from "./internalIterator.js"

export interface Bounds {
  /** Lower bound (latin1) and whether it is exclusive. */
  readonly lower: string | undefined
  readonly lowerExclusive: boolean
  /** Upper bound (latin1) and whether it is exclusive. */
  readonly upper: string | undefined
  readonly upperExclusive: boolean
}

export type FillResult = "full" | "pending" | "done"

export class UserIterator {
  private started = false
  private finished = false
  /** Forward: the key whose newest visible version was handled; older versions are skipped. */
  private skipKey: string | undefined = undefined
  /** Reverse: the candidate (newest visible so far) for the key being collected. */
  private candKey: string | undefined = undefined
  private candKind: Kind = KIND_PUT
  private candValue: Uint8Array | undefined = undefined
  private emitted = 0

  constructor(
    private readonly it: InternalIterator,
    private readonly sequence: number,
    private readonly bounds: Bounds,
    private readonly reverse: boolean,
    private readonly limit: number
  ) {}

  private belowUpper(key: string): boolean {
    const { upper, upperExclusive } = this.bounds
    if (upper === undefined) return true
    return upperExclusive ? key < upper : key <= upper
  }

  private aboveLower(key: string): boolean {
    const { lower, lowerExclusive } = this.bounds
    if (lower === undefined) return true
    return lowerExclusive ? key > lower : key >= lower
  }

  private start(): void {
    this.started = true
    const { lower, lowerExclusive, upper, upperExclusive } = this.bounds
    if (!this.reverse) {
      if (lower === undefined) this.it.seekToFirst()
      else this.it.seek(lower, MAX_SEQUENCE)
      if (lowerExclusive) this.skipKey = lower
    } else if (upper === undefined) {
      this.it.seekToLast()
    } else {
      // Exclusive: stop before every version of `upper`; inclusive: after its oldest version.
      this.it.seekForPrev(upper, upperExclusive ? MAX_SEQUENCE : 0)
    }
  }

  /**
   * Repositions at the first key at or after `target` (at or before it, reverse). A target outside
   * the bounds ends the iteration (as abstract-level and classic-level do). The count toward
   * `limit` carries on.
   */
  seek(target: string): void {
    this.started = true
    this.finished = false
    this.skipKey = undefined
    this.candKey = undefined
    this.candValue = undefined
    if (!this.aboveLower(target) || !this.belowUpper(target)) {
      this.finished = true
      return
    }
    if (!this.reverse) this.it.seek(target, MAX_SEQUENCE)
    // Inclusive: after the oldest version of `target`.
    else this.it.seekForPrev(target, 0)
  }

  /**
   * Adds up to `max` entries to `keys`/`values` (latin1 keys; values are views the caller copies).
   */
  fill(keys: Array<string>, values: Array<Uint8Array>, max: number): FillResult {
    if (this.finished) return "done"
    if (!this.started) this.start()
    const it = this.it
    while (keys.length < max) {
      if (this.emitted >= this.limit) return this.finish()
      if (it.pending()) return "pending"
      if (!it.valid()) {
        if (this.reverse) this.emitCandidate(keys, values)
        return this.finish()
      }
      const key = it.key()
      const seq = it.seq()
      if (seq > this.sequence) {
        this.reverse ? it.prev() : it.next()
        continue
      }
      if (!this.reverse) {
        if (key === this.skipKey) {
          it.next()
          continue
        }
        this.skipKey = key
        if (!this.belowUpper(key)) return this.finish()
        if (it.kind() === KIND_PUT && this.aboveLower(key)) {
          keys.push(key)
          values.push(it.value())
          this.emitted++
        }
        it.next()
      } else {
        if (this.candKey !== undefined && key !== this.candKey) {
          this.emitCandidate(keys, values)
          if (!this.aboveLower(key)) return this.finish()
          continue
        }
        if (this.candKey === undefined && !this.aboveLower(key)) return this.finish()
        this.candKey = key
        this.candKind = it.kind()
        this.candValue = it.value()
        it.prev()
      }
    }
    return "full"
  }

  private emitCandidate(keys: Array<string>, values: Array<Uint8Array>): void {
    const key = this.candKey
    if (key === undefined) return
    this.candKey = undefined
    if (this.candKind === KIND_PUT && this.emitted < this.limit && this.belowUpper(key) && this.aboveLower(key)) {
      keys.push(key)
      values.push(this.candValue!)
      this.emitted++
    }
    this.candValue = undefined
  }

  private finish(): FillResult {
    this.finished = true
    return "done"
  }
}
