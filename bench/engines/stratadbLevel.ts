/**
 * stratadb through its level bridge (`stratadb/level`), driven exactly as classic-level is: awaited
 * `put`, `del` and chained `batch().write()`, `getSync` for reads, `iterator().nextv(1000)` scans,
 * with Buffer encodings, default options, on `NodeSyncFileSystem`. Set beside `stratadb` it
 * measures what the bridge costs.
 */
import { Effect, Option } from "effect"
import { StrataLevel } from "../../src/Level.js"
import type { Engine, Handle } from "../engine.js"
import { EngineError } from "../errors.js"
import { openScoped, scanIterator, writeBatch } from "./abstractLevel.js"
import { packageVersion } from "./packageVersion.js"

const fail = (operation: string) => (cause: unknown) => new EngineError({ engine: "stratadb-level", operation, cause })

type Level = StrataLevel<Buffer, Buffer>

export const engine: Engine = {
  name: "stratadb-level",
  description: `stratadb ${packageVersion("stratadb")} through stratadb/level (abstract-level ${packageVersion("abstract-level")}), default options`,
  durability: "as stratadb: a put resolves once its WAL bytes are handed to the OS (no fsync): survives kill -9, not power loss",
  api: "await put / del / batch().write(), getSync, iterator().nextv(1000): the same calls as classic-level",
  open: (directory) =>
    openScoped((): Level => new StrataLevel<Buffer, Buffer>(directory, { keyEncoding: "buffer", valueEncoding: "buffer" }), fail).pipe(
      Effect.map((db): Handle => ({
        put: (key, value) => Effect.tryPromise({ try: () => db.put(key, value), catch: fail("put") }),
        get: (key) =>
          Effect.try({ try: () => Option.getOrUndefined(Option.fromNullable(db.getSync(key))), catch: fail("get") }),
        del: (key) => Effect.tryPromise({ try: () => db.del(key), catch: fail("del") }),
        batch: (puts) => writeBatch(() => db.batch(), puts, fail),
        scan: (options, onEntry) => scanIterator(() => db.iterator({ reverse: options.reverse }), onEntry, fail),
        stats: Effect.succeed(undefined)
      }))
    )
}
