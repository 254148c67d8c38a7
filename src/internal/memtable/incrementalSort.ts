/**
 * Sorting a memtable's keys without blocking the event loop for long: sorted runs of a few
 * thousand keys, then pairwise merges, yielding to other fibers between slices of work.
 */
import { Effect } from "effect"

const RUN = 2048
const SLICE = 16384

const mergeRuns = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Effect.Effect<Array<string>> =>
  Effect.gen(function* () {
    const out = new Array<string>(a.length + b.length)
    let i = 0
    let j = 0
    let o = 0
    while (i < a.length || j < b.length) {
      const stop = o + SLICE
      while (o < stop && i < a.length && j < b.length) out[o++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
      while (o < stop && i < a.length && j >= b.length) out[o++] = a[i++]!
      while (o < stop && j < b.length && i >= a.length) out[o++] = b[j++]!
      if (i < a.length || j < b.length) yield* Effect.yieldNow()
    }
    return out
  })

/** A sorted copy of `keys` (distinct strings), built in slices with yields between them. */
export const sortIncrementally = (keys: ReadonlyArray<string>): Effect.Effect<Array<string>> =>
  Effect.gen(function* () {
    if (keys.length <= RUN) return keys.slice().sort()
    let runs: Array<Array<string>> = []
    for (let start = 0; start < keys.length; start += RUN) {
      runs.push(keys.slice(start, start + RUN).sort())
      yield* Effect.yieldNow()
    }
    while (runs.length > 1) {
      const next: Array<Array<string>> = []
      for (let r = 0; r + 1 < runs.length; r += 2) next.push(yield* mergeRuns(runs[r]!, runs[r + 1]!))
      if (runs.length % 2 === 1) next.push(runs[runs.length - 1]!)
      runs = next
    }
    return runs[0]!
  })
