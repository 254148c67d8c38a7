/** What the run ran on, recorded with every result. */
import * as os from "node:os"
import type { MachineInfo } from "./results.js"

export const machineInfo = (): MachineInfo => ({
  cpuModel: os.cpus()[0]?.model ?? "unknown cpu",
  cpus: os.cpus().length,
  memoryBytes: os.totalmem(),
  platform: os.platform(),
  release: os.release(),
  arch: os.arch(),
  node: process.version
})
