/**
 * abstract-level's explicit snapshot over a stratadb snapshot. The engine snapshot is taken
 * synchronously in the constructor (so a write made right after `db.snapshot()` is not in it) and
 * held in its own scope until `close`.
 */
import { AbstractSnapshot } from "abstract-level"
import { Effect, Exit, Scope } from "effect"
import type { DbService, Snapshot } from "../../Db.js"
import { run, runSync } from "./run.js"

/** abstract-level's snapshot constructor takes its options (`owner`); its typings declare none. */
const SnapshotBase = AbstractSnapshot as unknown as new (options: object) => AbstractSnapshot

export class StrataSnapshot extends SnapshotBase {
  /** The engine snapshot: reads given this `StrataSnapshot` read at it. */
  readonly engine: Snapshot
  /** The database service the snapshot belongs to. */
  readonly service: DbService
  readonly #scope: Scope.CloseableScope

  constructor(service: DbService, options: object) {
    const scope = Effect.runSync(Scope.make())
    let engine: Snapshot
    try {
      engine = runSync(Scope.extend(service.snapshot, scope))
    } catch (e) {
      Effect.runFork(Scope.close(scope, Exit.void))
      throw e
    }
    super(options)
    this.engine = engine
    this.service = service
    this.#scope = scope
  }

  async _close(): Promise<void> {
    await run(Scope.close(this.#scope, Exit.void))
  }
}
