/**
 * Constants of the log framing shared by the WAL and the manifest (`doc/log_format.md`).
 */

/** The file is a sequence of blocks of this size; fragments never cross a block boundary. */
export const BLOCK_SIZE = 32768

/** Fragment header: checksum (4 bytes, masked CRC-32 of type + payload), length (2, LE), type (1). */
export const HEADER_SIZE = 7

/** Fragment types. 0 is reserved (zero-filled space); above 4 is unknown. */
export const FULL = 1
export const FIRST = 2
export const MIDDLE = 3
export const LAST = 4
export type FragmentType = typeof FULL | typeof FIRST | typeof MIDDLE | typeof LAST

/** WAL record payload (one write batch): `sequence (fixed64 LE) | count (fixed32 LE) | entries`. */
export const BATCH_HEADER_SIZE = 12
