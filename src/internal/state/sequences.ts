/**
 * Sequence numbers and the readers holding them: the highest sequence handed out, the highest
 * visible to reads, and every sequence a snapshot, scan or pinned read still reads at (so
 * compaction keeps the versions they see).
 */
export class Sequences {
  /** Highest sequence whose write is complete and visible to reads. */
  visible = 0
  /** Highest sequence handed out. */
  last = 0
  /** Pinned sequences -> reference count. */
  private readonly pinned = new Map<number, number>()

  /** Registers a reader (snapshot, scan, read waiting for I/O) at `sequence`. */
  pin(sequence: number): void {
    this.pinned.set(sequence, (this.pinned.get(sequence) ?? 0) + 1)
  }

  unpin(sequence: number): void {
    const n = (this.pinned.get(sequence) ?? 1) - 1
    if (n <= 0) this.pinned.delete(sequence)
    else this.pinned.set(sequence, n)
  }

  /** Whether some reader holds `sequence`. */
  isPinned(sequence: number): boolean {
    return this.pinned.has(sequence)
  }

  /** Pinned sequences, ascending. */
  pinnedSequences(): Array<number> {
    return [...this.pinned.keys()].sort((a, b) => a - b)
  }

  /** The oldest sequence any reader may still ask for. */
  oldest(): number {
    let min = this.visible
    for (const s of this.pinned.keys()) if (s < min) min = s
    return min
  }
}
