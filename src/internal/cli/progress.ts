/**
 * A progress line on stderr for long commands (compact, checkpoint, backup, verify): a bar when
 * the total is known, a spinner and counters when it is not, redrawn at most every 100 ms in
 * place (carriage return, erase line). Only when stderr is a terminal: piped or redirected, it
 * prints nothing (the command's summary goes to stdout either way), so scripts and logs see no
 * control characters. The line is erased when the scope closes.
 */
import { Effect, type Scope } from "effect"

export interface Progress {
  /**
   * The state now: `done` out of `total` (undefined: not known, a spinner), and a short `detail`
   * after the bar. Redraws when the last draw is 100 ms old or the work is complete.
   */
  readonly update: (done: number, total: number | undefined, detail?: string) => Effect.Effect<void>
}

/** What the progress line writes to (stderr by default). */
export interface ProgressStream {
  readonly isTTY?: boolean
  readonly columns?: number
  readonly write: (chunk: string) => unknown
}

const SPINNER = ["|", "/", "-", "\\"] as const
const MIN_INTERVAL_MS = 100
const ERASE = "\r\x1b[K"

/** `bytes` in B, KiB, MiB or GiB, one decimal above bytes. */
export const formatBytes = (bytes: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"] as const
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/**
 * One progress line, at most `width` characters: `label [#####-----]  45% detail` with a total,
 * `label | detail` (the spinner's `frame`) without.
 */
export const renderLine = (
  label: string,
  done: number,
  total: number | undefined,
  detail: string,
  width: number,
  frame = 0
): string => {
  let line: string
  if (total === undefined || total <= 0) {
    line = `${label} ${SPINNER[frame % SPINNER.length]} ${detail}`
  } else {
    const fraction = Math.min(1, Math.max(0, done / total))
    const barWidth = Math.max(10, Math.min(40, width - label.length - detail.length - 10))
    const filled = Math.round(fraction * barWidth)
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
    line = `${label} [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${percent} ${detail}`
  }
  line = line.trimEnd()
  return line.length > width ? line.slice(0, Math.max(0, width - 1)) : line
}

/** A progress line labelled `label` on `stream` (stderr), erased when the scope closes. */
export const make = (label: string, stream: ProgressStream = process.stderr): Effect.Effect<Progress, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (stream.isTTY !== true) return { update: () => Effect.void }
    let lastDraw = 0
    let frame = 0
    let drawn = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        if (drawn) stream.write(ERASE)
      })
    )
    return {
      update: (done, total, detail = "") =>
        Effect.sync(() => {
          const now = Date.now()
          const complete = total !== undefined && done >= total
          if (!complete && now - lastDraw < MIN_INTERVAL_MS) return
          lastDraw = now
          stream.write(ERASE + renderLine(label, done, total, detail, stream.columns ?? 80, frame++))
          drawn = true
        })
    }
  })
