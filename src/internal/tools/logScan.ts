/**
 * Reading a whole log file (WAL or manifest, doc/log_format.md) for the tools, through the log
 * reader (`readLog`). The database stops at the first damage; a tool may go on: with `resync`,
 * reading starts again at the next 32 KiB block boundary after the damage (as LevelDB's reader
 * does after a bad fragment), and the records found from there are returned too, marked as
 * following damage. A block that starts with the rest of a record begun before the damage
 * (a `MIDDLE` or `LAST` fragment, whose first part is lost) has that fragment skipped, as
 * LevelDB's reader skips such fragments after a resync.
 */
import { Buffer } from "node:buffer"
import { maskedCrcOfTyped } from "../format/crc.js"
import { BLOCK_SIZE, FULL, HEADER_SIZE, LAST, MIDDLE } from "../record/logFormat.js"
import { readLog } from "../record/logReader.js"

/**
 * The bytes from the block boundary `base` on, for reading after a resync: when they start with
 * a whole, valid `MIDDLE` or `LAST` fragment (the rest of a record whose start is lost), a copy
 * where that fragment is relabelled `FULL` (checksum recomputed), so the reader takes it as one
 * record (which the caller drops) and goes on with what follows. Otherwise the bytes themselves.
 */
const fromBoundary = (bytes: Uint8Array, base: number): { readonly bytes: Uint8Array; readonly skipsFirst: boolean } => {
  const view = bytes.subarray(base)
  if (view.length < HEADER_SIZE) return { bytes: view, skipsFirst: false }
  const type = view[6]!
  const end = HEADER_SIZE + (view[4]! | (view[5]! << 8))
  if ((type !== MIDDLE && type !== LAST) || end > view.length || end > BLOCK_SIZE) return { bytes: view, skipsFirst: false }
  const stored = (view[0]! | (view[1]! << 8) | (view[2]! << 16) | (view[3]! << 24)) >>> 0
  if (maskedCrcOfTyped(type, view, HEADER_SIZE, end) !== stored) return { bytes: view, skipsFirst: false }
  const copy = Buffer.from(view)
  copy[6] = FULL
  copy.writeUInt32LE(maskedCrcOfTyped(FULL, copy, HEADER_SIZE, end), 0)
  return { bytes: copy, skipsFirst: true }
}

export interface ScannedRecord {
  /** File offset of the record's first fragment. */
  readonly offset: number
  readonly payload: Uint8Array
  /** True when damage precedes the record in the file (found by `resync`). */
  readonly afterDamage: boolean
}

export interface LogProblem {
  /** `torn`: the file ends inside a record (a write cut short); `corrupt`: damage. */
  readonly kind: "torn" | "corrupt"
  readonly offset: number
  readonly description: string
  /** Bytes not read because of it (up to where reading started again, or the end). */
  readonly droppedBytes: number
}

export interface LogScan {
  readonly size: number
  readonly records: ReadonlyArray<ScannedRecord>
  readonly problems: ReadonlyArray<LogProblem>
  /** How the file ends, as the database reads it (up to the first problem). */
  readonly end: "clean" | "torn" | "corrupt"
}

/** Reads every record of the log `bytes`; with `resync`, past damage too. */
export const scanLog = (bytes: Uint8Array, options: { readonly resync: boolean }): LogScan => {
  const records: Array<ScannedRecord> = []
  const problems: Array<LogProblem> = []
  let base = 0
  let afterDamage = false
  for (;;) {
    const view = base === 0 ? { bytes, skipsFirst: false } : fromBoundary(bytes, base)
    const part = readLog(view.bytes)
    part.records.forEach((payload, i) => {
      // The relabelled rest of a record begun before the damage: not a record.
      if (view.skipsFirst && part.recordOffsets[i] === 0) return
      records.push({ offset: base + part.recordOffsets[i]!, payload, afterDamage })
    })
    if (part.end === "clean") break
    const validEnd = base + part.validBytes
    if (part.end === "torn") {
      problems.push({ kind: "torn", offset: validEnd, description: part.description ?? "torn tail", droppedBytes: bytes.length - validEnd })
      break
    }
    const at = base + (part.corruptOffset ?? part.validBytes)
    const next = options.resync ? (Math.floor(at / BLOCK_SIZE) + 1) * BLOCK_SIZE : bytes.length
    const resume = Math.min(next, bytes.length)
    problems.push({ kind: "corrupt", offset: at, description: part.description ?? "damaged record", droppedBytes: resume - validEnd })
    if (resume >= bytes.length) break
    base = resume
    afterDamage = true
  }
  const first = problems[0]
  return { size: bytes.length, records, problems, end: first === undefined ? "clean" : first.kind }
}
