/**
 * Running the `stratadb` command as a child process, and building the databases it runs on.
 *
 * Each test file bundles `src/cli.ts` once with esbuild (tsx's own compiler, so no new
 * dependency) into a temporary directory and runs the bundle with plain `node`: the same code as
 * `node --import tsx src/cli.ts`, but a child starts in about a second instead of several (tsx
 * resolves and compiles hundreds of modules per start). `runSource` runs the sources through tsx,
 * to prove that entry works too.
 */
import { Chunk, Effect, Stream } from "effect"
import { build } from "esbuild"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Db, type DbService } from "../../src/Db.js"
import type { DbOptions } from "../../src/Options.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import * as BackgroundWork from "../../src/BackgroundWork.js"
import { Layer } from "effect"

export const repo = fileURLToPath(new URL("../..", import.meta.url))

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A fresh temporary directory, removed by `cleanup`. */
export const tempDir = (prefix: string): { readonly path: string; readonly cleanup: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** Bundles the command into `directory`; its path. */
export const bundleCli = async (directory: string): Promise<string> => {
  const outfile = join(directory, "stratadb.mjs")
  await build({
    entryPoints: [join(repo, "src/cli.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["stratadb-source"],
    outfile,
    logLevel: "warning",
    // CommonJS dependencies bundled into ESM still call `require`.
    banner: { js: "import { createRequire as __stratadbRequire } from 'node:module'; const require = __stratadbRequire(import.meta.url);" }
  })
  return outfile
}

const collect = (command: string, args: ReadonlyArray<string>, options: { readonly cwd?: string; readonly stdin?: string } = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repo, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? "")
  })

/** Runs the bundled command with `args`. */
export const runBundle = (bundle: string, args: ReadonlyArray<string>): Promise<Run> => collect(process.execPath, [bundle, ...args])

/** Runs the command from the sources, as `node --conditions=stratadb-source --import tsx src/cli.ts`. */
export const runSource = (args: ReadonlyArray<string>): Promise<Run> =>
  collect(process.execPath, ["--conditions=stratadb-source", "--import", "tsx", join(repo, "src/cli.ts"), ...args])

/** The database layer the tests build directories with: stratadb's Node file system, inline work. */
const layer = (options: DbOptions) => Db.layer(options).pipe(Layer.provide(BackgroundWork.inline), Layer.provide(NodeSyncFileSystem.layer))

/** Runs `f` on the database in `directory` (created if missing), then closes it. */
export const withNodeDb = <A, E>(options: DbOptions, f: (db: DbService) => Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(Effect.flatMap(Db, f).pipe(Effect.provide(layer(options))))

/** Every entry as [key, value] text pairs, in key order. */
export const entriesOf = (db: DbService) =>
  Effect.map(Stream.runCollect(db.scan()), (c) =>
    Chunk.toReadonlyArray(c).map((e) => [new TextDecoder().decode(e.key), new TextDecoder().decode(e.value)] as const)
  )
