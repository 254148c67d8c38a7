/**
 * Checking one open table whole: every data block walked (`walkTable`: checksums, order, index
 * separators), then what the blocks hold compared with the properties block, and every distinct
 * user key probed in the bloom filter (a filter that rules out a key the table holds would make
 * point reads miss it).
 */
import { Effect } from "effect"
import { mayContain } from "../table/bloom.js"
import type { TableProperties } from "../table/properties.js"
import type { TableReader } from "../table/tableReader.js"
import { damage, type Damage } from "./damage.js"
import { type ReadError, type TableWalk, type WalkEntry, walkTable } from "./tableWalk.js"

/** Differences between the properties block and what the blocks hold. */
export const checkProperties = (name: string, p: TableProperties, walk: TableWalk): Array<Damage> => {
  const out: Array<Damage> = []
  const differ = (what: string, recorded: unknown, found: unknown) =>
    out.push(damage(name, 0, `properties say ${what} ${String(recorded)}, the blocks hold ${String(found)}`))
  if (p.entries !== walk.entries) differ("entries", p.entries, walk.entries)
  if (p.tombstones !== walk.tombstones) differ("tombstones", p.tombstones, walk.tombstones)
  if (walk.first !== undefined && (p.smallestKey !== walk.first.key || p.smallestSeq !== walk.first.seq)) {
    differ("smallest key", `${JSON.stringify(p.smallestKey)}@${p.smallestSeq}`, `${JSON.stringify(walk.first.key)}@${walk.first.seq}`)
  }
  if (walk.last !== undefined && (p.largestKey !== walk.last.key || p.largestSeq !== walk.last.seq)) {
    differ("largest key", `${JSON.stringify(p.largestKey)}@${p.largestSeq}`, `${JSON.stringify(walk.last.key)}@${walk.last.seq}`)
  }
  if (walk.entries > 0 && (p.minSeq !== walk.minSeq || p.maxSeq !== walk.maxSeq)) {
    differ("sequences", `${p.minSeq}..${p.maxSeq}`, `${walk.minSeq}..${walk.maxSeq}`)
  }
  return out
}

export interface TableCheck {
  readonly walk: TableWalk
  /** Everything found: the walk's damage, filter misses, properties that disagree. */
  readonly damage: ReadonlyArray<Damage>
}

/**
 * Walks the whole table and checks it; `onEntry` sees every entry read (its return value is
 * ignored: the walk always goes to the end).
 */
export const checkTable = (
  reader: TableReader,
  name: string,
  onEntry: (entry: WalkEntry) => void = () => {}
): Effect.Effect<TableCheck, ReadError> =>
  Effect.gen(function* () {
    const filter = reader.filter
    const filterMisses: Array<Damage> = []
    let previousKey: string | undefined
    const walk = yield* walkTable(reader, name, (e) => {
      if (filter.length > 0 && e.key !== previousKey && !mayContain(filter, e.key)) {
        filterMisses.push(damage(name, 0, `the bloom filter rules out ${JSON.stringify(e.key)}, which the table holds`))
      }
      previousKey = e.key
      onEntry(e)
    })
    const problems = [...walk.damage, ...filterMisses]
    // With blocks skipped, the counts differ by construction: the bad blocks are the report.
    if (walk.badBlocks.length === 0) problems.push(...checkProperties(name, reader.properties, walk))
    return { walk, damage: problems }
  })
