/**
 * A database's manifest written whole, outside a running `VersionSet` (doc/manifest_format.md): one
 * version edit holding the state (every table, the counters), synced, then `CURRENT` naming it
 * (written to `CURRENT.dbtmp`, synced, renamed, the directory synced). `CURRENT` comes last, so a
 * directory left by a crash before it never opens as the new database. What `checkpoint` and the
 * `repair` tool write into the directories they make or mend.
 */
import type { PlatformError } from "@effect/platform/Error"
import type { FileSystem } from "@effect/platform/FileSystem"
import { Effect } from "effect"
import { replaceFileAtomically, writeFileSynced } from "../fs/fileIo.js"
import { CURRENT_FILE_NAME, CURRENT_TEMP_FILE_NAME } from "../fs/fileNames.js"
import { LogWriter } from "../record/logWriter.js"
import { encodeVersionEdit, type VersionEdit } from "./versionEdit.js"

/** Writes manifest `name` (in `directory`, whose files `file` names) holding `edit`, then `CURRENT`. */
export const writeStandaloneManifest = (
  directory: string,
  file: (name: string) => string,
  name: string,
  edit: VersionEdit
): Effect.Effect<void, PlatformError, FileSystem> =>
  Effect.zipRight(
    writeFileSynced(file(name), [new LogWriter(0).frame(encodeVersionEdit(edit))]),
    replaceFileAtomically(directory, file(CURRENT_FILE_NAME), file(CURRENT_TEMP_FILE_NAME), new TextEncoder().encode(`${name}\n`))
  )
