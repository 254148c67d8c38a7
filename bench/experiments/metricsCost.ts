/**
 * An experiment (not the engine): what the Effect metrics cost the point operations. One fiber
 * does N puts into the memtable, N gets from it, then (after a flush) N gets from the tables
 * through the block cache, with metrics off (`Metrics.disabled`), on (the default: one operation
 * in 16 timed) and on with every operation timed (`latencySampling: 1`). Variants alternate
 * round by round; each prints the median ns/op of its rounds. Time is the process's CPU time
 * (`process.cpuUsage`, user + system), not the wall clock: on a shared machine other processes
 * stretch the wall clock several times over, and the CPU time this process spent is what the
 * metrics add to.
 *
 * Then the work the metrics add to one operation, alone in a loop: a sampled latency's
 * `start` + `record` (1 in 16, every one, disabled).
 *
 * Run: `node --import tsx bench/experiments/metricsCost.ts [memory|node] [N]`
 * (`node`: NodeSyncFileSystem in a temporary directory; default node, N = 50000).
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { Db } from "../../src/Db.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import * as BackgroundWork from "../../src/BackgroundWork.js"
import * as Metrics from "../../src/Metrics.js"
import { Latency } from "../../src/internal/metrics/dbMetrics.js"

const backend = process.argv[2] === "memory" ? "memory" : "node"
const N = Number(process.argv[3] ?? 50_000)
const ROUNDS = 5

const variants = {
  off: Metrics.disabled,
  "on (1 in 16 timed)": Metrics.layer({}),
  "on (every op timed)": Metrics.layer({ latencySampling: 1 })
} as const
type Variant = keyof typeof variants

const keys = Array.from({ length: N }, (_, i) => `key-${String((i * 7919) % N).padStart(10, "0")}`)
const value = "v".repeat(100)

/** The process's CPU time so far (user + system), in microseconds. */
const cpuMicros = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const round = (variant: Variant, r: number) =>
  Effect.gen(function* () {
    const directory = backend === "node"
      ? fs.mkdtempSync(nodePath.join(os.tmpdir(), "stratadb-metrics-"))
      : `/metrics-cost-${variant}-${r}`
    const db = yield* Db.make({ directory, writeBufferSize: 256 * 1024 * 1024 })
    let t = cpuMicros()
    for (let i = 0; i < N; i++) yield* db.put(keys[i]!, value)
    const put = ((cpuMicros() - t) * 1e3) / N
    t = cpuMicros()
    for (let i = 0; i < N; i++) yield* db.get(keys[i]!)
    const getMemtable = ((cpuMicros() - t) * 1e3) / N
    yield* db.flush
    for (let i = 0; i < N; i++) yield* db.get(keys[i]!) // warm the block cache
    t = cpuMicros()
    for (let i = 0; i < N; i++) yield* db.get(keys[i]!)
    const getTable = ((cpuMicros() - t) * 1e3) / N
    return { put, getMemtable, getTable, directory }
  }).pipe(Effect.scoped)

const fileSystem: Layer.Layer<FileSystem | Path> = backend === "node"
  ? Layer.merge(NodeSyncFileSystem.layer, BackgroundWork.inline)
  : MemoryFileSystem.layer

const results: Record<Variant, Array<{ put: number; getMemtable: number; getTable: number }>> = {
  off: [],
  "on (1 in 16 timed)": [],
  "on (every op timed)": []
}
for (let r = 0; r < ROUNDS; r++) {
  for (const variant of Object.keys(variants) as Array<Variant>) {
    const result = await Effect.runPromise(round(variant, r).pipe(Effect.provide(Layer.merge(fileSystem, variants[variant]))))
    if (backend === "node") fs.rmSync(result.directory, { recursive: true, force: true })
    results[variant].push(result)
  }
}
const median = (xs: Array<number>) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!
console.log(`metrics cost, ${backend} file system, N = ${N}, median of ${ROUNDS} rounds (ns/op)`)
console.log(["variant".padEnd(22), "put".padStart(8), "get (memtable)".padStart(16), "get (tables)".padStart(14)].join(""))
for (const variant of Object.keys(variants) as Array<Variant>) {
  const rs = results[variant]
  console.log([
    variant.padEnd(22),
    median(rs.map((x) => x.put)).toFixed(0).padStart(8),
    median(rs.map((x) => x.getMemtable)).toFixed(0).padStart(16),
    median(rs.map((x) => x.getTable)).toFixed(0).padStart(14)
  ].join(""))
}

// The added work alone: what a point operation pays for its latency histogram.
const M = 10_000_000
const series = Metrics.forDatabase("metrics-cost")
const loops = {
  "disabled": new Latency(undefined, 16),
  "1 in 16 timed": new Latency(series.putLatency, 16),
  "every op timed": new Latency(series.getLatency, 1)
}
console.log(`latency start + record alone, ${M} calls, median of ${ROUNDS} (ns/op)`)
for (const [name, latency] of Object.entries(loops)) {
  const times: Array<number> = []
  for (let r = 0; r < ROUNDS; r++) {
    const t = cpuMicros()
    for (let i = 0; i < M; i++) latency.record(latency.start())
    times.push(((cpuMicros() - t) * 1e3) / M)
  }
  console.log(`${name.padEnd(22)}${median(times).toFixed(1).padStart(8)}`)
}
