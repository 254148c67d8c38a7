/**
 * Where the last size compaction of `level` stopped (the largest internal key of its inputs); the
 * next one of that level starts after it, so a level's key space is compacted round-robin.
 */
export interface CompactPointer {
  readonly level: number
  readonly key: string
  readonly seq: number
}

/**
 * Version edits, the records of the manifest (`doc/manifest_format.md`): what changed between two
 * versions (tables added and removed per level, counters), encoded as tagged fields so fields can be
 * added later. `decodeVersionEdit` throws `DecodeError` on malformed bytes.
 */
import { Buffer } from "node:buffer"
import { DecodeError, encodeVarint, VarintReader } from "../format/varint.js"
import { bytesToKey } from "../key/keyCodec.js"
import type { FileMeta } from "./fileMeta.js"
import {
  MAX_LEVELS,
  TAG_COMPACT_POINTER,
  TAG_COMPARATOR,
  TAG_DELETED_FILE,
  TAG_LAST_SEQUENCE,
  TAG_LOG_NUMBER,
  TAG_NEW_FILE,
  TAG_NEW_FILE_RAW_SIZE,
  TAG_NEXT_FILE_NUMBER
} from "./manifestFormat.js"

export interface VersionEdit {
  readonly comparator?: string
  /** WALs with a number below this are obsolete. */
  readonly logNumber?: number
  readonly nextFileNumber?: number
  readonly lastSequence?: number
  readonly compactPointers?: ReadonlyArray<CompactPointer>
  readonly deletedFiles?: ReadonlyArray<{ readonly level: number; readonly number: number }>
  readonly newFiles?: ReadonlyArray<{ readonly level: number; readonly meta: FileMeta }>
}

/** A growable output buffer for the encoder (edits are small, a snapshot may hold many files). */
class Output {
  buf: Buffer = Buffer.allocUnsafe(256)
  pos = 0

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const bigger = Buffer.allocUnsafe(size)
    this.buf.copy(bigger, 0, 0, this.pos)
    this.buf = bigger
  }

  varint(value: number): void {
    this.ensure(8)
    this.pos = encodeVarint(this.buf, this.pos, value)
  }

  level(level: number): void {
    if (!Number.isInteger(level) || level < 0 || level >= MAX_LEVELS) {
      throw new RangeError(`version edit: level ${level} is not in [0, ${MAX_LEVELS})`)
    }
    this.varint(level)
  }

  /** A latin1 key: one byte per character. */
  key(key: string): void {
    // Characters above 0xff are not latin1 key strings and would not survive the round trip.
    if (/[^\x00-\xff]/.test(key)) throw new RangeError("version edit: a key is not a latin1 string")
    this.varint(key.length)
    this.ensure(key.length)
    this.pos += this.buf.latin1Write(key, this.pos, key.length)
  }

  utf8(s: string): void {
    const length = Buffer.byteLength(s, "utf8")
    this.varint(length)
    this.ensure(length)
    this.pos += this.buf.utf8Write(s, this.pos, length)
  }
}

/**
 * Encodes an edit: the singletons first (comparator, log number, next file number, last sequence),
 * then compact pointers, deleted files and new files in the order given. Throws `RangeError` on a
 * number that is not a safe integer >= 0, a level outside [0, MAX_LEVELS), or a non-latin1 key.
 */
export const encodeVersionEdit = (edit: VersionEdit): Uint8Array => {
  const out = new Output()
  if (edit.comparator !== undefined) {
    out.varint(TAG_COMPARATOR)
    out.utf8(edit.comparator)
  }
  if (edit.logNumber !== undefined) {
    out.varint(TAG_LOG_NUMBER)
    out.varint(edit.logNumber)
  }
  if (edit.nextFileNumber !== undefined) {
    out.varint(TAG_NEXT_FILE_NUMBER)
    out.varint(edit.nextFileNumber)
  }
  if (edit.lastSequence !== undefined) {
    out.varint(TAG_LAST_SEQUENCE)
    out.varint(edit.lastSequence)
  }
  for (const { key, level, seq } of edit.compactPointers ?? []) {
    out.varint(TAG_COMPACT_POINTER)
    out.level(level)
    out.key(key)
    out.varint(seq)
  }
  for (const { level, number } of edit.deletedFiles ?? []) {
    out.varint(TAG_DELETED_FILE)
    out.level(level)
    out.varint(number)
  }
  for (const { level, meta } of edit.newFiles ?? []) {
    out.varint(TAG_NEW_FILE_RAW_SIZE)
    out.level(level)
    out.varint(meta.number)
    out.varint(meta.size)
    out.varint(meta.rawSize)
    out.key(meta.smallestKey)
    out.varint(meta.smallestSeq)
    out.key(meta.largestKey)
    out.varint(meta.largestSeq)
    out.varint(meta.entries)
    out.varint(meta.tombstones)
    out.varint(meta.minSeq)
    out.varint(meta.maxSeq)
  }
  return out.buf.subarray(0, out.pos)
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const readLevel = (input: VarintReader): number => {
  const at = input.pos
  const level = input.varint("level")
  if (level >= MAX_LEVELS) throw new DecodeError(at, `level ${level} is not below ${MAX_LEVELS}`)
  return level
}

const readKey = (input: VarintReader, what: string): string => bytesToKey(input.lengthPrefixed(what))

/**
 * Decodes an edit. Throws `DecodeError` (with the offset in `bytes`) on an unknown tag, a truncated
 * field, a malformed varint, a singleton field given twice, or a level at or above `MAX_LEVELS`.
 * Repeated fields with no entries are absent from the result.
 */
export const decodeVersionEdit = (bytes: Uint8Array): VersionEdit => {
  const input = new VarintReader(bytes)
  const edit: Mutable<VersionEdit> = {}
  const compactPointers: Array<{ level: number; key: string; seq: number }> = []
  const deletedFiles: Array<{ level: number; number: number }> = []
  const newFiles: Array<{ level: number; meta: FileMeta }> = []
  const once = (at: number, present: unknown, name: string): void => {
    if (present !== undefined) throw new DecodeError(at, `${name} given twice`)
  }

  while (!input.done) {
    const at = input.pos
    const tag = input.varint("tag")
    switch (tag) {
      case TAG_COMPARATOR: {
        once(at, edit.comparator, "comparator")
        const name = input.lengthPrefixed("comparator name")
        edit.comparator = Buffer.from(name.buffer, name.byteOffset, name.length).toString("utf8")
        break
      }
      case TAG_LOG_NUMBER:
        once(at, edit.logNumber, "log number")
        edit.logNumber = input.varint("log number")
        break
      case TAG_NEXT_FILE_NUMBER:
        once(at, edit.nextFileNumber, "next file number")
        edit.nextFileNumber = input.varint("next file number")
        break
      case TAG_LAST_SEQUENCE:
        once(at, edit.lastSequence, "last sequence")
        edit.lastSequence = input.varint("last sequence")
        break
      case TAG_COMPACT_POINTER: {
        const level = readLevel(input)
        const key = readKey(input, "compact pointer key")
        const seq = input.varint("compact pointer sequence")
        compactPointers.push({ level, key, seq })
        break
      }
      case TAG_DELETED_FILE: {
        const level = readLevel(input)
        const number = input.varint("deleted file number")
        deletedFiles.push({ level, number })
        break
      }
      case TAG_NEW_FILE:
      case TAG_NEW_FILE_RAW_SIZE: {
        const level = readLevel(input)
        const number = input.varint("file number")
        const size = input.varint("file size")
        const rawSize = tag === TAG_NEW_FILE_RAW_SIZE ? input.varint("raw file size") : size
        const smallestKey = readKey(input, "smallest key")
        const smallestSeq = input.varint("smallest sequence")
        const largestKey = readKey(input, "largest key")
        const largestSeq = input.varint("largest sequence")
        const entries = input.varint("entry count")
        const tombstones = input.varint("tombstone count")
        const minSeq = input.varint("min sequence")
        const maxSeq = input.varint("max sequence")
        newFiles.push({
          level,
          meta: { number, size, rawSize, smallestKey, smallestSeq, largestKey, largestSeq, entries, tombstones, minSeq, maxSeq }
        })
        break
      }
      default:
        throw new DecodeError(at, `unknown version edit tag ${tag}`)
    }
  }
  if (compactPointers.length > 0) edit.compactPointers = compactPointers
  if (deletedFiles.length > 0) edit.deletedFiles = deletedFiles
  if (newFiles.length > 0) edit.newFiles = newFiles
  return edit
}
