/**
 * The WAL payload of one write batch (doc/log_format.md):
 * `sequence (fixed64 LE) | count (fixed32 LE) | entries`, each entry
 * `kind (1 byte: 1 put, 0 delete) | varint key length | key | (put) varint value length | value`.
 *
 * Encoding writes keys and values straight from the caller's strings or bytes into one buffer;
 * the memtable keeps the buffer and decodes it when a read needs its entries (no second copy).
 */
import { Buffer } from "node:buffer"
import { KIND_DELETE, KIND_PUT, type Kind } from "../key/internalKey.js"
import { DecodeError, encodeVarint, varintLength, VarintReader } from "../format/varint.js"
import { BATCH_HEADER_SIZE } from "../record/logFormat.js"
import { allocPayload } from "./payloadArena.js"


/** One validated operation: latin1 key, and for a put the value as a string (UTF-8) or bytes. */
export interface ResolvedOp {
  readonly kind: Kind
  readonly key: string
  readonly value: string | Uint8Array | undefined
  /** Encoded value length in bytes (0 for deletes). */
  readonly valueLength: number
}

/** A batch laid out in its WAL payload. */
export interface EncodedBatch {
  readonly payload: Buffer
  /** Each entry's key, in order (their count is the batch's). */
  readonly keys: Array<string>
  /** How many of the entries are deletes. */
  readonly deletes: number
  /** Key and value bytes the user handed in. */
  readonly userBytes: number
  /** A commit took this batch (see `claimBatch`). */
  claimed: boolean
}

const EMPTY: Uint8Array = new Uint8Array(0)

export const encodedOpSize = (op: ResolvedOp): number =>
  1 + varintLength(op.key.length) + op.key.length + (op.kind === KIND_PUT ? varintLength(op.valueLength) + op.valueLength : 0)

/** Lays out `ops` after a header whose sequence is filled in later by `setSequence`. */
export const encodeBatch = (ops: ReadonlyArray<ResolvedOp>): EncodedBatch => {
  let size = BATCH_HEADER_SIZE
  for (const op of ops) size += encodedOpSize(op)
  const payload = allocPayload(size)
  payload.fill(0, 0, 8)
  payload.writeUInt32LE(ops.length, 8)
  const keys = new Array<string>(ops.length)
  let deletes = 0
  let userBytes = 0
  let off = BATCH_HEADER_SIZE
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!
    payload[off++] = op.kind
    off = encodeVarint(payload, off, op.key.length)
    off += payload.latin1Write(op.key, off)
    keys[i] = op.key
    userBytes += op.key.length
    if (op.kind === KIND_PUT) {
      off = encodeVarint(payload, off, op.valueLength)
      const v = op.value!
      if (typeof v === "string") off += payload.utf8Write(v, off)
      else {
        payload.set(v, off)
        off += v.byteLength
      }
      userBytes += op.valueLength
    } else deletes++
  }
  return { payload, keys, deletes, userBytes, claimed: false }
}

/**
 * The batch for one commit. A batch commits once: its payload takes the commit's sequence and the
 * memtable keeps it. A write effect run again (a retry, a repeat) commits a copy of it.
 */
export const claimBatch = (batch: EncodedBatch): EncodedBatch => {
  if (!batch.claimed) {
    batch.claimed = true
    return batch
  }
  const payload = allocPayload(batch.payload.byteLength)
  payload.set(batch.payload)
  return { ...batch, payload, claimed: true }
}

/** Stamps the batch's first sequence number into its header. */
export const setSequence = (payload: Buffer, seq: number): void => {
  payload.writeUInt32LE(seq % 0x1_0000_0000, 0)
  payload.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), 4)
}

export const getSequence = (payload: Uint8Array): number => {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return b.readUInt32LE(0) + b.readUInt32LE(4) * 0x1_0000_0000
}

/** Thrown by `decodeBatch` on a payload that does not parse. */
export class BatchFormatError extends Error {}

export { DecodeError }

/**
 * Calls `onEntry` for each entry of a payload with its sequence number. Keys are latin1 strings,
 * values subarrays of the payload. Returns the batch's last sequence (first + count - 1).
 */
export const decodeBatch = (
  payload: Uint8Array,
  onEntry: (key: string, seq: number, kind: Kind, value: Uint8Array) => void
): number =>
  decodeEntries(payload, (key, seq, kind, valueStart, valueEnd) =>
    onEntry(key, seq, kind, valueStart === valueEnd ? EMPTY : payload.subarray(valueStart, valueEnd)))

/**
 * `decodeBatch` without a view per value: each entry's value as its start and end offsets in
 * `payload` (equal for a delete or an empty value).
 */
export const decodeEntries = (
  payload: Uint8Array,
  onEntry: (key: string, seq: number, kind: Kind, valueStart: number, valueEnd: number) => void
): number => {
  if (payload.byteLength < BATCH_HEADER_SIZE) throw new BatchFormatError("batch shorter than its header")
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  const first = getSequence(payload)
  const count = b.readUInt32LE(8)
  if (count > 0 && count - 1 > Number.MAX_SAFE_INTEGER - first) throw new BatchFormatError(`sequence ${first} + ${count} entries passes 2^53 - 1`)
  const reader = new VarintReader(b, BATCH_HEADER_SIZE)
  for (let i = 0; i < count; i++) {
    if (reader.pos >= b.length) throw new BatchFormatError(`batch ends after ${i} of ${count} entries`)
    const kind = b[reader.pos++]!
    if (kind !== KIND_PUT && kind !== KIND_DELETE) throw new BatchFormatError(`unknown entry kind ${kind}`)
    const klen = reader.varint()
    if (reader.pos + klen > b.length) throw new BatchFormatError("key runs past the batch")
    const key = b.latin1Slice(reader.pos, reader.pos + klen)
    reader.pos += klen
    let valueStart = reader.pos
    if (kind === KIND_PUT) {
      const vlen = reader.varint()
      if (reader.pos + vlen > b.length) throw new BatchFormatError("value runs past the batch")
      valueStart = reader.pos
      reader.pos += vlen
    }
    onEntry(key, first + i, kind, valueStart, reader.pos)
  }
  if (reader.pos !== b.length) throw new BatchFormatError("bytes after the last entry")
  return first + count - 1
}
