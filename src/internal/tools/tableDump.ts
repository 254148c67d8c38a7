/**
 * `dumpTable`: what a table file holds (sst_dump's job): its properties, its index (one separator
 * and block handle per data block), a summary of its filter, its entries, and with `verify` every
 * block checked (checksum, entry order inside and across blocks, index separators) and the
 * properties and filter compared with what the blocks hold. Damage is a report item.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { KIND_PUT } from "../key/internalKey.js"
import type { TableProperties } from "../table/properties.js"
import { type Damage, renderDamage } from "./damage.js"
import { checkTable } from "./tableCheck.js"
import { clip, type Format, formatKey, keyBytes, textOrHex } from "./display.js"
import { openTableFile, type ReadError, type WalkEntry, walkTable } from "./tableWalk.js"

export interface TableDumpOptions {
  /** Read every block and check it (and the properties and filter against the blocks). */
  readonly verify?: boolean
  /** Entries to list (all when absent). Without `verify`, reading stops there. */
  readonly limit?: number
}

export interface DumpedEntry {
  readonly key: Uint8Array
  readonly seq: number
  readonly kind: "put" | "delete"
  /** Empty for a delete. */
  readonly value: Uint8Array
}

export interface IndexEntry {
  /** The separator: at or above the block's last key, below the next block's first. */
  readonly key: Uint8Array
  readonly seq: number
  /** The block's handle. */
  readonly offset: number
  readonly size: number
}

export interface FilterSummary {
  /** Bytes of the bit array (0: the table has no filter), probes per key, and the bits per key it was built with. */
  readonly bytes: number
  readonly probes: number
  readonly bitsPerKey: number
}

export interface TableDump {
  readonly file: string
  readonly size: number
  /** Absent when the table could not be opened (damage in its footer or metadata blocks). */
  readonly properties: TableProperties | undefined
  readonly index: ReadonlyArray<IndexEntry>
  readonly filter: FilterSummary | undefined
  readonly entries: ReadonlyArray<DumpedEntry>
  /** True when more entries exist than were listed (`limit`). */
  readonly truncated: boolean
  readonly verified: boolean
  /** Data blocks read and checked. */
  readonly blocksRead: number
  readonly damage: ReadonlyArray<Damage>
  readonly ok: boolean
}

/** Dumps (and with `verify`, checks) the table at `path`. Fails only on I/O errors. */
export const dumpTable = (path: string, options: TableDumpOptions = {}): Effect.Effect<TableDump, ReadError, FileSystem> =>
  Effect.scoped(
    Effect.gen(function* () {
      const verify = options.verify === true
      const limit = options.limit ?? Number.POSITIVE_INFINITY
      const opened = yield* openTableFile(path, path)
      if (opened._tag === "unreadable") {
        return {
          file: path,
          size: opened.size,
          properties: undefined,
          index: [],
          filter: undefined,
          entries: [],
          truncated: false,
          verified: verify,
          blocksRead: 0,
          damage: [opened.damage],
          ok: false
        } satisfies TableDump
      }
      const reader = opened.reader
      const properties = reader.properties
      const index: Array<IndexEntry> = []
      for (let i = 0; i < reader.index.length; i++) {
        index.push({ key: keyBytes(reader.index.keys[i]!), seq: reader.index.seqs[i]!, offset: reader.index.offsets[i]!, size: reader.index.sizes[i]! })
      }
      const f = reader.filter
      const filter: FilterSummary = { bytes: f.length === 0 ? 0 : f.length - 1, probes: f.length === 0 ? 0 : f[f.length - 1]!, bitsPerKey: properties.bloomBitsPerKey }
      const entries: Array<DumpedEntry> = []
      let truncated = false
      const keep = (e: WalkEntry): boolean => {
        if (entries.length < limit) {
          entries.push({ key: keyBytes(e.key), seq: e.seq, kind: e.kind === KIND_PUT ? "put" : "delete", value: Buffer.from(e.value) })
          return true
        }
        truncated = true
        return false
      }
      let problems: ReadonlyArray<Damage>
      let blocksRead: number
      if (verify) {
        const check = yield* checkTable(reader, path, keep)
        problems = check.damage
        blocksRead = check.walk.blocksRead
      } else {
        const walk = yield* walkTable(reader, path, keep)
        problems = walk.damage
        blocksRead = walk.blocksRead
      }
      return {
        file: path,
        size: opened.size,
        properties,
        index,
        filter,
        entries,
        truncated,
        verified: verify,
        blocksRead,
        damage: problems,
        ok: problems.length === 0
      } satisfies TableDump
    })
  )

/** Properties as `name: value` lines. */
export const renderProperties = (p: TableProperties, format: Format = textOrHex): Array<string> => [
  `  entries: ${p.entries} (tombstones ${p.tombstones})`,
  `  data blocks: ${p.dataBlocks} (${p.dataSize} bytes)`,
  `  raw key bytes: ${p.rawKeyBytes}, raw value bytes: ${p.rawValueBytes}`,
  `  sequences: ${p.minSeq}..${p.maxSeq}`,
  `  smallest: ${formatKey(p.smallestKey, format)} @${p.smallestSeq}`,
  `  largest: ${formatKey(p.largestKey, format)} @${p.largestSeq}`,
  `  bloom bits per key: ${p.bloomBitsPerKey}`
]

/** The dump as text. */
export const renderTableDump = (dump: TableDump, format: Format = textOrHex): string => {
  const lines = [`table ${dump.file} (${dump.size} bytes)`]
  if (dump.properties !== undefined) {
    lines.push("properties:", ...renderProperties(dump.properties, format))
    lines.push(`index: ${dump.index.length} data blocks`)
    dump.index.forEach((e, i) => lines.push(`  [${i}] ${format(e.key)} @${e.seq} -> offset ${e.offset} size ${e.size}`))
    const f = dump.filter
    lines.push(f === undefined || f.bytes === 0 ? "filter: none" : `filter: ${f.bytes} bytes, ${f.probes} probes, ${f.bitsPerKey} bits per key`)
    lines.push(`entries: ${dump.entries.length}${dump.truncated ? " listed (more not shown)" : ""}`)
    for (const e of dump.entries) {
      lines.push(`  ${format(e.key)} @${e.seq} ${e.kind}${e.kind === "put" ? ` => ${clip(format(e.value), 200)}` : ""}`)
    }
  }
  if (dump.verified) lines.push(`verify: ${dump.blocksRead} data blocks read`)
  lines.push(...renderDamage(dump.damage))
  lines.push(dump.ok ? "OK" : `DAMAGED: ${dump.damage.length} problems`)
  return lines.join("\n")
}
