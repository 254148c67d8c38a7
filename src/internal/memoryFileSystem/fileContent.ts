/**
 * The bytes of one in-memory file and what of them is durable.
 *
 * The bytes live in a growable buffer (capacity doubles), so appending is amortized O(length).
 * Durability follows fsync: `sync()` makes the current bytes the synced ones; `revert()` (power
 * loss) goes back to them. Synced bytes are usually a prefix of the current bytes (the file only
 * grew since), so nothing is copied for them; the first write or truncate that changes a synced
 * byte copies the synced bytes aside once, until the next sync.
 */

const MIN_CAPACITY = 64

export class FileContent {
  private bytes: Uint8Array
  private len = 0
  private syncedLength = 0
  /** The synced bytes, once a change since the last sync touched them; else they are a prefix. */
  private syncedCopy: Uint8Array | undefined = undefined

  constructor(capacity = 0) {
    this.bytes = new Uint8Array(capacity)
  }

  get length(): number {
    return this.len
  }

  /** Copies bytes from `position` into `target`; returns how many (0 at or past the end). */
  read(position: number, target: Uint8Array): number {
    const available = this.len - position
    if (available <= 0 || target.length === 0) return 0
    const n = target.length < available ? target.length : available
    target.set(this.bytes.subarray(position, position + n))
    return n
  }

  /** A copy of `length` bytes from `position`, cut at the end of the file. */
  slice(position: number, length: number): Uint8Array {
    const end = Math.min(this.len, position + length)
    return position >= end ? new Uint8Array(0) : this.bytes.slice(position, end)
  }

  /** Writes `source` at `position`; a gap past the end reads as zeros. */
  write(position: number, source: Uint8Array): void {
    if (source.length === 0) return
    const end = position + source.length
    if (position < this.syncedLength) this.keepSynced()
    if (end > this.bytes.length) this.grow(end)
    if (position > this.len) this.bytes.fill(0, this.len, position)
    this.bytes.set(source, position)
    if (end > this.len) this.len = end
  }

  /** Cuts or extends (with zeros) the file to `length` bytes. */
  truncate(length: number): void {
    if (length < this.syncedLength) this.keepSynced()
    if (length > this.len) {
      if (length > this.bytes.length) this.grow(length)
      this.bytes.fill(0, this.len, length)
    }
    this.len = length
  }

  /** fsync: the current bytes become the durable ones. */
  sync(): void {
    this.syncedLength = this.len
    this.syncedCopy = undefined
  }

  /**
   * Power loss: the content goes back to the synced bytes, followed by the first `keepTail(n)`
   * bytes of the `n` written past them (a torn write); what survives is durable afterwards.
   */
  revert(keepTail: (unsyncedLength: number) => number): void {
    const tail = this.len > this.syncedLength ? this.len - this.syncedLength : 0
    const kept = tail === 0 ? 0 : Math.max(0, Math.min(tail, Math.floor(keepTail(tail))))
    if (this.syncedCopy !== undefined) {
      const next = new Uint8Array(Math.max(MIN_CAPACITY, this.syncedLength + kept))
      next.set(this.syncedCopy)
      if (kept > 0) next.set(this.bytes.subarray(this.syncedLength, this.syncedLength + kept), this.syncedLength)
      this.bytes = next
      this.syncedCopy = undefined
    }
    this.len = this.syncedLength + kept
    this.syncedLength = this.len
  }

  /**
   * XORs the byte at `offset` with `mask` in the current and in the synced content (where each
   * has that byte). Returns false when neither has it.
   */
  flip(offset: number, mask: number): boolean {
    let flipped = false
    if (offset < this.len) {
      this.bytes[offset] ^= mask
      flipped = true
    }
    if (this.syncedCopy !== undefined && offset < this.syncedCopy.length) {
      this.syncedCopy[offset] ^= mask
      flipped = true
    }
    return flipped
  }

  /** A copy of the current bytes. */
  snapshot(): Uint8Array {
    return this.bytes.slice(0, this.len)
  }

  /** Replaces the whole content with a copy of `source` (not synced). */
  replace(source: Uint8Array): void {
    this.truncate(0)
    this.write(0, source)
  }

  private keepSynced(): void {
    if (this.syncedCopy === undefined) this.syncedCopy = this.bytes.slice(0, this.syncedLength)
  }

  private grow(minimum: number): void {
    let capacity = this.bytes.length < MIN_CAPACITY ? MIN_CAPACITY : this.bytes.length * 2
    while (capacity < minimum) capacity *= 2
    const next = new Uint8Array(capacity)
    next.set(this.bytes.subarray(0, this.len))
    this.bytes = next
  }
}
