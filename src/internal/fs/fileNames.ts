/**
 * File names in a database directory (doc/manifest_format.md): `000007.log` (WAL), `000012.sst`
 * (table), `MANIFEST-000003`, `CURRENT`, `CURRENT.dbtmp` while CURRENT is replaced, and `LOCK`.
 */

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
/** The folder where an open that found damage keeps the files it would otherwise delete. */
export const LOST_DIRECTORY_NAME = "lost"

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
