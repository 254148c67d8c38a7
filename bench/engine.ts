/**
 * The one adapter interface every engine implements. Operations are Effects: stratadb's are its
 * own; a peer wraps its natural fastest API (`Effect.sync` for a synchronous call,
 * `Effect.tryPromise` for a promise). Keys and values are `Buffer`s; a read returns the value's
 * bytes or `undefined` when the key is missing. Closing the scope closes the database.
 */
import type { Effect, Scope } from "effect"
import type { EngineError } from "./errors.js"

export interface BatchPut {
  readonly key: Buffer
  readonly value: Buffer
}

/** What an engine reports about its own work (only stratadb reports these today). */
export interface EngineStats {
  readonly writeAmplification?: number
  readonly [name: string]: unknown
}

export interface ScanOptions {
  readonly reverse: boolean
}

/**
 * Called once per entry of a scan, in order; returning `false` stops the scan early.
 * Key and value may be views that the engine reuses after the call returns.
 */
export type OnEntry = (key: Uint8Array, value: Uint8Array) => boolean

export interface Handle {
  readonly put: (key: Buffer, value: Buffer) => Effect.Effect<void, EngineError>
  readonly get: (key: Buffer) => Effect.Effect<Uint8Array | undefined, EngineError>
  readonly del: (key: Buffer) => Effect.Effect<void, EngineError>
  /** Writes every put atomically, as one batch. */
  readonly batch: (puts: ReadonlyArray<BatchPut>) => Effect.Effect<void, EngineError>
  /** Visits every entry in key order (or reverse); returns the number visited. */
  readonly scan: (options: ScanOptions, onEntry: OnEntry) => Effect.Effect<number, EngineError>
  readonly stats: Effect.Effect<EngineStats | undefined, EngineError>
}

export interface Engine {
  /** The name used on the command line and in reports. */
  readonly name: string
  /** The library, its version and the storage engine underneath. */
  readonly description: string
  /** Its default durability, honestly: what an acknowledged write survives. */
  readonly durability: string
  /** Which calls the adapter uses for each operation. */
  readonly api: string
  /** Opens (creating if missing) the database in `directory`; the scope closes it. */
  readonly open: (directory: string) => Effect.Effect<Handle, EngineError, Scope.Scope>
}
