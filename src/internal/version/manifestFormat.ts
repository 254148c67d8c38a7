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

/** Levels in an edit are below this (the largest `numLevels` the options allow). */
export const MAX_LEVELS = 20

/** `000007`: a file number zero-padded to at least 6 digits. */
export const fileNumberString = (n: number): string => String(n).padStart(6, "0")

/** `000007.log` */
export const logFileName = (n: number): string => `${fileNumberString(n)}.log`

/** `000012.sst` */
export const tableFileName = (n: number): string => `${fileNumberString(n)}.sst`

/** `MANIFEST-000003` */
export const manifestFileName = (n: number): string => `MANIFEST-${fileNumberString(n)}`

export const CURRENT_FILE_NAME = "CURRENT"
export const CURRENT_TEMP_FILE_NAME = "CURRENT.dbtmp"
export const LOCK_FILE_NAME = "LOCK"

export type ParsedFileName =
  | { readonly kind: "log" | "table" | "manifest"; readonly number: number }
  | { readonly kind: "current" | "currentTemp" | "lock" }

/** The kind (and number) of a file name in a database directory, or `undefined` for other files. */
export const parseFileName = (name: string): ParsedFileName | undefined => {
  if (name === CURRENT_FILE_NAME) return { kind: "current" }
  if (name === CURRENT_TEMP_FILE_NAME) return { kind: "currentTemp" }
  if (name === LOCK_FILE_NAME) return { kind: "lock" }
  const m = /^(?:MANIFEST-(\d{6,16})|(\d{6,16})\.(log|sst))$/.exec(name)
  if (m === null) return undefined
  const digits = m[1] ?? m[2]!
  const number = Number(digits)
  // Only the canonical spelling: `0000007.log` is not file 7.
  if (!Number.isSafeInteger(number) || fileNumberString(number) !== digits) return undefined
  if (m[1] !== undefined) return { kind: "manifest", number }
  return { kind: m[3] === "log" ? "log" : "table", number }
}
