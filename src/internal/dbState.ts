/**
 * The mutable state one open database shares between its foreground operations and its
 * background fiber: sequence numbers, live snapshots, the background error, the signal that wakes
 * stalled writers, and the counters `stats` reports.
 */
import { Context, Deferred, Effect, Exit, FiberId } from "effect"
import type { DbError } from "../errors.js"
import type { RecoveryStats } from "../Stats.js"

/** Foreground time between yields to the event loop (background work, I/O callbacks). */
export const FOREGROUND_SLICE_MS = 2

export class DbState {
  /** Highest sequence whose write is complete and visible to reads. */
  visibleSequence = 0
  /** Highest sequence handed out. */
  lastSequence = 0
  closed = false
  /** A failed background job: later writes fail with it. */
  backgroundError: DbError | undefined = undefined
  /** What the open found in the WALs it replayed (set by recovery). */
  recovery: RecoveryStats = {
    walRecoveryMode: "tolerateTornTail",
    logsReplayed: 0,
    recordsReplayed: 0,
    tornTails: [],
    damage: [],
    droppedLogs: [],
    movedToLost: []
  }
  /**
   * Sets that every applied write adds its keys to while registered: a `deleteRange` in progress
   * keeps what was written after it started (empty, and free, otherwise).
   */
  readonly writtenKeyWatchers = new Set<Set<string>>()
  /** Live snapshots: sequence -> reference count. */
  readonly snapshots = new Map<number, number>()

  // counters
  userBytesWritten = 0
  flushes = 0
  flushBytesWritten = 0
  compactions = 0
  compactionBytesWritten = 0
  compactionBytesRead = 0
  stallMicros = 0
  slowdowns = 0
  gets = 0
  tableReads = 0

  /**
   * Foreground operations are synchronous when they can be, and a loop of them never lets another
   * fiber or the event loop run: not the background fiber's flushes and compactions, not a synced
   * write waiting for its fsync callback, not a file system whose calls complete on the event loop.
   * So a run of foreground work yields the thread once per `FOREGROUND_SLICE_MS` (see `yieldDue`),
   * whatever is pending: as LevelDB's background thread has a core of its own, ours gets a turn.
   */
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

  private changed = Deferred.unsafeMake<void>(FiberId.none)
  private workSignal = Deferred.unsafeMake<void>(FiberId.none)
  private workSignaled = false

  /** Completes when background work next makes progress (or fails). */
  awaitChange(): Effect.Effect<void> {
    return Deferred.await(this.changed)
  }

  /** Wakes everyone waiting on `awaitChange`. */
  notifyChange(): void {
    const d = this.changed
    this.changed = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(d, Exit.void)
  }

  /** Completes when the background fiber has been asked to look for work. */
  awaitWork(): Effect.Effect<void> {
    return Deferred.await(this.workSignal)
  }

  /** Asks the background fiber to look for work (flush, compaction, deletions). */
  signalWork(): void {
    this.workSignaled = true
    Deferred.unsafeDone(this.workSignal, Exit.void)
  }

  /** Re-arms the work signal; the background fiber calls it before it looks for work. */
  resetWork(): void {
    if (this.workSignaled) {
      this.workSignaled = false
      this.workSignal = Deferred.unsafeMake<void>(FiberId.none)
    }
  }

  /** Registers a reader (snapshot or scan) at `sequence`. */
  pinSequence(sequence: number): void {
    this.snapshots.set(sequence, (this.snapshots.get(sequence) ?? 0) + 1)
  }

  unpinSequence(sequence: number): void {
    const n = (this.snapshots.get(sequence) ?? 1) - 1
    if (n <= 0) this.snapshots.delete(sequence)
    else this.snapshots.set(sequence, n)
  }

  /** Live snapshot sequences, ascending. */
  snapshotSequences(): Array<number> {
    return [...this.snapshots.keys()].sort((a, b) => a - b)
  }

  /** The oldest sequence any reader may still ask for. */
  oldestSnapshot(): number {
    let min = this.visibleSequence
    for (const s of this.snapshots.keys()) if (s < min) min = s
    return min
  }
}

/** The state as a service, so the background fiber's layer can read it. */
export class DbStateTag extends Context.Tag("stratadb/DbState")<DbStateTag, DbState>() {}
