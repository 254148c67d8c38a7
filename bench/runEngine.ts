/**
 * One engine's whole run (the body of a worker process, also callable in-process by tests): its
 * workloads in turn, each on fresh directories under `baseDirectory` that are removed after it.
 * A failure ends the run; the figures gathered before it are kept and the error is reported.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { BenchConfig } from "./config.js"
import type { Engine } from "./engine.js"
import { loadEngine } from "./engines/index.js"
import { Progress } from "./progress.js"
import type { EngineResult, KeyliteResult, DbBenchResult, ScaleResult } from "./results.js"
import { dbBench } from "./workloads/dbbench.js"
import { keylite } from "./workloads/keylite.js"
import { scale } from "./workloads/scale.js"

/**
 * A directory for one workload, removed (with everything in it) when the scope closes; copied
 * first into `keepDir/label` when `keepDir` is given (the workload has closed its database).
 */
const workloadDirectory = (baseDirectory: string, label: string, keepDir: string | undefined) =>
  Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(baseDirectory, `${label}-`))),
    (dir) =>
      Effect.sync(() => {
        if (keepDir !== undefined) fs.cpSync(dir, path.join(keepDir, label), { recursive: true })
        fs.rmSync(dir, { recursive: true, force: true })
      })
  )

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

export const runEngine = (
  config: BenchConfig,
  engineName: string,
  baseDirectory: string,
  write?: (line: string) => void
): Effect.Effect<EngineResult> =>
  Effect.gen(function* () {
    const started = performance.now()
    const progress = new Progress(engineName, config.progressSeconds * 1000, write)
    const ctx = { engine: engineName, budgetMs: config.phaseSeconds * 1000, progress }
    let engine: Engine | undefined
    let keyliteResult: KeyliteResult | undefined
    let loadedResult: KeyliteResult | undefined
    let dbbenchResult: DbBenchResult | undefined
    let scaleResult: ScaleResult | undefined

    const body = Effect.gen(function* () {
      const loaded = yield* loadEngine(engineName)
      engine = loaded
      for (const workload of config.workloads) {
        progress.note(`${workload} starts`)
        if (workload === "keylite" || workload === "keylite-loaded") {
          const result = yield* Effect.scoped(
            Effect.gen(function* () {
              const directory = yield* workloadDirectory(baseDirectory, `${engineName}-${workload}`, config.keepDir)
              return yield* keylite(loaded, ctx, {
                directory,
                windowSeconds: config.windowSeconds,
                load: workload === "keylite" ? 0 : config.load,
                seed: config.seed
              })
            })
          )
          if (workload === "keylite") keyliteResult = result
          else loadedResult = result
        } else if (workload === "scale") {
          scaleResult = yield* Effect.scoped(
            Effect.gen(function* () {
              const directory = yield* workloadDirectory(baseDirectory, `${engineName}-scale`, config.keepDir)
              return yield* scale(loaded, ctx, { directory, n: config.scaleN, reads: config.scaleReads, seed: config.seed })
            })
          )
        } else {
          dbbenchResult = yield* Effect.scoped(
            Effect.gen(function* () {
              const directory = yield* workloadDirectory(baseDirectory, `${engineName}-dbbench`, config.keepDir)
              return yield* dbBench(loaded, ctx, {
                n: config.n,
                seed: config.seed,
                freshDirectory: (label) => fs.mkdtempSync(path.join(directory, `${label}-`))
              })
            })
          )
        }
      }
    })
    const error = yield* body.pipe(
      Effect.as(undefined),
      Effect.catchAll((e) => Effect.succeed(errorText(e))),
      Effect.catchAllDefect((d) => Effect.succeed(`defect: ${errorText(d)}`))
    )
    progress.sample()
    const result: EngineResult = {
      engine: engineName,
      description: engine?.description ?? engineName,
      durability: engine?.durability ?? "?",
      api: engine?.api ?? "?",
      ...(keyliteResult === undefined ? {} : { keylite: keyliteResult }),
      ...(loadedResult === undefined ? {} : { keyliteLoaded: loadedResult }),
      ...(dbbenchResult === undefined ? {} : { dbbench: dbbenchResult }),
      ...(scaleResult === undefined ? {} : { scale: scaleResult }),
      memory: { peakRssBytes: process.resourceUsage().maxRSS * 1024, peakHeapUsedBytes: progress.peakHeapUsed },
      ...(error === undefined ? {} : { error }),
      wallSeconds: (performance.now() - started) / 1000
    }
    return result
  })
