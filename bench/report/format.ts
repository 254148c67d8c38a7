/** Number formatting shared by the terminal report and the chart. */

export const int = (v: number): string => Math.round(v).toLocaleString("en-US")

/** 1234567 -> "1.23M", 12345 -> "12.3k". */
export const compact = (v: number): string => {
  const a = Math.abs(v)
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3)}k`
  return a >= 10 ? String(Math.round(v)) : v.toPrecision(2)
}

/** Nanoseconds as a readable duration: "850 ns", "4.10 us", "18.6 ms". */
export const duration = (ns: number): string => {
  if (ns < 1000) return `${Math.round(ns)} ns`
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} us`
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`
  return `${(ns / 1e9).toPrecision(3)} s`
}

export const bytes = (v: number): string => {
  if (v >= 1024 ** 3) return `${(v / 1024 ** 3).toFixed(2)} GiB`
  if (v >= 1024 ** 2) return `${(v / 1024 ** 2).toFixed(1)} MiB`
  if (v >= 1024) return `${(v / 1024).toFixed(1)} KiB`
  return `${v} B`
}

/** A ratio as "x1.23" ("-" when undefined or not finite). */
export const ratio = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? "-" : v >= 100 ? `x${Math.round(v)}` : `x${v.toPrecision(3)}`
