/**
 * Constants of the table (SSTable) format, version 1 (doc/table_format.md): block trailer, block
 * types, footer layout, magic number, format version.
 */

/** The footer's format version; a reader rejects any other. */
export const TABLE_FORMAT_VERSION = 1

/** Every block is followed by a type byte and a masked crc32 (of contents + type). */
export const BLOCK_TRAILER_SIZE = 5

/** Block type: contents stored as they are. */
export const BLOCK_TYPE_UNCOMPRESSED = 0
/** Block types of compressed contents (internal/table/compression.ts); the others are reserved. */
export const BLOCK_TYPE_SNAPPY = 1
export const BLOCK_TYPE_ZLIB = 2
export const BLOCK_TYPE_LZ4 = 4

/** A compressed block's stored contents start with the uncompressed length, u32 little-endian. */
export const COMPRESSED_LENGTH_SIZE = 4
/** The largest uncompressed length a compressed block may record (larger blocks are stored raw). */
export const MAX_UNCOMPRESSED_BLOCK = 0x7fffffff

/** The footer: three handles (padded to 48 bytes), version, crc, magic. */
export const FOOTER_SIZE = 64
export const FOOTER_HANDLES_SIZE = 48
export const FOOTER_VERSION_OFFSET = 48
export const FOOTER_CRC_OFFSET = 52
export const FOOTER_MAGIC_OFFSET = 56

/** First 8 bytes of sha1("stratadb/sstable"). */
export const TABLE_MAGIC: Uint8Array = Uint8Array.of(0x96, 0x7d, 0x8d, 0xa6, 0x60, 0x64, 0x0c, 0xd8)

/** Bytes of the internal-key trailer (kind byte + 7-byte sequence) after the user key. */
export const KEY_TRAILER_SIZE = 8

/** Largest encoded block handle: two varints of at most 8 bytes. */
export const MAX_HANDLE_SIZE = 16

/** Bloom filter probes are clamped to this range; a filter's k byte outside it is corruption. */
export const BLOOM_MIN_PROBES = 1
export const BLOOM_MAX_PROBES = 30
