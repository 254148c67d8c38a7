/**
 * What the two abstract-level peers (classic-level, @nxtedition/rocksdb) share: opening in a
 * scope, chained batches, and scans through `iterator().nextv(1000)`, closed when the scan ends.
 */
import { Effect, type Scope } from "effect"
import type { BatchPut, Handle } from "../engine.js"
import type { EngineError } from "../errors.js"

interface LevelIterator {
  nextv(size: number): Promise<Array<[Buffer, Buffer]>>
  close(): Promise<void>
}

interface LevelBatch {
  put(key: Buffer, value: Buffer): unknown
  write(): Promise<void>
}

/** Opens the database for the scope's lifetime. */
export const openScoped = <D extends { open(): Promise<void>; close(): Promise<void> }>(
  create: () => D,
  fail: (operation: string) => (cause: unknown) => EngineError
): Effect.Effect<D, EngineError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const db = create()
        await db.open()
        return db
      },
      catch: fail("open")
    }),
    (db) => Effect.promise(() => db.close())
  )

/** Writes `puts` in one chained batch. */
export const writeBatch = (
  batch: () => LevelBatch,
  puts: ReadonlyArray<BatchPut>,
  fail: (operation: string) => (cause: unknown) => EngineError
): Effect.Effect<void, EngineError> =>
  Effect.tryPromise({
    try: () => {
      const b = batch()
      for (const p of puts) b.put(p.key, p.value)
      return b.write()
    },
    catch: fail("batch")
  })

/** Feeds entries to `onEntry` until it returns false or the iterator ends; the entries seen. */
export const scanIterator = (
  open: () => LevelIterator,
  onEntry: (key: Buffer, value: Buffer) => boolean,
  fail: (operation: string) => (cause: unknown) => EngineError
): Effect.Effect<number, EngineError> =>
  Effect.acquireUseRelease(
    Effect.sync(open),
    (iterator) =>
      Effect.tryPromise({
        try: async () => {
          let seen = 0
          for (;;) {
            const rows = await iterator.nextv(1000)
            if (rows.length === 0) return seen
            for (const [key, value] of rows) {
              seen++
              if (!onEntry(key, value)) return seen
            }
          }
        },
        catch: fail("scan")
      }),
    (iterator) => Effect.promise(() => iterator.close())
  )

/** The calls both getSync-capable level databases (classic-level, stratadb/level) are driven with. */
export interface SyncLevel {
  put(key: Buffer, value: Buffer): Promise<void>
  getSync(key: Buffer): Buffer | undefined
  del(key: Buffer): Promise<void>
  batch(): LevelBatch
  iterator(options: { reverse: boolean }): LevelIterator
}

/**
 * The harness's handle over such a database: awaited `put`, `del` and chained `batch().write()`,
 * `getSync` for reads, `iterator().nextv(1000)` scans.
 */
export const syncLevelHandle = (db: SyncLevel, fail: (operation: string) => (cause: unknown) => EngineError): Handle => ({
  put: (key, value) => Effect.tryPromise({ try: () => db.put(key, value), catch: fail("put") }),
  get: (key) => Effect.try({ try: () => db.getSync(key) ?? undefined, catch: fail("get") }),
  del: (key) => Effect.tryPromise({ try: () => db.del(key), catch: fail("del") }),
  batch: (puts) => writeBatch(() => db.batch(), puts, fail),
  scan: (options, onEntry) => scanIterator(() => db.iterator({ reverse: options.reverse }), onEntry, fail),
  stats: Effect.succeed(undefined)
})
