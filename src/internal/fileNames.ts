/**
 * File names in a database directory (documented in doc/manifest_format.md):
 * `000007.log` (WAL), `000012.sst` (table), `MANIFEST-000003`, `CURRENT`, `LOCK`,
 * and `*.tmp` while a file is being replaced.
 */
export type FileKind = "log" | "table" | "manifest" | "current" | "lock" | "temp"

export interface ParsedFileName {
  readonly kind: FileKind
  readonly number: number
}

const pad = (n: number): string => String(n).padStart(6, "0")

export const logFileName = (n: number): string => `${pad(n)}.log`
export const tableFileName = (n: number): string => `${pad(n)}.sst`
export const manifestFileName = (n: number): string => `MANIFEST-${pad(n)}`
export const currentFileName = "CURRENT"
export const lockFileName = "LOCK"
export const tempFileName = (n: number): string => `${pad(n)}.tmp`

/** Parses a name found in the directory; `undefined` for files that are not ours. */
export const parseFileName = (name: string): ParsedFileName | undefined => {
  if (name === currentFileName) return { kind: "current", number: 0 }
  if (name === lockFileName) return { kind: "lock", number: 0 }
  let m = /^MANIFEST-(\d+)$/.exec(name)
  if (m) return { kind: "manifest", number: Number(m[1]) }
  m = /^(\d+)\.(log|sst|tmp)$/.exec(name)
  if (m) return { kind: m[2] === "log" ? "log" : m[2] === "sst" ? "table" : "temp", number: Number(m[1]) }
  return undefined
}
