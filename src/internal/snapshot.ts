/**
 * Snapshot handles: the opaque `Snapshot` values `db.snapshot` gives. What a handle stands for (the
 * sequence it reads at, the open database it belongs to, whether it was released) is kept here,
 * in a WeakMap keyed by the handle, never on the handle: a read checks a given snapshot by
 * identity, so an object built by hand (`{ sequence: 5 }`), a snapshot of another database or
 * one already released is refused, and looking one up runs none of the caller's code (a WeakMap
 * lookup reads no property and trips no Proxy trap).
 */
import type { Snapshot } from "../Db.js"

export const SnapshotTypeId: unique symbol = Symbol.for("stratadb/Snapshot")
export type SnapshotTypeId = typeof SnapshotTypeId

interface Pinned {
  /** The open database the snapshot belongs to (its identity token). */
  readonly owner: object
  readonly sequence: number
  released: boolean
}

const pinned = new WeakMap<object, Pinned>()

class SnapshotHandle implements Snapshot {
  get [SnapshotTypeId](): SnapshotTypeId {
    return SnapshotTypeId
  }
  toString(): string {
    return "Snapshot"
  }
  toJSON(): unknown {
    return { _id: "Snapshot" }
  }
}

/** A new handle for `sequence` (which the caller has pinned) of the database `owner`. */
export const make = (owner: object, sequence: number): Snapshot => {
  const handle = Object.freeze(new SnapshotHandle())
  pinned.set(handle, { owner, sequence, released: false })
  return handle
}

/** Marks the handle released; returns the sequence to unpin. */
export const release = (snapshot: Snapshot): number => {
  const p = pinned.get(snapshot)!
  p.released = true
  return p.sequence
}

/**
 * The sequence a value given as a snapshot of the database `owner` reads at: `"foreign"` when it
 * is no handle of that database (another database's, or not a handle at all), `"released"` when
 * its scope has closed.
 */
export const sequenceOf = (owner: object, snapshot: unknown): number | "foreign" | "released" => {
  const p = typeof snapshot === "object" && snapshot !== null ? pinned.get(snapshot) : undefined
  if (p === undefined || p.owner !== owner) return "foreign"
  return p.released ? "released" : p.sequence
}
