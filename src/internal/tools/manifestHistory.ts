/**
 * `manifest`: a database's version history (doc/manifest_format.md) read from its MANIFEST: every
 * version edit in order, and the version they add up to (counters, compact pointers, the tables
 * of each level), replayed the way opening does (`versionSet.ts` `recover`): up to the first
 * damage, which is reported; a torn tail is reported, not damage.
 */
import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform/FileSystem"
import { Path } from "@effect/platform/Path"
import { Effect } from "effect"
import { CURRENT_FILE_NAME } from "../fs/fileNames.js"
import type { FileMeta } from "../version/fileMeta.js"
import { COMPARATOR_NAME, MAX_LEVELS } from "../version/manifestFormat.js"
import * as V from "../version/version.js"
import type { CompactPointer, VersionEdit } from "../version/versionEdit.js"
import { damage, type Damage, renderDamage } from "./damage.js"
import { type Format, formatKey, textOrHex } from "./display.js"
import { decodeEdit, renderEdit } from "./logDump.js"
import { scanLog } from "./logScan.js"

/** The version a manifest's edits add up to. */
export interface ManifestState {
  readonly logNumber: number
  readonly nextFileNumber: number
  readonly lastSequence: number
  readonly compactPointers: ReadonlyArray<CompactPointer>
  /** Tables per level (L0 newest first, deeper levels by key); trailing empty levels left out. */
  readonly levels: ReadonlyArray<ReadonlyArray<FileMeta>>
}

export interface ManifestHistory {
  /** The manifest read (a path, or its name in the directory). */
  readonly file: string
  readonly size: number
  readonly edits: ReadonlyArray<{ readonly offset: number; readonly edit: VersionEdit }>
  readonly state: ManifestState
  readonly tornTail: { readonly offset: number; readonly description: string } | undefined
  readonly damage: ReadonlyArray<Damage>
  readonly ok: boolean
}

/** Replays the manifest `bytes` (reported as `name`), as opening does. */
export const replayManifest = (bytes: Uint8Array, name: string): ManifestHistory => {
  const scan = scanLog(bytes, { resync: false })
  const problems: Array<Damage> = []
  let tornTail: ManifestHistory["tornTail"] = undefined
  for (const p of scan.problems) {
    if (p.kind === "torn") tornTail = { offset: p.offset, description: p.description }
    else problems.push(damage(name, p.offset, p.description))
  }
  let version = V.empty(MAX_LEVELS)
  let logNumber = 0
  let nextFileNumber = 2
  let lastSequence = 0
  const pointers = new Map<number, CompactPointer>()
  const edits: Array<{ offset: number; edit: VersionEdit }> = []
  for (const r of scan.records) {
    const edit = decodeEdit(r.payload)
    if (typeof edit === "string") {
      problems.push(damage(name, r.offset, edit))
      break
    }
    if (edit.comparator !== undefined && edit.comparator !== COMPARATOR_NAME) {
      problems.push(damage(name, r.offset, `unknown comparator ${edit.comparator}`))
      break
    }
    edits.push({ offset: r.offset, edit })
    version = V.applyEdit(version, edit)
    if (edit.logNumber !== undefined) logNumber = edit.logNumber
    if (edit.nextFileNumber !== undefined) nextFileNumber = Math.max(nextFileNumber, edit.nextFileNumber)
    if (edit.lastSequence !== undefined) lastSequence = Math.max(lastSequence, edit.lastSequence)
    for (const p of edit.compactPointers ?? []) pointers.set(p.level, p)
  }
  if (scan.records.length === 0 && problems.length === 0) problems.push(damage(name, 0, "manifest holds no version"))
  const levels = version.levels.slice()
  while (levels.length > 1 && levels[levels.length - 1]!.length === 0) levels.pop()
  problems.sort((a, b) => a.offset - b.offset)
  return {
    file: name,
    size: bytes.length,
    edits,
    state: {
      logNumber,
      nextFileNumber,
      lastSequence,
      compactPointers: [...pointers.values()].sort((a, b) => a.level - b.level),
      levels
    },
    tornTail,
    damage: problems,
    ok: problems.length === 0
  }
}

/** What `CURRENT` names: the manifest's file name, or the damage (a missing or malformed CURRENT). */
export const readCurrent = (directory: string): Effect.Effect<string | Damage, PlatformError, FileSystem | Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const path = yield* Path
    const currentPath = path.join(directory, CURRENT_FILE_NAME)
    if (!(yield* fs.exists(currentPath))) return damage(CURRENT_FILE_NAME, 0, "CURRENT is missing")
    const text = (yield* fs.readFileString(currentPath)).trim()
    if (!/^MANIFEST-\d+$/.test(text)) return damage(CURRENT_FILE_NAME, 0, `CURRENT names ${JSON.stringify(text)}`)
    if (!(yield* fs.exists(path.join(directory, text)))) return damage(CURRENT_FILE_NAME, 0, `CURRENT names ${text}, which is missing`)
    return text
  })

/**
 * The version history of a database directory (the manifest CURRENT names) or of a manifest file.
 * A missing or malformed CURRENT is reported as damage (with an empty history).
 */
export const manifest = (pathOrDirectory: string): Effect.Effect<ManifestHistory, PlatformError, FileSystem | Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const path = yield* Path
    const info = yield* fs.stat(pathOrDirectory)
    let file = pathOrDirectory
    if (info.type === "Directory") {
      const current = yield* readCurrent(pathOrDirectory)
      if (typeof current !== "string") {
        return { ...replayManifest(new Uint8Array(0), CURRENT_FILE_NAME), damage: [current], ok: false }
      }
      file = path.join(pathOrDirectory, current)
    }
    return replayManifest(yield* fs.readFile(file), file)
  })

/** The final version's tables, level by level. */
export const renderState = (state: ManifestState, format: Format = textOrHex): Array<string> => {
  const lines = [
    `  log number: ${state.logNumber}, next file number: ${state.nextFileNumber}, last sequence: ${state.lastSequence}`
  ]
  for (const p of state.compactPointers) lines.push(`  compact pointer L${p.level}: ${formatKey(p.key, format)} @${p.seq}`)
  state.levels.forEach((files, level) => {
    let bytes = 0
    for (const f of files) bytes += f.size
    lines.push(`  L${level}: ${files.length} tables, ${bytes} bytes`)
    for (const f of files) {
      lines.push(
        `    #${f.number} ${f.size} bytes [${formatKey(f.smallestKey, format)} @${f.smallestSeq} .. ${formatKey(f.largestKey, format)} @${f.largestSeq}] entries ${f.entries} seq ${f.minSeq}..${f.maxSeq}`
      )
    }
  })
  return lines
}

/** The history as text: every edit, then the final version. */
export const renderManifestHistory = (history: ManifestHistory, format: Format = textOrHex): string => {
  const lines = [`manifest ${history.file} (${history.size} bytes, ${history.edits.length} edits)`]
  history.edits.forEach(({ edit, offset }, i) => lines.push(`edit ${i} @${offset}`, ...renderEdit(edit, format)))
  if (history.tornTail !== undefined) lines.push(`torn tail at ${history.tornTail.offset}: ${history.tornTail.description}`)
  lines.push("final version:", ...renderState(history.state, format))
  lines.push(...renderDamage(history.damage))
  lines.push(history.ok ? "OK" : `DAMAGED: ${history.damage.length} problems`)
  return lines.join("\n")
}
