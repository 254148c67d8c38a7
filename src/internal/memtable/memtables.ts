/**
 * The `Memtables` service: the mutable memtable that takes writes and the immutable ones waiting
 * for the flusher (oldest first). Reads look at the mutable one, then the immutables newest first.
 * All operations are synchronous: the memtable lives on the JavaScript thread.
 */
import { Context, Effect, Layer } from "effect"
import type { EncodedBatch } from "../wal/batchCodec.js"
import type { MemEntry } from "./memEntry.js"
import { Memtable as Table } from "./memtable.js"

export interface Memtables {
  readonly mutable: () => Table
  /** Immutable memtables, oldest first. */
  readonly immutables: () => ReadonlyArray<Table>
  /** Adds a committed batch (first sequence `first`) to the mutable memtable. */
  readonly addBatch: (batch: EncodedBatch, first: number) => void
  /** The newest visible version of `key` in any memtable (newest table first). */
  readonly get: (key: string, seq: number) => MemEntry | undefined
  /** Freezes the mutable memtable and starts a new one whose writes go to log `logNumber`. */
  readonly rotate: (logNumber: number) => Table
  /** Drops the oldest immutable memtable once it is in a table. */
  readonly dropOldestImmutable: (table: Table) => void
  /** Replaces the mutable memtable (recovery). */
  readonly reset: (logNumber: number) => void
  /** Bytes in all memtables. */
  readonly bytes: () => number
}

export const Memtables = Context.GenericTag<Memtables>("stratadb/Memtables")

export const make: Effect.Effect<Memtables> = Effect.sync(() => {
  let mutable = new Table(0)
  let immutables: Array<Table> = []
  return Memtables.of({
    mutable: () => mutable,
    immutables: () => immutables,
    addBatch: (batch, first) => mutable.addBatch(batch, first),
    get: (key, seq) => {
      const found = mutable.get(key, seq)
      if (found !== undefined) return found
      for (let i = immutables.length - 1; i >= 0; i--) {
        const e = immutables[i]!.get(key, seq)
        if (e !== undefined) return e
      }
      return undefined
    },
    rotate: (logNumber) => {
      const frozen = mutable
      immutables = [...immutables, frozen]
      mutable = new Table(logNumber)
      return frozen
    },
    dropOldestImmutable: (table) => {
      if (immutables[0] !== table) throw new Error("flushed memtables must be dropped oldest first")
      immutables = immutables.slice(1)
    },
    reset: (logNumber) => {
      mutable = new Table(logNumber)
      immutables = []
    },
    bytes: () => {
      let total = mutable.approximateBytes
      for (const t of immutables) total += t.approximateBytes
      return total
    }
  })
})

export const layer: Layer.Layer<Memtables> = Layer.effect(Memtables, make)
