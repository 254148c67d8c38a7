/**
 * Foreground operations are synchronous when they can be, and a loop of them never lets another
 * fiber or the event loop run: not the background fiber's flushes and compactions, not a synced
 * write waiting for its fsync callback, not a file system whose calls complete on the event loop.
 * So a run of foreground work yields the thread once per `FOREGROUND_SLICE_MS` (see `yieldDue`),
 * whatever is pending: as LevelDB's background thread has a core of its own, ours gets a turn.
 */

/** Foreground time between yields to the event loop (background work, I/O callbacks). */
export const FOREGROUND_SLICE_MS = 2

export class ForegroundSlice {
  private sliceStart = 0
  private lastCheck = 0
  private opsInSlice = 0

  /** True when a foreground operation (of `entries` keys) should yield to the event loop first. */
  yieldDue(entries = 1): boolean {
    // The clock is read once in 16 keys only.
    this.opsInSlice += entries
    if (this.opsInSlice < 16) return false
    this.opsInSlice = 0
    const now = performance.now()
    // A gap since the last check: the caller waited in between, so a new run starts.
    if (now - this.lastCheck >= FOREGROUND_SLICE_MS) this.sliceStart = now
    this.lastCheck = now
    if (now - this.sliceStart < FOREGROUND_SLICE_MS) return false
    this.sliceStart = now
    return true
  }
}
