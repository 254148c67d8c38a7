/**
 * Writes a run's figures: `<out>/<timestamp>.json` and `<out>/<timestamp>.svg`, and the same as
 * `latest.json` / `latest.svg`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { RunResult } from "../results.js"
import { renderSvg } from "./svg.js"

export interface WrittenFiles {
  readonly json: string
  readonly svg: string
  readonly latestJson: string
  readonly latestSvg: string
}

/** `2025-06-01T10:20:30.123Z` -> `2025-06-01T10-20-30Z` (safe in file names everywhere). */
export const fileStamp = (iso: string): string => iso.replace(/\.\d+Z$/, "Z").replace(/:/g, "-")

export const writeResults = (run: RunResult, outDir: string): WrittenFiles => {
  fs.mkdirSync(outDir, { recursive: true })
  const stamp = fileStamp(run.startedAt)
  const json = JSON.stringify(run, null, 2) + "\n"
  const svg = renderSvg(run)
  const files: WrittenFiles = {
    json: path.join(outDir, `${stamp}.json`),
    svg: path.join(outDir, `${stamp}.svg`),
    latestJson: path.join(outDir, "latest.json"),
    latestSvg: path.join(outDir, "latest.svg")
  }
  fs.writeFileSync(files.json, json)
  fs.writeFileSync(files.latestJson, json)
  fs.writeFileSync(files.svg, svg)
  fs.writeFileSync(files.latestSvg, svg)
  return files
}
