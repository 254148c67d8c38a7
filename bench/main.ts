/**
 * `npm start`: the benchmark. Each engine runs in its own process, one after another, on
 * temporary directories (removed at the end); the parent prints each engine's figures as they
 * arrive, then the comparison (ratio stratadb / peer per phase), and writes
 * `<out>/<timestamp>.json` and `.svg` (and `latest.*`). `npm start -- --help` lists the flags.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Either, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type BenchConfig, parseArgs, usage } from "./config.js"
import { machineInfo } from "./machine.js"
import { writeResults } from "./report/files.js"
import { comparisonBlock, engineBlock, machineLine } from "./report/text.js"
import type { EngineResult, RunResult } from "./results.js"
import { runWorker } from "./spawnWorker.js"

const say = (text: string) => Effect.sync(() => void process.stdout.write(text + "\n"))

const describeConfig = (c: BenchConfig): string =>
  [
    `engines: ${c.engines.join(", ")}; workloads: ${c.workloads.join(", ")}${c.quick ? " (--quick)" : ""}`,
    `db_bench N = ${c.n.toLocaleString("en-US")}, phase budget ${c.phaseSeconds} s; keylite window ${c.windowSeconds} s, keylite-loaded ${c.load.toLocaleString("en-US")} entries`,
    ...(c.workloads.includes("scale")
      ? [`scale N = ${c.scaleN.toLocaleString("en-US")} then ${c.scaleReads.toLocaleString("en-US")} random reads (no phase budget)`]
      : [])
  ].join("\n")

const run = (config: BenchConfig) =>
  Effect.gen(function* () {
    const startedAt = new Date().toISOString()
    const started = performance.now()
    const machine = machineInfo()
    yield* say(`stratadb benchmark, ${startedAt}\n${machineLine({ machine })}\n${describeConfig(config)}\n`)
    const baseDirectory = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stratadb-bench-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const results: Array<EngineResult> = []
    for (const engine of config.engines) {
      const result = yield* runWorker(config, engine, baseDirectory)
      results.push(result)
      yield* say("\n" + engineBlock(result) + "\n")
    }
    const runResult: RunResult = {
      version: 1,
      startedAt,
      wallSeconds: (performance.now() - started) / 1000,
      machine,
      config,
      engines: results
    }
    const comparison = comparisonBlock(runResult)
    if (comparison !== "") yield* say("\n=== comparison ===\n\n" + comparison + "\n")
    const files = writeResults(runResult, config.outDir)
    yield* say(`wrote ${files.json} and ${files.svg} (also latest.json, latest.svg); ${runResult.wallSeconds.toFixed(1)} s`)
    if (results.some((r) => r.error !== undefined)) process.exitCode = 1
  }).pipe(Effect.scoped)

const program = Effect.suspend(() => {
  const parsed = parseArgs(process.argv.slice(2))
  if (Either.isLeft(parsed)) {
    return Effect.sync(() => {
      process.stderr.write(parsed.left.description + "\n")
      process.exitCode = 2
    })
  }
  if (parsed.right === undefined) return say(usage)
  return run(parsed.right)
})

NodeRuntime.runMain(program, {
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) {
      process.stderr.write("interrupted: engines closed, temporary directories removed\n")
      onExit(130)
    } else onExit(Exit.isFailure(exit) ? 1 : (process.exitCode as number | undefined) ?? 0)
  }
})
