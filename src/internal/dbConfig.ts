/**
 * The resolved configuration every service of one database reads: options and file paths.
 */
import { Context } from "effect"
import type { ResolvedOptions } from "../Options.js"

export interface DbConfig {
  readonly options: ResolvedOptions
  /** The database directory (as given, resolved against the working directory). */
  readonly directory: string
  /** The path of a file in the directory. */
  readonly file: (name: string) => string
}

export const DbConfig = Context.GenericTag<DbConfig>("stratadb/DbConfig")
