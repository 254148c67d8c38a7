/**
 * Flush: writes one memtable to a new table file (the mechanism; the background fiber decides
 * when). Keys are sorted off the hot path in slices, the table is written as it is built, and
 * the fiber yields regularly so foreground reads and writes go on.
 */
import type { PlatformError } from "@effect/platform/Error"
import { Effect } from "effect"
import type { TableStore } from "./table/tableStore.js"
import { sortIncrementally } from "./memtable/incrementalSort.js"
import type { Memtable } from "./memtable/memtable.js"
import { survives } from "./snapshotRetention.js"
import type { FileMeta } from "./version/fileMeta.js"

const ENTRIES_PER_SLICE = 2048

/** Builds the memtable's table; undefined when the memtable is empty. */
export const writeMemtable = (
  table: Memtable,
  deps: { readonly store: TableStore; readonly newFileNumber: () => number },
  snapshots: ReadonlyArray<number>
): Effect.Effect<FileMeta | undefined, PlatformError> =>
  Effect.gen(function* () {
    if (table.isEmpty) return undefined
    const keys = yield* sortIncrementally(table.unsortedKeys())
    table.setSortedKeys(keys)
    return yield* deps.store.writeTable(deps.newFileNumber(), (sink) =>
      Effect.gen(function* () {
        let sinceYield = 0
        for (const key of keys) {
          let newer = Number.POSITIVE_INFINITY
          for (let e = table.chain(key); e !== undefined; e = e.older) {
            if (survives(e.seq, newer, snapshots)) {
              sink.add(key, e.seq, e.kind, e.value)
            }
            newer = e.seq
            sinceYield++
          }
          if (sinceYield >= ENTRIES_PER_SLICE) {
            sinceYield = 0
            yield* sink.drain
            yield* Effect.yieldNow()
          }
        }
        return yield* sink.finish
      }))
  })
