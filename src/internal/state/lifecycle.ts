/**
 * Whether the database is open, the background error that stops it, and the signal that wakes
 * whoever waits on background progress (stalled writers, `flush`, close).
 *
 * The first failure wins (`fail`): a failed log write, manifest write or background job leaves
 * the files in a state the in-memory view may not match, so every later write fails with that
 * error until the database is reopened (LevelDB's `bg_error_`).
 */
import { Effect } from "effect"
import type { DbError } from "../../errors.js"

export class Lifecycle {
  closed = false
  /** The first failure of background work or of the log; later writes fail with it. */
  backgroundError: DbError | undefined = undefined
  private readonly changed = Effect.unsafeMakeLatch(false)

  /** Keeps `error` as the background error unless one is kept already, and wakes the waiters. */
  fail(error: DbError): void {
    if (this.backgroundError === undefined) this.backgroundError = error
    this.notifyChange()
  }

  /** Completes when background work next makes progress, fails, or the database closes. */
  get awaitChange(): Effect.Effect<void> {
    return this.changed.await
  }

  /** Wakes everyone waiting on `awaitChange` (the latch opens for them and closes again). */
  notifyChange(): void {
    this.changed.unsafeOpen()
    this.changed.unsafeClose()
  }
}
