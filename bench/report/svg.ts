/**
 * The chart written beside the JSON, hand-written SVG with no dependency: db_bench ops/s per
 * phase per engine (grouped bars, log scale), db_bench latency percentiles per phase per engine
 * (a box from p50 to p99 with a line at p90 and a whisker to p99.9, log scale), the scale
 * workload's fill and read rates, and keylite's ops/s next to its published figures.
 */
import type { LatencySummary } from "../histogram.js"
import { type EngineResult, keylitePublished, type RunResult } from "../results.js"
import { dbBenchPhases } from "../workloads/dbbench.js"
import { compact, duration } from "./format.js"
import { machineLine } from "./text.js"

const WIDTH = 1200
const LEFT = 80
const RIGHT = 20
const PLOT_WIDTH = WIDTH - LEFT - RIGHT
const PANEL_HEIGHT = 300
const PANEL_GAP = 90

const palette: Record<string, string> = {
  stratadb: "#2563eb",
  "classic-level": "#16a34a",
  rocksdb: "#ea580c",
  lmdb: "#9333ea",
  memory: "#6b7280",
  published: "#9ca3af"
}
const fallback = ["#0891b2", "#be123c", "#854d0e", "#4d7c0f"]

const colorOf = (name: string, index: number): string => palette[name] ?? fallback[index % fallback.length]!

export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;")

const num = (v: number): string => (Math.round(v * 10) / 10).toString()

interface LogAxis {
  readonly lo: number
  readonly hi: number
  readonly y: (v: number) => number
}

/** A log10 axis spanning whole decades around [min, max], mapped onto [top, top + height]. */
const logAxis = (values: ReadonlyArray<number>, top: number, height: number): LogAxis => {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v))
  const min = positive.length === 0 ? 1 : Math.min(...positive)
  const max = positive.length === 0 ? 10 : Math.max(...positive)
  const lo = Math.floor(Math.log10(min))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)))
  const y = (v: number) => {
    const l = Math.log10(Math.max(v, 10 ** lo))
    return top + height - ((l - lo) / (hi - lo)) * height
  }
  return { lo, hi, y }
}

const gridAndLabels = (axis: LogAxis, label: (v: number) => string, out: Array<string>) => {
  for (let d = axis.lo; d <= axis.hi; d++) {
    const y = num(axis.y(10 ** d))
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}" stroke="#e5e7eb"/>`)
    out.push(`<text x="${LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" class="axis">${escapeXml(label(10 ** d))}</text>`)
  }
}

const panelTitle = (text: string, top: number, out: Array<string>) =>
  out.push(`<text x="${LEFT}" y="${num(top - 14)}" class="panel">${escapeXml(text)}</text>`)

interface Group {
  readonly label: string
  /** One value per series (undefined: no bar). */
  readonly values: ReadonlyArray<number | undefined>
  readonly capped?: ReadonlyArray<boolean>
}

const barPanel = (
  title: string,
  unit: string,
  series: ReadonlyArray<{ readonly name: string; readonly color: string }>,
  groups: ReadonlyArray<Group>,
  top: number,
  out: Array<string>
) => {
  panelTitle(title, top, out)
  const axis = logAxis(groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined)), top, PANEL_HEIGHT)
  gridAndLabels(axis, compact, out)
  out.push(`<text x="14" y="${num(top + PANEL_HEIGHT / 2)}" transform="rotate(-90 14 ${num(top + PANEL_HEIGHT / 2)})" text-anchor="middle" class="axis">${escapeXml(unit)}</text>`)
  const groupWidth = PLOT_WIDTH / Math.max(1, groups.length)
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length)
  const bottom = top + PANEL_HEIGHT
  groups.forEach((g, gi) => {
    const x0 = LEFT + gi * groupWidth + groupWidth * 0.1
    g.values.forEach((v, si) => {
      if (v === undefined || !(v > 0)) return
      const x = x0 + si * barWidth
      const y = axis.y(v)
      const capped = g.capped?.[si] === true
      out.push(
        `<rect x="${num(x)}" y="${num(y)}" width="${num(barWidth - 2)}" height="${num(bottom - y)}" fill="${series[si]!.color}"${
          capped ? ` fill-opacity="0.45" stroke="${series[si]!.color}" stroke-dasharray="3 2"` : ""
        }><title>${escapeXml(`${series[si]!.name} ${g.label}: ${Math.round(v).toLocaleString("en-US")} ${unit}${capped ? " (stopped at the phase budget)" : ""}`)}</title></rect>`
      )
      const lx = x + (barWidth - 2) / 2
      const ly = y - 4
      out.push(`<text x="${num(lx)}" y="${num(ly)}" transform="rotate(-90 ${num(lx)} ${num(ly)})" class="value">${escapeXml(compact(v) + (capped ? "*" : ""))}</text>`)
    })
    out.push(`<text x="${num(LEFT + gi * groupWidth + groupWidth / 2)}" y="${num(bottom + 16)}" text-anchor="middle" class="group">${escapeXml(g.label)}</text>`)
  })
  out.push(`<line x1="${LEFT}" y1="${bottom}" x2="${WIDTH - RIGHT}" y2="${bottom}" stroke="#9ca3af"/>`)
}

const latencyPanel = (
  engines: ReadonlyArray<EngineResult>,
  colors: ReadonlyArray<string>,
  phases: ReadonlyArray<string>,
  top: number,
  out: Array<string>
) => {
  panelTitle("db_bench latency per operation: box p50 to p99, line at p90, whisker to p99.9 (log scale)", top, out)
  const summaries = phases.map((name) =>
    engines.map((e): LatencySummary | undefined => e.dbbench?.phases.find((p) => p.name === name)?.latency)
  )
  const all = summaries.flatMap((row) => row.flatMap((l) => (l === undefined ? [] : [l.p50, l.p999])))
  const axis = logAxis(all, top, PANEL_HEIGHT)
  gridAndLabels(axis, duration, out)
  const groupWidth = PLOT_WIDTH / Math.max(1, phases.length)
  const slot = (groupWidth * 0.8) / Math.max(1, engines.length)
  const bottom = top + PANEL_HEIGHT
  summaries.forEach((row, gi) => {
    const x0 = LEFT + gi * groupWidth + groupWidth * 0.1
    row.forEach((l, ei) => {
      if (l === undefined || l.count === 0) return
      const color = colors[ei]!
      const cx = x0 + ei * slot + slot / 2
      const w = Math.max(4, slot * 0.6)
      const y50 = axis.y(Math.max(1, l.p50))
      const y90 = axis.y(Math.max(1, l.p90))
      const y99 = axis.y(Math.max(1, l.p99))
      const y999 = axis.y(Math.max(1, l.p999))
      const tip = `${engines[ei]!.engine} ${phases[gi]}: p50 ${duration(l.p50)}, p90 ${duration(l.p90)}, p99 ${duration(l.p99)}, p99.9 ${duration(l.p999)}`
      out.push(`<g><title>${escapeXml(tip)}</title>`)
      out.push(`<line x1="${num(cx)}" y1="${num(y99)}" x2="${num(cx)}" y2="${num(y999)}" stroke="${color}"/>`)
      out.push(`<line x1="${num(cx - w / 4)}" y1="${num(y999)}" x2="${num(cx + w / 4)}" y2="${num(y999)}" stroke="${color}"/>`)
      out.push(
        `<rect x="${num(cx - w / 2)}" y="${num(y99)}" width="${num(w)}" height="${num(Math.max(1, y50 - y99))}" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`
      )
      out.push(`<line x1="${num(cx - w / 2)}" y1="${num(y90)}" x2="${num(cx + w / 2)}" y2="${num(y90)}" stroke="${color}" stroke-width="2"/>`)
      out.push(`</g>`)
    })
    const label = phases[gi] === "fillbatch" ? "fillbatch (per 1,000)" : phases[gi]!
    out.push(`<text x="${num(LEFT + gi * groupWidth + groupWidth / 2)}" y="${num(bottom + 16)}" text-anchor="middle" class="group">${escapeXml(label)}</text>`)
  })
  out.push(`<line x1="${LEFT}" y1="${bottom}" x2="${WIDTH - RIGHT}" y2="${bottom}" stroke="#9ca3af"/>`)
}

/** The whole chart for a run. */
export const renderSvg = (run: RunResult): string => {
  const engines = run.engines
  const colors = engines.map((e, i) => colorOf(e.engine, i))
  const series = engines.map((e, i) => ({ name: e.engine, color: colors[i]! }))
  const phases = dbBenchPhases.filter((name) => engines.some((e) => e.dbbench?.phases.some((p) => p.name === name)))
  const keyliteVariants = (["keylite", "keyliteLoaded"] as const).filter((v) => engines.some((e) => e[v] !== undefined))

  const body: Array<string> = []
  let top = 110
  if (phases.length > 0) {
    const n = engines.find((e) => e.dbbench !== undefined)?.dbbench?.n ?? 0
    barPanel(
      `db_bench: operations per second per phase, N = ${n.toLocaleString("en-US")} (log scale; dashed = stopped at the phase budget)`,
      "ops/s",
      series,
      phases.map((name) => {
        const found = engines.map((e) => e.dbbench?.phases.find((p) => p.name === name))
        return { label: name, values: found.map((p) => p?.opsPerSec), capped: found.map((p) => p?.capped === true) }
      }),
      top,
      body
    )
    top += PANEL_HEIGHT + PANEL_GAP
    latencyPanel(engines, colors, phases, top, body)
    top += PANEL_HEIGHT + PANEL_GAP
  }
  const scaled = engines.find((e) => e.scale !== undefined)?.scale
  if (scaled !== undefined) {
    barPanel(
      `scale: N = ${scaled.n.toLocaleString("en-US")} filled in random order, reopened, then random reads (log scale)`,
      "ops/s",
      series,
      [
        { label: "fill (keys/s)", values: engines.map((e) => e.scale?.fillOpsPerSec) },
        { label: "readrandom after reopen", values: engines.map((e) => e.scale?.readrandom.opsPerSec) }
      ],
      top,
      body
    )
    top += PANEL_HEIGHT + PANEL_GAP
  }
  if (keyliteVariants.length > 0) {
    const withPublished = [...series, { name: "keylite (published)", color: palette.published! }]
    const groups: Array<Group> = []
    for (const variant of keyliteVariants) {
      const prefix = variant === "keylite" ? "keylite" : "loaded"
      for (const op of ["writes", "reads", "deletes"] as const) {
        groups.push({
          label: `${prefix} ${op}`,
          values: [...engines.map((e) => e[variant]?.[op].opsPerSec), keylitePublished[op].opsPerSec]
        })
      }
    }
    barPanel("keylite: operations per second in the window, beside keylite's published figures (log scale)", "ops/s", withPublished, groups, top, body)
    top += PANEL_HEIGHT + PANEL_GAP
  }
  const height = top - PANEL_GAP + 50

  const legendItems = keyliteVariants.length > 0 ? [...series, { name: "keylite (published)", color: palette.published! }] : series
  const legend = legendItems
    .map((s, i) => {
      const x = LEFT + i * 190
      return `<rect x="${x}" y="62" width="14" height="14" fill="${s.color}"/><text x="${x + 20}" y="73" class="legend">${escapeXml(s.name)}</text>`
    })
    .join("")

  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${num(height)}" viewBox="0 0 ${WIDTH} ${num(height)}" font-family="Helvetica, Arial, sans-serif">`,
    `<style>.title{font-size:18px;font-weight:bold}.sub{font-size:12px;fill:#4b5563}.panel{font-size:14px;font-weight:bold}.axis{font-size:11px;fill:#4b5563}.group{font-size:12px}.legend{font-size:13px}.value{font-size:9px;fill:#374151}</style>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="28" class="title">stratadb benchmark, ${escapeXml(run.startedAt)}</text>`,
    `<text x="${LEFT}" y="48" class="sub">${escapeXml(machineLine(run))}${run.config.quick ? " (--quick)" : ""}</text>`,
    legend,
    ...body,
    `</svg>`,
    ""
  ].join("\n")
}
