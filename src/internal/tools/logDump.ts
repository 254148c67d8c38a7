/**
 * `dumpLog`: the records of a WAL or a manifest (doc/log_format.md), each decoded: a WAL record
 * as its write batch (first sequence, then each operation with its sequence, key and value), a
 * manifest record as its version edit (doc/manifest_format.md). A torn tail (the file ends inside
 * a record) is reported with its offset; damage (a fragment failing its checks, a record that
 * does not decode) is a report item, and reading goes on at the next block (records found after
 * damage are marked so: the database itself stops at the first damage).
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import { parseFileName } from "../fs/fileNames.js"
import { KIND_PUT, type Kind } from "../key/internalKey.js"
import type { VersionEdit } from "../version/versionEdit.js"
import { decodeVersionEdit } from "../version/versionEdit.js"
import { BatchFormatError, DecodeError, decodeBatch, getSequence } from "../wal/batchCodec.js"
import { damage, type Damage, renderDamage } from "./damage.js"
import { clip, type Format, formatKey, keyBytes, textOrHex } from "./display.js"
import { scanLog } from "./logScan.js"

export type LogKind = "wal" | "manifest"

export interface BatchOp {
  readonly kind: "put" | "delete"
  readonly seq: number
  readonly key: Uint8Array
  /** Empty for a delete. */
  readonly value: Uint8Array
}

export type DumpedRecord =
  | { readonly _tag: "batch"; readonly offset: number; readonly length: number; readonly afterDamage: boolean; readonly sequence: number; readonly ops: ReadonlyArray<BatchOp> }
  | { readonly _tag: "edit"; readonly offset: number; readonly length: number; readonly afterDamage: boolean; readonly edit: VersionEdit }
  | { readonly _tag: "undecodable"; readonly offset: number; readonly length: number; readonly afterDamage: boolean; readonly description: string }

export interface LogDump {
  readonly file: string
  readonly kind: LogKind
  readonly size: number
  readonly records: ReadonlyArray<DumpedRecord>
  /** How the file ends as the database reads it. */
  readonly end: "clean" | "torn" | "corrupt"
  /** The torn tail, if the file ends inside a record (not damage: a write cut short by a crash). */
  readonly tornTail: { readonly offset: number; readonly description: string; readonly droppedBytes: number } | undefined
  readonly damage: ReadonlyArray<Damage>
  readonly ok: boolean
}

/** The kind a file's name says (`MANIFEST-*`: manifest; anything else: WAL). */
export const logKindOf = (path: string): LogKind => {
  const name = path.slice(path.lastIndexOf("/") + 1)
  const parsed = parseFileName(name)
  return (parsed !== undefined && parsed.kind === "manifest") || name.startsWith("MANIFEST-") ? "manifest" : "wal"
}

/** Decodes one WAL payload; the whole batch or the reason it does not decode. */
export const decodeBatchOps = (payload: Uint8Array): { sequence: number; ops: Array<BatchOp> } | string => {
  const ops: Array<BatchOp> = []
  try {
    decodeBatch(payload, (key: string, seq: number, kind: Kind, value: Uint8Array) => {
      ops.push({ kind: kind === KIND_PUT ? "put" : "delete", seq, key: keyBytes(key), value: Buffer.from(value) })
    })
  } catch (e) {
    if (e instanceof BatchFormatError || e instanceof DecodeError) return `bad batch: ${e.message}`
    throw e
  }
  return { sequence: getSequence(payload), ops }
}

/** Decodes one manifest payload; the edit or the reason it does not decode. */
export const decodeEdit = (payload: Uint8Array): VersionEdit | string => {
  try {
    return decodeVersionEdit(payload)
  } catch (e) {
    if (e instanceof DecodeError) return `bad version edit: ${e.message}`
    throw e
  }
}

/** Reads and decodes the log at `path`; `kind` defaults to what the file's name says. */
export const dumpLog = (path: string, options: { readonly kind?: LogKind } = {}): Effect.Effect<LogDump, PlatformError, FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const kind = options.kind ?? logKindOf(path)
    const bytes = yield* fs.readFile(path)
    const scan = scanLog(bytes, { resync: true })
    const problems: Array<Damage> = []
    let tornTail: LogDump["tornTail"] = undefined
    for (const p of scan.problems) {
      if (p.kind === "torn") tornTail = { offset: p.offset, description: p.description, droppedBytes: p.droppedBytes }
      else problems.push(damage(path, p.offset, `${p.description} (${p.droppedBytes} bytes skipped)`))
    }
    const records: Array<DumpedRecord> = scan.records.map((r) => {
      const base = { offset: r.offset, length: r.payload.length, afterDamage: r.afterDamage }
      if (kind === "wal") {
        const batch = decodeBatchOps(r.payload)
        if (typeof batch === "string") {
          problems.push(damage(path, r.offset, batch))
          return { _tag: "undecodable", ...base, description: batch }
        }
        return { _tag: "batch", ...base, ...batch }
      }
      const edit = decodeEdit(r.payload)
      if (typeof edit === "string") {
        problems.push(damage(path, r.offset, edit))
        return { _tag: "undecodable", ...base, description: edit }
      }
      return { _tag: "edit", ...base, edit }
    })
    problems.sort((a, b) => a.offset - b.offset)
    return { file: path, kind, size: scan.size, records, end: scan.end, tornTail, damage: problems, ok: problems.length === 0 }
  })

/** A version edit as indented lines. */
export const renderEdit = (edit: VersionEdit, format: Format = textOrHex, indent = "    "): Array<string> => {
  const lines: Array<string> = []
  if (edit.comparator !== undefined) lines.push(`${indent}comparator: ${edit.comparator}`)
  if (edit.logNumber !== undefined) lines.push(`${indent}log number: ${edit.logNumber}`)
  if (edit.nextFileNumber !== undefined) lines.push(`${indent}next file number: ${edit.nextFileNumber}`)
  if (edit.lastSequence !== undefined) lines.push(`${indent}last sequence: ${edit.lastSequence}`)
  for (const p of edit.compactPointers ?? []) lines.push(`${indent}compact pointer: L${p.level} ${formatKey(p.key, format)} @${p.seq}`)
  for (const d of edit.deletedFiles ?? []) lines.push(`${indent}delete: L${d.level} #${d.number}`)
  for (const { level, meta: m } of edit.newFiles ?? []) {
    lines.push(
      `${indent}add: L${level} #${m.number} ${m.size} bytes [${formatKey(m.smallestKey, format)} @${m.smallestSeq} .. ${formatKey(m.largestKey, format)} @${m.largestSeq}] ` +
        `entries ${m.entries} (tombstones ${m.tombstones}) seq ${m.minSeq}..${m.maxSeq}`
    )
  }
  if (lines.length === 0) lines.push(`${indent}(empty edit)`)
  return lines
}

/** The dump as text. */
export const renderLogDump = (dump: LogDump, format: Format = textOrHex): string => {
  const lines = [`${dump.kind === "wal" ? "WAL" : "manifest"} ${dump.file} (${dump.size} bytes, ${dump.records.length} records)`]
  for (const r of dump.records) {
    const head = `@${r.offset} (${r.length} bytes)${r.afterDamage ? " [after damage]" : ""}`
    if (r._tag === "batch") {
      lines.push(`${head} batch sequence ${r.sequence}, ${r.ops.length} ops`)
      for (const op of r.ops) {
        lines.push(`    ${op.kind} ${format(op.key)} @${op.seq}${op.kind === "put" ? ` => ${clip(format(op.value), 200)}` : ""}`)
      }
    } else if (r._tag === "edit") {
      lines.push(`${head} version edit`, ...renderEdit(r.edit, format))
    } else {
      lines.push(`${head} undecodable: ${r.description}`)
    }
  }
  if (dump.tornTail !== undefined) {
    lines.push(`torn tail at ${dump.tornTail.offset}: ${dump.tornTail.description} (${dump.tornTail.droppedBytes} bytes)`)
  }
  lines.push(...renderDamage(dump.damage))
  lines.push(dump.ok ? `OK (${dump.end})` : `DAMAGED: ${dump.damage.length} problems`)
  return lines.join("\n")
}
