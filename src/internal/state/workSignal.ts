/**
 * The signal that wakes the background fiber to look for work (a frozen memtable to flush, a
 * compaction to run, files to delete). Raised by anyone; the fiber lowers it before it looks, so
 * a signal raised while it works is not lost.
 */
import { Effect } from "effect"

export class WorkSignal {
  private readonly latch = Effect.unsafeMakeLatch(false)

  /** Asks the background fiber to look for work. */
  raise(): void {
    this.latch.unsafeOpen()
  }

  /** Completes once the signal is raised. */
  get await(): Effect.Effect<void> {
    return this.latch.await
  }

  /** Lowers the signal; the background fiber calls it before it looks for work. */
  lower(): void {
    this.latch.unsafeClose()
  }
}
