/**
 * A write batch: puts and deletes applied atomically by `Db.write`. Build it with
 * `WriteBatch.make().put("a", "1").delete("b")`.
 *
 * The batch only records what it is given (it cannot fail: a builder that threw would be a defect,
 * not a typed error). `Db.write(batch)` validates every entry when its effect is built, exactly as
 * `put` and `delete` do, and copies the keys and values then: a bad entry is an `InvalidArgument`
 * for the whole batch and nothing is written; entries added, or buffers changed, after `write` was
 * called do not count. The same holds for a batch built by hand as `{ ops: [{ kind, key, value }] }`:
 * `write` trusts nothing about where the batch came from.
 */
import type { Bytes } from "./Db.js"

export interface BatchOp {
  readonly kind: "put" | "delete"
  readonly key: Bytes
  readonly value: Bytes | undefined
}

export class WriteBatch {
  private readonly _ops: Array<BatchOp> = []

  /** An empty batch. */
  static make(): WriteBatch {
    return new WriteBatch()
  }

  put(key: Bytes, value: Bytes): this {
    this._ops.push({ kind: "put", key, value })
    return this
  }

  delete(key: Bytes): this {
    this._ops.push({ kind: "delete", key, value: undefined })
    return this
  }

  clear(): this {
    this._ops.length = 0
    return this
  }

  get length(): number {
    return this._ops.length
  }

  get ops(): ReadonlyArray<BatchOp> {
    return this._ops
  }
}
