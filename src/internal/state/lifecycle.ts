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
  /**
   * Changes so far. A waiter reads it in the same step as the condition it waits on, and waits
   * for a change after that (`awaitChangeSince`): a change that lands between its check and its
   * wait (the fiber may yield there) still wakes it.
   */
  changes = 0
  private waiters = new Set<(effect: Effect.Effect<void>) => void>()

  /** Keeps `error` as the background error unless one is kept already, and wakes the waiters. */
  fail(error: DbError): void {
    if (this.backgroundError === undefined) this.backgroundError = error
    this.notifyChange()
  }

  /** Completes at once if a change happened since `changes` was `seen`, else at the next change. */
  awaitChangeSince(seen: number): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.changes !== seen) return resume(Effect.void)
      this.waiters.add(resume)
      return Effect.sync(() => {
        this.waiters.delete(resume)
      })
    })
  }

  /** Background work made progress, failed, or the database closes: wakes every waiter. */
  notifyChange(): void {
    this.changes++
    if (this.waiters.size === 0) return
    const waiters = this.waiters
    this.waiters = new Set()
    for (const resume of waiters) resume(Effect.void)
  }
}
