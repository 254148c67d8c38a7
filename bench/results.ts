/**
 * Every figure a run produces, as written to the JSON file. Latencies are nanoseconds, sizes
 * bytes, times seconds unless the name says ms.
 */
import type { BenchConfig } from "./config.js"
import type { DiskUsage } from "./diskUsage.js"
import type { EngineStats } from "./engine.js"
import type { OpStats, PhaseResult } from "./measure.js"

export interface KeyliteResult {
  readonly variant: "keylite" | "keylite-loaded"
  readonly windowSeconds: number
  readonly openMs: number
  /** Entries loaded before the window (0 for plain keylite). */
  readonly loaded: number
  readonly load?: PhaseResult
  readonly writes: OpStats
  readonly reads: OpStats & { readonly hits: number }
  readonly deletes: OpStats
  /** Reads whose value was compared with the one written (all of them in keylite-loaded). */
  readonly verified: number
}

export interface DbBenchResult {
  readonly n: number
  readonly phaseSeconds: number
  /** Opening a fresh (empty) database. */
  readonly openMs: number
  /** Closing the database the phases filled (n keys, then deletes and overwrites). */
  readonly closeMs: number
  /** Opening it again after that close. */
  readonly reopenMs: number
  readonly phases: ReadonlyArray<PhaseResult>
  /**
   * After the phases, closed: the database fillrandom..readwhilewriting worked on. Its contents
   * differ by engine: readwhilewriting's writer puts as many keys as it gets time for.
   */
  readonly disk: DiskUsage
  /**
   * After readreverse, open: every key written twice (fillrandom, overwrite), nothing deleted,
   * after at least the read phases' time without writes. The same contents for every engine, so
   * the figure to compare engines' bytes on. Absent in results written before it existed.
   */
  readonly diskAfterReads?: DiskUsage
  /** From the engine's own statistics (stratadb only). */
  readonly writeAmplification?: number
  readonly engineStats?: EngineStats
}

export interface ScaleResult {
  readonly n: number
  /** Keys per second of the fill (every key once in random order, batches of 1,000). */
  readonly fillOpsPerSec: number
  /** The fill as a phase: one latency sample per batch. */
  readonly fill: PhaseResult
  /** Closing the filled database. */
  readonly closeMs: number
  /** Opening it again after that close. */
  readonly reopenMs: number
  /** Random reads of filled keys right after the reopen, every value checked. */
  readonly readrandom: PhaseResult
  /**
   * The process's peak RSS during the workload: the OS's exact peak when the workload raised it,
   * else (an earlier workload in the same process peaked higher) the highest RSS sampled.
   */
  readonly peakRssBytes: number
  /** Whether `peakRssBytes` is the OS's exact peak rather than a sample. */
  readonly peakRssExact: boolean
  /** After the reads, closed. */
  readonly disk: DiskUsage
}

export interface MemoryResult {
  /** The OS's peak resident set size of the engine's process (includes mapped file pages). */
  readonly peakRssBytes: number
  /** Peak V8 heap in use, sampled. */
  readonly peakHeapUsedBytes: number
}

export interface EngineResult {
  readonly engine: string
  readonly description: string
  readonly durability: string
  readonly api: string
  readonly keylite?: KeyliteResult
  readonly keyliteLoaded?: KeyliteResult
  readonly dbbench?: DbBenchResult
  readonly scale?: ScaleResult
  readonly memory?: MemoryResult
  /** Set when the run failed; the figures gathered before the failure are kept. */
  readonly error?: string
  readonly wallSeconds: number
}

export interface MachineInfo {
  readonly cpuModel: string
  readonly cpus: number
  readonly memoryBytes: number
  readonly platform: string
  readonly release: string
  readonly arch: string
  readonly node: string
}

export interface RunResult {
  readonly version: 1
  readonly startedAt: string
  readonly wallSeconds: number
  readonly machine: MachineInfo
  readonly config: BenchConfig
  readonly engines: ReadonlyArray<EngineResult>
}

/** keylite's published figures (its README): ops/s and p99 latency in ns. */
export const keylitePublished = {
  writes: { opsPerSec: 174_808, p99: 18_555 },
  reads: { opsPerSec: 137_877, p99: 28_793 },
  deletes: { opsPerSec: 94_893, p99: 16_660 }
} as const
