/**
 * The worker process: runs one engine (so engines never share a heap and each one's peak memory
 * is its own) and sends its `EngineResult` to the parent over IPC.
 * Arguments: the JSON `BenchConfig`, the engine name, the base temporary directory.
 * Ctrl-C (SIGINT) or the parent going away interrupts the run: databases close, directories go.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import type { BenchConfig } from "./config.js"
import type { EngineResult } from "./results.js"
import { runEngine } from "./runEngine.js"

export type WorkerMessage = { readonly type: "result"; readonly result: EngineResult }

const send = (message: WorkerMessage): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (process.send === undefined) {
      process.stdout.write(JSON.stringify(message.result, null, 2) + "\n")
      resume(Effect.void)
    } else {
      process.send(message, undefined, {}, () => {
        // Close the channel (it would keep this process alive) without treating it as the
        // parent going away.
        process.removeListener("disconnect", onDisconnect)
        process.disconnect()
        resume(Effect.void)
      })
    }
  })

const [configText, engineName, baseDirectory] = process.argv.slice(2)
if (configText === undefined || engineName === undefined || baseDirectory === undefined) {
  process.stderr.write("usage: worker.ts <config json> <engine> <base directory>\n")
  process.exit(2)
}
// The parent died or closed the channel: stop like on Ctrl-C.
const onDisconnect = () => void process.kill(process.pid, "SIGINT")
process.on("disconnect", onDisconnect)

const config = JSON.parse(configText) as BenchConfig
NodeRuntime.runMain(
  runEngine(config, engineName, baseDirectory).pipe(Effect.flatMap((result) => send({ type: "result", result }))),
  { disablePrettyLogger: true }
)
