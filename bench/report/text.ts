/**
 * The terminal report: one block per engine as soon as it finishes (keylite in keylite's own
 * line format with the published figures beside), then the comparison tables with the ratio
 * stratadb / peer for every phase (and every scale figure).
 */
import type { LatencySummary } from "../histogram.js"
import type { OpStats, PhaseResult } from "../measure.js"
import {
  type DbBenchResult,
  type EngineResult,
  type KeyliteResult,
  keylitePublished,
  type RunResult,
  type ScaleResult
} from "../results.js"
import { dbBenchPhases } from "../workloads/dbbench.js"
import { bytes, duration, int, ratio } from "./format.js"
import { renderTable } from "./table.js"

const SUBJECT = "stratadb"

const keyliteOpsLine = (label: string, stats: OpStats, extra: string): string =>
  `${label}: ${Math.round(stats.ops)} ops (${Math.round(stats.opsPerSec)} ops/sec)${extra}`

const keyliteLatencyLine = (label: string, l: LatencySummary): string =>
  `${label} latency p50: ${l.p50} ns, p90: ${l.p90} ns, p99: ${l.p99} ns`

const besides = (line: string, note: string): string => `${line.padEnd(62)} | ${note}`

export const keyliteBlock = (k: KeyliteResult): string => {
  const lines: Array<string> = []
  if (k.variant === "keylite") {
    lines.push(`keylite: 4 writers, 4 readers, 2 deleters in one ${k.windowSeconds.toFixed(1)} s window on an empty database`)
  } else {
    const load = k.load
    lines.push(
      `keylite-loaded: ${int(k.loaded)} entries loaded${
        load === undefined ? "" : ` in ${load.seconds.toFixed(1)} s (${int(load.opsPerSec)}/s, batches of 1,000)`
      }, then the same ${k.windowSeconds.toFixed(1)} s window; reads hit, ${int(k.verified)} values checked`
    )
  }
  const pub = keylitePublished
  lines.push(`DB open latency: ${k.openMs.toFixed(3)} ms`)
  const opsRow = (label: string, stats: OpStats, published: number, extra = "") =>
    besides(
      keyliteOpsLine(label, stats, extra),
      `published ${int(published)} ops/sec, ours/published ${ratio(stats.opsPerSec / published)}`
    )
  lines.push(opsRow("Writes", k.writes, pub.writes.opsPerSec))
  lines.push(opsRow("Reads", k.reads, pub.reads.opsPerSec, `, ${int(k.reads.hits)} hits`))
  lines.push(opsRow("Deletes", k.deletes, pub.deletes.opsPerSec))
  const latRow = (label: string, l: LatencySummary, published: number) =>
    besides(keyliteLatencyLine(label, l), `published p99 ${int(published)} ns, ours/published ${ratio(l.p99 / published)}`)
  lines.push(latRow("Write", k.writes.latency, pub.writes.p99))
  lines.push(latRow("Read", k.reads.latency, pub.reads.p99))
  lines.push(latRow("Delete", k.deletes.latency, pub.deletes.p99))
  lines.push("(ops/sec: a ratio above 1 is ahead of keylite; p99: below 1 is ahead)")
  return lines.join("\n")
}

const phaseRow = (p: PhaseResult): Array<string> => [
  p.name,
  int(p.opsPerSec) + (p.capped ? "*" : ""),
  duration(p.latency.p50),
  duration(p.latency.p90),
  duration(p.latency.p99),
  duration(p.latency.p999),
  int(p.ops)
]

export const dbBenchBlock = (d: DbBenchResult): string => {
  const lines: Array<string> = []
  lines.push(`db_bench: N = ${int(d.n)}, 16-byte keys, 100-byte values, phase budget ${d.phaseSeconds} s`)
  lines.push(renderTable(["phase", "ops/s", "p50", "p90", "p99", "p99.9", "ops"], d.phases.map(phaseRow)))
  const notes = d.phases.filter((p) => p.note !== undefined).map((p) => `  ${p.name}: ${p.note}`)
  if (d.phases.some((p) => p.capped)) notes.unshift(`  * stopped at the ${d.phaseSeconds} s budget: ops/s over the operations done`)
  lines.push(...notes)
  const rww = d.phases.find((p) => p.name === "readwhilewriting")
  if (rww?.extra?.writerOpsPerSec !== undefined) lines.push(`  readwhilewriting writer: ${int(rww.extra.writerOpsPerSec)} puts/s`)
  const wa = d.writeAmplification === undefined ? "" : `, write amplification ${d.writeAmplification.toFixed(2)}`
  lines.push(
    `open ${d.openMs.toFixed(2)} ms, close ${d.closeMs.toFixed(2)} ms, reopen ${d.reopenMs.toFixed(2)} ms, on disk ${bytes(d.disk.bytes)} in ${d.disk.files} files (allocated ${bytes(d.disk.allocatedBytes)})${wa}`
  )
  if (d.diskAfterReads !== undefined) {
    lines.push(`on disk after the read phases (every key written twice, nothing deleted): ${bytes(d.diskAfterReads.bytes)} in ${d.diskAfterReads.files} files`)
  }
  return lines.join("\n")
}

const scaleTitle = (s: ScaleResult): string =>
  `scale: N = ${int(s.n)} filled in random order (batches of 1,000), closed, reopened, then ${int(s.readrandom.target)} random reads`

const rssText = (s: ScaleResult): string => bytes(s.peakRssBytes) + (s.peakRssExact ? "" : " (sampled)")

export const scaleBlock = (s: ScaleResult): string =>
  [
    scaleTitle(s),
    renderTable(["phase", "ops/s", "p50", "p90", "p99", "p99.9", "ops"], [phaseRow(s.fill), phaseRow(s.readrandom)]),
    `  fill: ${s.fill.note ?? ""}`,
    `close ${s.closeMs.toFixed(2)} ms, reopen ${s.reopenMs.toFixed(2)} ms, on disk ${bytes(s.disk.bytes)} in ${s.disk.files} files (allocated ${bytes(s.disk.allocatedBytes)}), peak RSS ${rssText(s)}`,
    ...(s.peakRssExact ? [] : ["  (sampled: an earlier workload of this process peaked higher, so the OS's peak is not scale's)"])
  ].join("\n")

/** The block printed when an engine's process ends. */
export const engineBlock = (r: EngineResult): string => {
  const parts: Array<string> = []
  parts.push(`== ${r.engine}: ${r.description} ==`)
  parts.push(`durability: ${r.durability}\napi: ${r.api}`)
  if (r.keylite !== undefined) parts.push(keyliteBlock(r.keylite))
  if (r.keyliteLoaded !== undefined) parts.push(keyliteBlock(r.keyliteLoaded))
  if (r.dbbench !== undefined) parts.push(dbBenchBlock(r.dbbench))
  if (r.scale !== undefined) parts.push(scaleBlock(r.scale))
  if (r.memory !== undefined) {
    parts.push(`peak RSS ${bytes(r.memory.peakRssBytes)}, peak JS heap ${bytes(r.memory.peakHeapUsedBytes)}; ${r.wallSeconds.toFixed(1)} s`)
  }
  if (r.error !== undefined) parts.push(`FAILED: ${r.error}`)
  return parts.join("\n\n")
}

const peersOf = (engines: ReadonlyArray<EngineResult>) => {
  const subject = engines.find((e) => e.engine === SUBJECT)
  return { subject, peers: subject === undefined ? [] : engines.filter((e) => e !== subject) }
}

const phaseOf = (e: EngineResult, name: string): PhaseResult | undefined => e.dbbench?.phases.find((p) => p.name === name)

/** Every scale figure per engine, and stratadb / peer for each. */
const scaleTable = (
  engines: ReadonlyArray<EngineResult>,
  subject: EngineResult | undefined,
  peers: ReadonlyArray<EngineResult>,
  ratioHeaders: ReadonlyArray<string>
): string => {
  const row = (label: string, f: (s: ScaleResult) => number, format: (v: number, s: ScaleResult) => string) => {
    const mine = subject?.scale
    return [
      label,
      ...engines.map((e) => (e.scale === undefined ? "-" : format(f(e.scale), e.scale))),
      ...peers.map((p) => (mine === undefined || p.scale === undefined ? "-" : ratio(f(mine) / f(p.scale))))
    ]
  }
  const ms = (v: number) => `${v.toFixed(2)} ms`
  return [
    renderTable(
      ["", ...engines.map((e) => e.engine), ...ratioHeaders],
      [
        row("fill keys/s", (s) => s.fillOpsPerSec, int),
        row("reopen", (s) => s.reopenMs, ms),
        row("readrandom ops/s", (s) => s.readrandom.opsPerSec, int),
        row("readrandom p50", (s) => s.readrandom.latency.p50, duration),
        row("readrandom p99", (s) => s.readrandom.latency.p99, duration),
        row("bytes on disk", (s) => s.disk.bytes, bytes),
        row("peak RSS", (s) => s.peakRssBytes, (_, s) => rssText(s))
      ]
    ),
    "(ratios: for keys/s and ops/s above 1 is ahead; for times, bytes and RSS below 1 is ahead)"
  ].join("\n")
}

/** The comparison across engines; empty when there is only one engine. */
export const comparisonBlock = (run: RunResult): string => {
  const engines = run.engines
  if (engines.length < 2) return ""
  const { subject, peers } = peersOf(engines)
  const ratioHeaders = peers.map((p) => `${SUBJECT}/${p.engine}`)
  const out: Array<string> = []

  if (engines.some((e) => e.dbbench !== undefined)) {
    const n = engines.find((e) => e.dbbench !== undefined)!.dbbench!.n
    out.push(`db_bench ops/s (N = ${int(n)}; * = stopped at the phase budget)`)
    const rows = dbBenchPhases.map((name) => {
      const cells = engines.map((e) => {
        const p = phaseOf(e, name)
        return p === undefined ? "-" : int(p.opsPerSec) + (p.capped ? "*" : "")
      })
      const s = subject === undefined ? undefined : phaseOf(subject, name)
      const ratios = peers.map((peer) => {
        const p = phaseOf(peer, name)
        return s === undefined || p === undefined ? "-" : ratio(s.opsPerSec / p.opsPerSec)
      })
      return [name, ...cells, ...ratios]
    })
    out.push(renderTable(["phase", ...engines.map((e) => e.engine), ...ratioHeaders], rows))
    out.push("")
    out.push("db_bench latency p99 / p99.9")
    out.push(
      renderTable(
        ["phase", ...engines.map((e) => e.engine)],
        dbBenchPhases.map((name) => [
          name,
          ...engines.map((e) => {
            const p = phaseOf(e, name)
            return p === undefined ? "-" : `${duration(p.latency.p99)} / ${duration(p.latency.p999)}`
          })
        ])
      )
    )
    out.push("")
    const runRow = (label: string, f: (d: DbBenchResult, e: EngineResult) => string) => [
      label,
      ...engines.map((e) => (e.dbbench === undefined ? "-" : f(e.dbbench, e)))
    ]
    const stall = (d: DbBenchResult) => {
      const rr = d.phases.find((p) => p.name === "readrandom")
      const rw = d.phases.find((p) => p.name === "readwhilewriting")
      return rr === undefined || rw === undefined ? "-" : ratio(rw.latency.p99 / rr.latency.p99)
    }
    out.push(
      renderTable(
        ["run", ...engines.map((e) => e.engine)],
        [
          runRow("open (empty)", (d) => `${d.openMs.toFixed(2)} ms`),
          runRow("close (filled)", (d) => `${d.closeMs.toFixed(2)} ms`),
          runRow("reopen (filled)", (d) => `${d.reopenMs.toFixed(2)} ms`),
          runRow("bytes on disk after reads", (d) => (d.diskAfterReads === undefined ? "-" : bytes(d.diskAfterReads.bytes))),
          runRow("bytes on disk at the end", (d) => bytes(d.disk.bytes)),
          runRow("write amplification", (d) => (d.writeAmplification === undefined ? "n/a" : d.writeAmplification.toFixed(2))),
          runRow("p99 readwhilewriting/readrandom", stall),
          ["peak RSS", ...engines.map((e) => (e.memory === undefined ? "-" : bytes(e.memory.peakRssBytes)))],
          ["peak JS heap", ...engines.map((e) => (e.memory === undefined ? "-" : bytes(e.memory.peakHeapUsedBytes)))]
        ]
      )
    )
  }

  const scaleEngines = engines.filter((e) => e.scale !== undefined)
  if (scaleEngines.length > 0) {
    if (out.length > 0) out.push("")
    out.push(scaleTitle(scaleEngines[0]!.scale!))
    out.push(scaleTable(engines, subject, peers, ratioHeaders))
  }

  for (const variant of ["keylite", "keyliteLoaded"] as const) {
    if (!engines.some((e) => e[variant] !== undefined)) continue
    out.push("")
    out.push(variant === "keylite" ? "keylite (empty database, as published)" : "keylite-loaded (reads hit, values checked)")
    const metric = (label: string, f: (k: KeyliteResult) => number, published: number, format: (v: number) => string) => {
      const value = (e: EngineResult) => (e[variant] === undefined ? undefined : f(e[variant]!))
      const s = subject === undefined ? undefined : value(subject)
      return [
        label,
        ...engines.map((e) => {
          const v = value(e)
          return v === undefined ? "-" : format(v)
        }),
        format(published),
        s === undefined ? "-" : ratio(s / published),
        ...peers.map((p) => {
          const v = value(p)
          return s === undefined || v === undefined ? "-" : ratio(s / v)
        })
      ]
    }
    const pub = keylitePublished
    out.push(
      renderTable(
        ["", ...engines.map((e) => e.engine), "published", `${SUBJECT}/published`, ...ratioHeaders],
        [
          metric("writes/s", (k) => k.writes.opsPerSec, pub.writes.opsPerSec, int),
          metric("reads/s", (k) => k.reads.opsPerSec, pub.reads.opsPerSec, int),
          metric("deletes/s", (k) => k.deletes.opsPerSec, pub.deletes.opsPerSec, int),
          metric("write p99 ns", (k) => k.writes.latency.p99, pub.writes.p99, int),
          metric("read p99 ns", (k) => k.reads.latency.p99, pub.reads.p99, int),
          metric("delete p99 ns", (k) => k.deletes.latency.p99, pub.deletes.p99, int)
        ]
      )
    )
  }
  const failed = engines.filter((e) => e.error !== undefined)
  if (failed.length > 0) {
    out.push("")
    for (const e of failed) out.push(`FAILED ${e.engine}: ${e.error}`)
  }
  return out.join("\n")
}

/** One line per engine: what it is and what its writes survive. */
export const machineLine = (run: Pick<RunResult, "machine">): string => {
  const m = run.machine
  return `${m.cpuModel}, ${m.cpus} cpus, ${bytes(m.memoryBytes)} RAM, ${m.platform} ${m.release} ${m.arch}, Node ${m.node}`
}

