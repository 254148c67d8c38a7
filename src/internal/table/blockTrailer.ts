/**
 * The trailer every stored block carries: a type byte (0 = uncompressed, else the codec,
 * internal/table/compression.ts) and the masked crc32 of the stored contents + type. `sealBlock`
 * compresses (when it saves an eighth) and appends it; `unsealBlock` checks it and yields the
 * contents, decompressed.
 */
import { Buffer } from "node:buffer"
import { Corruption, type NotSupported } from "../../errors.js"
import { type Compression, compressBlock, decompressBlock } from "./compression.js"
import { maskedCrc32 } from "./tableCoding.js"
import { BLOCK_TRAILER_SIZE, BLOCK_TYPE_UNCOMPRESSED } from "./tableFormat.js"

/** Writes the trailer of the `n` stored bytes at the start of `out` (which has room for it). */
const trailer = (out: Buffer, n: number, type: number): Buffer => {
  out[n] = type
  out.writeUInt32LE(maskedCrc32(out.subarray(0, n + 1)), n + 1)
  return out
}

/**
 * A new buffer holding the block as stored: `contents` compressed with `compression` when that
 * saves at least an eighth of it, else as they are; then the trailer. The stored size (the
 * block handle's) is the buffer's length less `BLOCK_TRAILER_SIZE`.
 */
export const sealBlock = (contents: Uint8Array, compression: Compression = "none"): Buffer => {
  if (compression !== "none") {
    const compressed = compressBlock(contents, compression, trailer)
    if (compressed !== undefined) return compressed
  }
  const n = contents.byteLength
  const out = Buffer.allocUnsafe(n + BLOCK_TRAILER_SIZE)
  out.set(contents, 0)
  return trailer(out, n, BLOCK_TYPE_UNCOMPRESSED)
}

/**
 * Checks the block read at `offset` (`raw` holds `size` stored bytes then the trailer): `raw` as
 * a Buffer, whose byte `size` is the block type, or the `Corruption` describing what is wrong. The
 * checksum covers the bytes as stored.
 */
export const checkBlock = (raw: Uint8Array, size: number, file: string, offset: number): Buffer | Corruption => {
  if (raw.byteLength < size + BLOCK_TRAILER_SIZE) {
    return new Corruption({
      file,
      offset,
      description: `truncated block: read ${raw.byteLength} of ${size + BLOCK_TRAILER_SIZE} bytes`
    })
  }
  // Reads from our file systems arrive as Buffers already: no extra view for them.
  const buf = raw instanceof Buffer ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  if (maskedCrc32(buf.subarray(0, size + 1)) !== buf.readUInt32LE(size + 1)) {
    return new Corruption({ file, offset, description: "block checksum mismatch" })
  }
  return buf
}

/**
 * The contents of a block `checkBlock` passed: a view of `checked` (no copy) for an uncompressed
 * block, for a compressed one a new buffer (or a view of `into`, when given, long enough and the
 * codec can decode in place); or the `Corruption` when it does not decode, or `NotSupported` when
 * its codec is not installed here.
 */
export const blockContents = (
  checked: Buffer,
  size: number,
  file: string,
  offset: number,
  into?: Buffer
): Buffer | Corruption | NotSupported => {
  const type = checked[size]!
  if (type === BLOCK_TYPE_UNCOMPRESSED) return checked.subarray(0, size)
  return decompressBlock(checked.subarray(0, size), type, file, offset, into)
}

/** `checkBlock`, then `blockContents`: a block's contents from the bytes read, checked. */
export const unsealBlock = (raw: Uint8Array, size: number, file: string, offset: number): Buffer | Corruption | NotSupported => {
  const checked = checkBlock(raw, size, file, offset)
  return checked instanceof Corruption ? checked : blockContents(checked, size, file, offset)
}
