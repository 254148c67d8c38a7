/**
 * Reading one table file for the tools, only through the table reader (`openTable`, the index it
 * decodes, `BlockFetch.fetch`), so that whatever the block format becomes (checksums, compression
 * types) is checked the way the database checks it.
 *
 * `walkTable` visits every data block in index order, one at a time: a block that fails its
 * checks is recorded and skipped, so the entries of the other blocks are still seen (what
 * `verify` reports and `repair` keeps). Along the way it checks what the reader itself does not
 * check when a block is read: the internal-key order inside a block and across blocks, and that
 * each index separator lies between its block's last key and the next block's first.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { Effect, type Scope } from "effect"
import { Corruption } from "../../errors.js"
import { parseFileName } from "../fs/fileNames.js"
import { compareInternal, KIND_DELETE, type Kind } from "../key/internalKey.js"
import { Block, BlockIterator } from "../table/block.js"
import { BlockCache } from "../table/blockCache.js"
import { Readahead } from "../table/readahead.js"
import { Scratch } from "../table/scratch.js"
import { isTableError, type TableError, tableFileOf } from "../table/tableFile.js"
import { openTable, type TableCounters, TableReader } from "../table/tableReader.js"
import { damage, type Damage, fromCorruption } from "./damage.js"

/**
 * What stops a walk (anything else the reader finds is damage, reported): I/O errors, and a
 * block this build cannot decode (a codec not installed), which is not damage of the file.
 */
export type ReadError = Exclude<TableError, Corruption>

/** A table opened for a tool: its reader, or the damage that kept it from opening. */
export type OpenedTable =
  | { readonly _tag: "open"; readonly name: string; readonly size: number; readonly reader: TableReader }
  | { readonly _tag: "unreadable"; readonly name: string; readonly size: number; readonly damage: Damage }

/**
 * A reader's answer (a value now, a failure now, or an effect) as an effect whose `Corruption`
 * is a value: damage to report, while the other failures fail.
 */
const settle = <A>(
  answer: A | TableError | Effect.Effect<A, TableError>,
  value: abstract new (...args: never) => A
): Effect.Effect<A | Corruption, ReadError> => {
  if (answer instanceof value || answer instanceof Corruption) return Effect.succeed(answer as A | Corruption)
  // Errors are yieldable (Effects themselves): anything else that is a failure fails.
  if (isTableError(answer)) return Effect.fail(answer as ReadError)
  return (answer as Effect.Effect<A, TableError>).pipe(
    Effect.catchIf((e): e is Corruption => e instanceof Corruption, (c) => Effect.succeed(c))
  )
}

const newCounters = (): TableCounters => ({ bloomChecks: 0, bloomNegatives: 0, blockReads: 0, blockSearches: 0 })

/**
 * Opens the table at `path` (named `name` in reports) for the scope: footer, filter, properties
 * and index read and checked. Damage there is an `unreadable` answer, not a failure; I/O errors
 * fail. No block cache: every block is read from the file.
 */
export const openTableFile = (
  path: string,
  name: string
): Effect.Effect<OpenedTable, ReadError, FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const size = Number((yield* fs.stat(path)).size)
    const handle = yield* fs.open(path, { flag: "r" })
    const parsed = parseFileName(name)
    const number = parsed !== undefined && parsed.kind === "table" ? parsed.number : 0
    const opened = openTable(tableFileOf(handle, number, name, size), new BlockCache(0), newCounters())
    // Errors are Effects too (yieldable): test for the values first.
    const reader = yield* settle(opened, TableReader)
    if (reader instanceof Corruption) return { _tag: "unreadable", name, size, damage: fromCorruption(reader) } as const
    return { _tag: "open", name, size, reader } as const
  })

/** An entry as the walk hands it out. `value` is valid only during the call: copy it to keep it. */
export interface WalkEntry {
  readonly key: string
  readonly seq: number
  readonly kind: Kind
  readonly value: Uint8Array
  /** The data block's index position. */
  readonly block: number
  /** False when the entry is not above the previous one in internal order (damage). */
  readonly ordered: boolean
}

/** What a walk found. */
export interface TableWalk {
  /** Data blocks the index names, and those read (a walk stopped early reads fewer). */
  readonly blocks: number
  readonly blocksRead: number
  /** Index positions of the blocks that failed their checks (skipped). */
  readonly badBlocks: ReadonlyArray<number>
  /** Entries seen (in the blocks that passed), tombstones among them. */
  readonly entries: number
  readonly tombstones: number
  /** The first and last entries seen, and the sequence range. */
  readonly first: { readonly key: string; readonly seq: number } | undefined
  readonly last: { readonly key: string; readonly seq: number } | undefined
  readonly minSeq: number
  readonly maxSeq: number
  /** Bad blocks, entries out of order, separators out of place. */
  readonly damage: ReadonlyArray<Damage>
  /** True when `onEntry` asked to stop before the end. */
  readonly stopped: boolean
}

/**
 * Visits the data blocks of an open table in order and each entry of the blocks that pass their
 * checks; `onEntry` returns false to stop. Fails only on I/O errors.
 */
export const walkTable = (
  reader: TableReader,
  name: string,
  onEntry: (entry: WalkEntry) => boolean | void
): Effect.Effect<TableWalk, ReadError> =>
  Effect.gen(function* () {
    const index = reader.index
    const scratch = new Scratch()
    const readahead = new Readahead()
    const it = new BlockIterator()
    const problems: Array<Damage> = []
    const badBlocks: Array<number> = []
    let entries = 0
    let tombstones = 0
    let first: { key: string; seq: number } | undefined
    let last: { key: string; seq: number } | undefined
    let minSeq = Number.POSITIVE_INFINITY
    let maxSeq = 0
    let blocksRead = 0
    let stopped = false
    /** The separator of the previous block read whole, which the next block's first key must pass. */
    let previousSeparator: { key: string; seq: number; block: number } | undefined

    for (let i = 0; i < index.length && !stopped; i++) {
      const offset = index.offsets[i]!
      const block = yield* settle(reader.blocks.fetch(i, scratch, readahead), Block)
      blocksRead++
      if (block instanceof Corruption) {
        problems.push(fromCorruption(block))
        badBlocks.push(i)
        previousSeparator = undefined
        continue
      }
      const separator = { key: index.keys[i]!, seq: index.seqs[i]! }
      let firstInBlock = true
      let lastInBlock: { key: string; seq: number } | undefined
      it.reset(block)
      for (it.seekToFirst(); it.valid(); it.next()) {
        const key = it.key()
        const seq = it.seq()
        const kind = it.kind()
        let ordered = true
        if (last !== undefined && compareInternal(last.key, last.seq, key, seq) >= 0) {
          ordered = false
          problems.push(
            damage(name, offset, `entry ${JSON.stringify(key)}@${seq} is not above the previous entry ${JSON.stringify(last.key)}@${last.seq}`)
          )
        }
        if (firstInBlock && previousSeparator !== undefined && compareInternal(previousSeparator.key, previousSeparator.seq, key, seq) >= 0) {
          problems.push(damage(name, offset, `the index separator of block ${previousSeparator.block} is not below this block's first key`))
        }
        firstInBlock = false
        entries++
        if (kind === KIND_DELETE) tombstones++
        if (first === undefined) first = { key, seq }
        if (ordered) last = { key, seq }
        lastInBlock = { key, seq }
        if (seq < minSeq) minSeq = seq
        if (seq > maxSeq) maxSeq = seq
        if (onEntry({ key, seq, kind, value: it.value(), block: i, ordered }) === false) {
          stopped = true
          break
        }
      }
      if (lastInBlock === undefined) problems.push(damage(name, offset, "data block holds no entries"))
      else if (!stopped && compareInternal(lastInBlock.key, lastInBlock.seq, separator.key, separator.seq) > 0) {
        problems.push(damage(name, offset, `block's last key is above its index separator ${JSON.stringify(separator.key)}@${separator.seq}`))
      }
      previousSeparator = { ...separator, block: i }
    }
    return {
      blocks: index.length,
      blocksRead,
      badBlocks,
      entries,
      tombstones,
      first,
      last,
      minSeq: entries === 0 ? 0 : minSeq,
      maxSeq,
      damage: problems,
      stopped
    }
  })
