/**
 * The fixed 64-byte footer at the end of a table: handles of the filter, properties and index
 * blocks, the format version, a masked crc32 of what precedes it, and the magic number.
 */
import { Buffer } from "node:buffer"
import { Corruption } from "../../errors.js"
import { type BlockHandle, putHandle, readHandle } from "./blockHandle.js"
import { ByteCursor, maskedCrc32 } from "./tableCoding.js"
import {
  BLOCK_TRAILER_SIZE,
  FOOTER_CRC_OFFSET,
  FOOTER_HANDLES_SIZE,
  FOOTER_MAGIC_OFFSET,
  FOOTER_SIZE,
  FOOTER_VERSION_OFFSET,
  TABLE_FORMAT_VERSION,
  TABLE_MAGIC
} from "./tableFormat.js"

export interface Footer {
  readonly filter: BlockHandle
  readonly properties: BlockHandle
  readonly index: BlockHandle
}

export const encodeFooter = (footer: Footer): Buffer => {
  const out = Buffer.alloc(FOOTER_SIZE)
  let pos = putHandle(out, 0, footer.filter)
  pos = putHandle(out, pos, footer.properties)
  putHandle(out, pos, footer.index)
  out.writeUInt32LE(TABLE_FORMAT_VERSION, FOOTER_VERSION_OFFSET)
  out.writeUInt32LE(maskedCrc32(out.subarray(0, FOOTER_CRC_OFFSET)), FOOTER_CRC_OFFSET)
  out.set(TABLE_MAGIC, FOOTER_MAGIC_OFFSET)
  return out
}

/**
 * Decodes and checks the footer of a file of `fileSize` bytes (`bytes` are its last 64 bytes):
 * magic, checksum, version, and that each handle's block (with trailer) lies before the footer.
 */
export const decodeFooter = (bytes: Uint8Array, file: string, fileSize: number): Footer | Corruption => {
  const footerOffset = fileSize - FOOTER_SIZE
  const fail = (description: string) => new Corruption({ file, offset: Math.max(0, footerOffset), description })
  if (fileSize < FOOTER_SIZE || bytes.byteLength < FOOTER_SIZE) {
    return fail(`file too short for a table: ${fileSize} bytes`)
  }
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (bytes[FOOTER_MAGIC_OFFSET + i] !== TABLE_MAGIC[i]) return fail("bad magic number: not a stratadb table")
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, FOOTER_SIZE)
  if (maskedCrc32(buf.subarray(0, FOOTER_CRC_OFFSET)) !== buf.readUInt32LE(FOOTER_CRC_OFFSET)) {
    return fail("footer checksum mismatch")
  }
  const version = buf.readUInt32LE(FOOTER_VERSION_OFFSET)
  if (version !== TABLE_FORMAT_VERSION) return fail(`unsupported table format version ${version}`)
  const cursor = new ByteCursor(buf, 0, FOOTER_HANDLES_SIZE)
  const filter = readHandle(cursor)
  const properties = readHandle(cursor)
  const index = readHandle(cursor)
  if (filter === undefined || properties === undefined || index === undefined) return fail("bad block handle in footer")
  for (const h of [filter, properties, index]) {
    if (h.offset + h.size + BLOCK_TRAILER_SIZE > footerOffset) return fail("block handle in footer beyond the file")
  }
  return { filter, properties, index }
}
