/**
 * abstract-level's chained batch (`db.batch().put(..).del(..).write()`): the operations are
 * collected as stratadb `BatchOp`s and written with one `write`, atomically.
 */
import { AbstractChainedBatch } from "abstract-level"
import type { Bytes, DbService, WriteOptions } from "../../Db.js"
import type { BatchOp } from "../../WriteBatch.js"
import { run } from "./run.js"

export const SYNC: WriteOptions = Object.freeze({ sync: true })

/** abstract-level's `sync` option as the engine's write options. */
export const writeOptionsOf = (options: { readonly sync?: unknown } | undefined): WriteOptions | undefined =>
  options !== undefined && options.sync === true ? SYNC : undefined

export class StrataChainedBatch<TDatabase, K, V> extends AbstractChainedBatch<TDatabase, K, V> {
  readonly #service: DbService
  #ops: Array<BatchOp> = []

  constructor(db: TDatabase, service: DbService) {
    super(db)
    this.#service = service
  }

  _put(key: unknown, value: unknown, _options: object): void {
    this.#ops.push({ kind: "put", key: key as Bytes, value: value as Bytes })
  }

  _del(key: unknown, _options: object): void {
    this.#ops.push({ kind: "delete", key: key as Bytes, value: undefined })
  }

  _clear(): void {
    this.#ops = []
  }

  _write(options: { readonly sync?: unknown }): Promise<void> {
    return run(this.#service.write(this.#ops, writeOptionsOf(options)))
  }

  async _close(): Promise<void> {
    this.#ops = []
  }
}
