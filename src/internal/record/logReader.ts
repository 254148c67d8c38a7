/**
 * The log reader (`doc/log_format.md`): reassembles the records of a whole log file and tells how
 * the file ends: `clean`, `torn` (a record cut short by the end of the file, or a tail of zeros: a
 * partial write; keep the records before it) or `corrupt` (a complete fragment that fails its
 * checks, or fragments out of order: damage, wherever it is; the caller decides).
 *
 * A payload that failed its checksum is never returned, nor any record after the first damage.
 */
import { Buffer } from "node:buffer"
import { maskedCrcOfTyped } from "../format/crc.js"
import * as LogFormat from "./logFormat.js"

// Module-local copies of the constants: some loaders (vitest's, tsx compiling to CommonJS) turn
// every use of an imported binding into a getter call, which the per-byte resync scan must not pay.
const BLOCK_SIZE = LogFormat.BLOCK_SIZE
const HEADER_SIZE = LogFormat.HEADER_SIZE
const FULL = LogFormat.FULL
const FIRST = LogFormat.FIRST
const MIDDLE = LogFormat.MIDDLE
const LAST = LogFormat.LAST

export interface LogReadResult {
  /**
   * Payloads of the whole records before the first damage or tear, in order. A record written as one
   * `FULL` fragment is a view into the input bytes (no copy); a fragmented one is a new buffer.
   */
  readonly records: Array<Uint8Array>
  /** File offset of each record's first fragment header (for error messages). */
  readonly recordOffsets: Array<number>
  readonly end: "clean" | "torn" | "corrupt"
  /** File offset just after the last whole record; equals the input's length iff `end` is `clean`. */
  readonly validBytes: number
  /** For `corrupt`: the offset of the damaged fragment (see `doc/log_format.md`). */
  readonly corruptOffset?: number
  /** For `torn` and `corrupt`: what was found. */
  readonly description?: string
}

// Outcomes of `checkFragment` below 0; a fragment that passes returns its type (1..4).
const TRUNCATED_HEADER = -1
const TRUNCATED_PAYLOAD = -2
const BAD_LENGTH = -3
const BAD_TYPE = -4
const BAD_CHECKSUM = -5

/**
 * Checks the fragment whose header starts at `p`, where `blockEnd - p >= HEADER_SIZE`. Returns its
 * type (1..4) if it is whole and its checksum matches, otherwise one of the negative outcomes.
 */
const checkFragment = (bytes: Uint8Array, p: number, blockEnd: number): number => {
  const n = bytes.length
  if (p + HEADER_SIZE > n) return TRUNCATED_HEADER
  const type = bytes[p + 6]!
  const payloadEnd = p + HEADER_SIZE + (bytes[p + 4]! | (bytes[p + 5]! << 8))
  if (payloadEnd > blockEnd) return BAD_LENGTH
  if (type < FULL || type > LAST) return BAD_TYPE
  if (payloadEnd > n) return TRUNCATED_PAYLOAD
  const stored = (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0
  return maskedCrcOfTyped(type, bytes, p + HEADER_SIZE, payloadEnd) === stored ? type : BAD_CHECKSUM
}

const fragmentEnd = (bytes: Uint8Array, p: number): number =>
  p + HEADER_SIZE + (bytes[p + 4]! | (bytes[p + 5]! << 8))

const describeOutcome = (outcome: number, p: number): string => {
  switch (outcome) {
    case TRUNCATED_PAYLOAD:
      return `fragment at ${p} runs past the end of the file`
    case BAD_LENGTH:
      return `fragment at ${p} has a length running past its block`
    case BAD_TYPE:
      return `fragment at ${p} has an unknown type`
    default:
      return `fragment at ${p} fails its checksum`
  }
}

/**
 * Finds, from a starting offset onwards, the offsets where a fragment header could start: those
 * whose type byte (at offset + 6) is 1..4. Uses the native byte search (`memchr`) once per type
 * value and remembers each value's next occurrence, so a long stretch of other bytes costs no
 * JavaScript loop.
 */
class CandidateFinder {
  private readonly buf: Buffer
  /** For type value v (index v - 1): the next offset of a byte v at or after the last request, or -1. */
  private readonly next = [-2, -2, -2, -2]

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  }

  /** The smallest `p >= from` whose type byte is 1..4, or -1. */
  find(from: number): number {
    const typeAt = from + 6
    let best = -1
    for (let v = 0; v < 4; v++) {
      let at = this.next[v]!
      if (at !== -1 && at < typeAt) {
        at = this.buf.indexOf(v + 1, typeAt)
        this.next[v] = at
      }
      if (at !== -1 && (best === -1 || at < best)) best = at
    }
    return best === -1 ? -1 : best - 6
  }
}

/**
 * Whether a whole, valid record starts at or after `from`: scans for a fragment that passes its
 * checks, follows the fragments from there, skips `MIDDLE` and `LAST` fragments that have no
 * `FIRST` (the rest of a damaged record), and answers true on a `FULL` fragment or a complete
 * `FIRST .. LAST` sequence.
 */
const hasWholeRecordFrom = (bytes: Uint8Array, from: number): boolean => {
  const n = bytes.length
  const candidates = new CandidateFinder(bytes)
  let p = from
  let open = false
  while (p + HEADER_SIZE <= n) {
    const blockEnd = p - (p % BLOCK_SIZE) + BLOCK_SIZE
    if (blockEnd - p < HEADER_SIZE) {
      p = blockEnd // a block trailer
      continue
    }
    const type = bytes[p + 6]!
    if (type < FULL || type > LAST) {
      // Not a fragment: go on at the next offset that could be one.
      open = false
      p = candidates.find(p + 1)
      if (p < 0) return false
      continue
    }
    const outcome = checkFragment(bytes, p, blockEnd)
    if (outcome < 0) {
      open = false
      p++
      continue
    }
    if (outcome === FULL || (outcome === LAST && open)) return true
    if (outcome === FIRST) open = true
    p = fragmentEnd(bytes, p)
  }
  return false
}

/** True when every byte of `bytes` from `from` on is zero (a file extended by a crash, never written). */
const zerosFrom = (bytes: Uint8Array, from: number): boolean => {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

/**
 * For a fragment at `p` whose payload runs past the end of the file: true when flipping one bit
 * of its length gives a whole fragment whose checksum matches, i.e. the length was damaged, not
 * cut by the end of the file.
 */
const lengthWasFlipped = (bytes: Uint8Array, p: number, blockEnd: number): boolean => {
  const type = bytes[p + 6]!
  const stored = (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0
  const length = bytes[p + 4]! | (bytes[p + 5]! << 8)
  for (let bit = 0; bit < 16; bit++) {
    const end = p + HEADER_SIZE + (length ^ (1 << bit))
    if (end > bytes.length || end > blockEnd) continue
    if (maskedCrcOfTyped(type, bytes, p + HEADER_SIZE, end) === stored) return true
  }
  return false
}

/** Reads every record of a log file held in `bytes`. */
export const readLog = (bytes: Uint8Array): LogReadResult => {
  const n = bytes.length
  const records: Array<Uint8Array> = []
  const recordOffsets: Array<number> = []
  let validBytes = 0
  // The open fragmented record: offset of its FIRST fragment (-1 if none), its parts and size.
  let recordStart = -1
  let parts: Array<Uint8Array> = []
  let partsLength = 0

  const torn = (description: string): LogReadResult => ({
    records,
    recordOffsets,
    end: "torn",
    validBytes,
    description
  })
  /** Damage found at `from` (reported at `at`): `corrupt`, unless only zeros follow (`torn`). */
  const damaged = (at: number, from: number, description: string): LogReadResult =>
    zerosFrom(bytes, from)
      ? torn(`zeros from ${from} to the end of the file`)
      : { records, recordOffsets, end: "corrupt", validBytes, corruptOffset: at, description }

  let p = 0
  for (;;) {
    if (p >= n) {
      if (recordStart >= 0) return torn(`record at ${recordStart} has no last fragment before the end of the file`)
      if (validBytes < n) return torn(`file ends inside a block trailer at ${validBytes}`)
      return { records, recordOffsets, end: "clean", validBytes }
    }
    const blockEnd = p - (p % BLOCK_SIZE) + BLOCK_SIZE
    if (blockEnd - p < HEADER_SIZE) {
      p = blockEnd // the block's trailer
      continue
    }
    const outcome = checkFragment(bytes, p, blockEnd)
    if (outcome < 0) {
      if (outcome === TRUNCATED_HEADER) return torn(`fragment header at ${p} runs past the end of the file`)
      // A payload cut by the end of the file is a torn write, unless its length was damaged: one
      // bit of it flipped, or whole records follow inside what it claims as its payload.
      if (outcome === TRUNCATED_PAYLOAD && !lengthWasFlipped(bytes, p, blockEnd) && !hasWholeRecordFrom(bytes, p + 1)) {
        return torn(describeOutcome(outcome, p))
      }
      return damaged(p, p, describeOutcome(outcome, p))
    }
    const payloadStart = p + HEADER_SIZE
    const next = fragmentEnd(bytes, p)
    switch (outcome) {
      case FULL:
        if (recordStart >= 0) {
          return damaged(recordStart, recordStart, `record at ${recordStart} has no last fragment (full fragment at ${p})`)
        }
        records.push(bytes.subarray(payloadStart, next))
        recordOffsets.push(p)
        validBytes = next
        break
      case FIRST:
        if (recordStart >= 0) {
          return damaged(recordStart, recordStart, `record at ${recordStart} has no last fragment (first fragment at ${p})`)
        }
        recordStart = p
        parts = [bytes.subarray(payloadStart, next)]
        partsLength = next - payloadStart
        break
      case MIDDLE:
      case LAST: {
        if (recordStart < 0) return damaged(p, p, `fragment at ${p} continues no record`)
        parts.push(bytes.subarray(payloadStart, next))
        partsLength += next - payloadStart
        if (outcome === LAST) {
          const record = new Uint8Array(partsLength)
          let at = 0
          for (const part of parts) {
            record.set(part, at)
            at += part.length
          }
          records.push(record)
          recordOffsets.push(recordStart)
          validBytes = next
          recordStart = -1
          parts = []
        }
        break
      }
    }
    p = next
  }
}
