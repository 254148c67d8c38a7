/**
 * The signal that wakes the background fibers to look for work (a frozen memtable to flush, a
 * compaction to run, files to delete). Raised by anyone; each fiber has its own view of it
 * (`consumer`), which it lowers before it looks, so a signal raised while it works is not lost,
 * and one fiber's lowering does not hide the signal from another.
 */
import { Effect } from "effect"

export interface WorkConsumer {
  /** Completes once the signal is raised (since this consumer last lowered it). */
  readonly await: Effect.Effect<void>
  /** Lowers the signal for this consumer; called before it looks for work. */
  readonly lower: () => void
}

export class WorkSignal {
  private readonly latches: Array<Effect.Latch> = []

  /** Asks the background fibers to look for work. */
  raise(): void {
    for (const latch of this.latches) latch.unsafeOpen()
  }

  /** A background fiber's view of the signal (raised at first, so it looks once at start). */
  consumer(): WorkConsumer {
    const latch = Effect.unsafeMakeLatch(true)
    this.latches.push(latch)
    return { await: latch.await, lower: () => latch.unsafeClose() }
  }
}
