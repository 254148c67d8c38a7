/**
 * Progress of long phases, one line to stderr every few seconds, and the peak JS heap, sampled
 * on the same ticks (the peak RSS comes from the OS at the end: `process.resourceUsage().maxRSS`;
 * the RSS is also sampled, for a workload that wants its own peak: `resetWindowRss`).
 * Op loops call `tick` every few operations with the time they already read, so a tick with
 * nothing to do costs one comparison.
 */

export class Progress {
  private label = ""
  private target = 0
  private startedAt = 0
  private nextReportAt = 0
  private nextSampleAt = 0
  private _peakHeapUsed = 0
  private _windowPeakRss = 0

  constructor(
    private readonly engine: string,
    private readonly intervalMs: number,
    private readonly write: (line: string) => void = (line) => void process.stderr.write(line + "\n")
  ) {}

  get peakHeapUsed(): number {
    return this._peakHeapUsed
  }

  /** The highest RSS sampled since `resetWindowRss`. */
  get windowPeakRss(): number {
    return this._windowPeakRss
  }

  /** Starts a new RSS window from now (the OS's maxRSS cannot be reset). */
  resetWindowRss(): void {
    this._windowPeakRss = 0
    this.sample()
  }

  /** Starts a phase of `target` operations (0 when unknown). */
  start(label: string, target: number): void {
    this.label = label
    this.target = target
    this.startedAt = performance.now()
    this.nextReportAt = this.startedAt + this.intervalMs
    this.sample()
  }

  /** `done` operations so far, at time `now` (performance.now()). */
  tick(done: number, now: number): void {
    if (now < this.nextSampleAt) return
    this.sample()
    if (now < this.nextReportAt) return
    this.nextReportAt = now + this.intervalMs
    const seconds = (now - this.startedAt) / 1000
    const rate = seconds > 0 ? Math.round(done / seconds) : 0
    const of = this.target > 0 ? `/${this.target.toLocaleString("en-US")}` : ""
    this.write(
      `  [${this.engine}] ${this.label}: ${done.toLocaleString("en-US")}${of} in ${seconds.toFixed(1)} s (${rate.toLocaleString("en-US")} ops/s)`
    )
  }

  /** Samples the heap now (also called at phase boundaries). */
  sample(): void {
    this.nextSampleAt = performance.now() + 250
    const { heapUsed, rss } = process.memoryUsage()
    if (heapUsed > this._peakHeapUsed) this._peakHeapUsed = heapUsed
    if (rss > this._windowPeakRss) this._windowPeakRss = rss
  }

  /** A one-off line (phase notes). */
  note(text: string): void {
    this.write(`  [${this.engine}] ${text}`)
  }
}
