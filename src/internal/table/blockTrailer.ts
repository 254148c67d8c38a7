/**
 * The trailer every stored block carries: a type byte (0 = uncompressed) and the masked crc32 of
 * contents + type. `sealBlock` appends it; `unsealBlock` checks it and yields the contents.
 */
import { Buffer } from "node:buffer"
import { Corruption } from "../../errors.js"
import { maskedCrc32 } from "./tableCoding.js"
import { BLOCK_TRAILER_SIZE, BLOCK_TYPE_UNCOMPRESSED } from "./tableFormat.js"

/** A new buffer holding `contents` then the trailer (type uncompressed). */
export const sealBlock = (contents: Uint8Array): Buffer => {
  const n = contents.byteLength
  const out = Buffer.allocUnsafe(n + BLOCK_TRAILER_SIZE)
  out.set(contents, 0)
  out[n] = BLOCK_TYPE_UNCOMPRESSED
  out.writeUInt32LE(maskedCrc32(out.subarray(0, n + 1)), n + 1)
  return out
}

/**
 * Checks the block read at `offset` (`raw` holds `size` contents bytes then the trailer) and
 * returns its contents as a Buffer view (no copy), or the `Corruption` describing what is wrong.
 */
export const unsealBlock = (raw: Uint8Array, size: number, file: string, offset: number): Buffer | Corruption => {
  if (raw.byteLength < size + BLOCK_TRAILER_SIZE) {
    return new Corruption({
      file,
      offset,
      description: `truncated block: read ${raw.byteLength} of ${size + BLOCK_TRAILER_SIZE} bytes`
    })
  }
  // Reads from our file systems arrive as Buffers already: no extra view for them.
  const buf = raw instanceof Buffer ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const type = buf[size]!
  if (maskedCrc32(buf.subarray(0, size + 1)) !== buf.readUInt32LE(size + 1)) {
    return new Corruption({ file, offset, description: "block checksum mismatch" })
  }
  if (type !== BLOCK_TYPE_UNCOMPRESSED) {
    return new Corruption({ file, offset, description: `unsupported block type ${type}` })
  }
  return buf.subarray(0, size)
}
