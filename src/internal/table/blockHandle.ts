/**
 * A block handle: where a block lives in a table file (`offset varint, size varint`; the size is
 * the contents' length, the 5-byte trailer follows).
 */
import { type ByteCursor, putVarint } from "./tableCoding.js"

export interface BlockHandle {
  readonly offset: number
  readonly size: number
}

/** Writes `h` at `pos`; returns the position after it. */
export const putHandle = (buf: Uint8Array, pos: number, h: BlockHandle): number =>
  putVarint(buf, putVarint(buf, pos, h.offset), h.size)

/** Reads a handle at the cursor, or undefined when the bytes do not hold one. */
export const readHandle = (cursor: ByteCursor): BlockHandle | undefined => {
  const offset = cursor.varint()
  if (offset < 0) return undefined
  const size = cursor.varint()
  if (size < 0) return undefined
  return { offset, size }
}
