/**
 * Runs one engine in its own Node process (`worker.ts`, started with this process's exec
 * arguments, so under tsx when we are) and waits for its `EngineResult`. Its stdout and stderr
 * are ours (progress lines appear live). If we are interrupted, the worker is given time to
 * close its database (it receives the terminal's Ctrl-C itself), then SIGINT, then SIGKILL.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import type { BenchConfig } from "./config.js"
import type { EngineResult } from "./results.js"
import type { WorkerMessage } from "./worker.js"

const workerPath = fileURLToPath(new URL("./worker.ts", import.meta.url))

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

const waitExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (exited(child)) return resolve(true)
    const timer = setTimeout(() => resolve(false), ms)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

const stop = async (child: ChildProcess): Promise<void> => {
  if (await waitExit(child, 3000)) return
  child.kill("SIGINT")
  if (await waitExit(child, 15000)) return
  child.kill("SIGKILL")
  await waitExit(child, 5000)
}

const failed = (engine: string, error: string, wallSeconds: number): EngineResult => ({
  engine,
  description: engine,
  durability: "?",
  api: "?",
  error,
  wallSeconds
})

export const runWorker = (config: BenchConfig, engine: string, baseDirectory: string): Effect.Effect<EngineResult> =>
  Effect.acquireUseRelease(
    Effect.sync(() =>
      fork(workerPath, [JSON.stringify(config), engine, baseDirectory], {
        execArgv: process.execArgv,
        stdio: ["ignore", "inherit", "inherit", "ipc"]
      })
    ),
    (child) =>
      Effect.async<EngineResult>((resume) => {
        const started = performance.now()
        let result: EngineResult | undefined
        child.on("message", (message: WorkerMessage) => {
          if (message?.type === "result") result = message.result
        })
        child.once("error", (error) => resume(Effect.succeed(failed(engine, `worker: ${error.message}`, 0))))
        child.once("exit", (code, signal) => {
          const seconds = (performance.now() - started) / 1000
          if (result !== undefined) resume(Effect.succeed(result))
          else resume(Effect.succeed(failed(engine, `worker exited (${signal ?? `code ${code}`}) without a result`, seconds)))
        })
      }),
    (child) => Effect.promise(() => stop(child))
  )
