/**
 * Constants of the manifest (`doc/manifest_format.md`): the version edit tags, the level bound and
 * the file names of a database directory.
 */

/** Version edit field tags. Written to disk: never renumber; a new layout gets a new tag. */
export const TAG_COMPARATOR = 1
export const TAG_LOG_NUMBER = 2
export const TAG_NEXT_FILE_NUMBER = 3
export const TAG_LAST_SEQUENCE = 4
export const TAG_COMPACT_POINTER = 5
export const TAG_DELETED_FILE = 6
export const TAG_NEW_FILE = 7
/** A new file with its raw (uncompressed) size after `size`; what this version writes. */
export const TAG_NEW_FILE_RAW_SIZE = 8

/** Levels in an edit are below this (the largest `numLevels` the options allow). */
export const MAX_LEVELS = 20

/** The comparator name every manifest records (tag 1); a manifest naming another is `Corruption`. */
export const COMPARATOR_NAME = "stratadb.bytewise"
