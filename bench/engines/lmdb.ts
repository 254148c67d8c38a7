/**
 * lmdb (lmdb-js over LMDB 0.9) with binary keys and values and its default options: awaited
 * `put` / `remove` (each resolves when the transaction holding it has committed; writes issued in
 * the same event-loop turn share a transaction), `batch(() => puts)`, the synchronous `get`, and
 * the synchronous `getRange` for scans.
 */
import { Effect } from "effect"
import { open } from "lmdb"
import type { Engine, Handle } from "../engine.js"
import { EngineError } from "../errors.js"
import { packageVersion } from "./packageVersion.js"

const fail = (operation: string) => (cause: unknown) => new EngineError({ engine: "lmdb", operation, cause })

export const engine: Engine = {
  name: "lmdb",
  description: `lmdb ${packageVersion("lmdb")} (LMDB 0.9.90 B+tree, memory-mapped, default options)`,
  durability: "every commit is flushed to disk (lmdb-js default: overlappingSync, fsync per transaction): survives power loss; an awaited put waits for its commit",
  api: "await put / remove (batched per event-loop turn), await batch(() => puts), get (sync), getRange (sync)",
  open: (directory) =>
    Effect.acquireRelease(
      Effect.try({
        try: () => open<Buffer, Buffer>({ path: directory, encoding: "binary", keyEncoding: "binary" }),
        catch: fail("open")
      }),
      (db) => Effect.promise(() => db.close())
    ).pipe(
      Effect.map((db): Handle => ({
        put: (key, value) => Effect.asVoid(Effect.tryPromise({ try: () => db.put(key, value), catch: fail("put") })),
        get: (key) => Effect.try({ try: () => db.get(key), catch: fail("get") }),
        del: (key) => Effect.asVoid(Effect.tryPromise({ try: () => db.remove(key), catch: fail("remove") })),
        batch: (puts) =>
          Effect.asVoid(
            Effect.tryPromise({
              try: () =>
                db.batch(() => {
                  for (const p of puts) void db.put(p.key, p.value)
                }),
              catch: fail("batch")
            })
          ),
        scan: (options, onEntry) =>
          Effect.try({
            try: () => {
              let seen = 0
              for (const { key, value } of db.getRange({ reverse: options.reverse })) {
                seen++
                if (!onEntry(key, value)) break
              }
              return seen
            },
            catch: fail("scan")
          }),
        stats: Effect.succeed(undefined)
      }))
    )
}
