/**
 * classic-level (LevelDB) through its abstract-level API with Buffer encodings: awaited `put`,
 * `del` and chained `batch().write()` (each runs on libuv's thread pool), the synchronous
 * `getSync` for reads (classic-level 3, on the calling thread), `iterator().nextv(1000)` scans.
 */
import { ClassicLevel } from "classic-level"
import { Effect, Option } from "effect"
import type { Engine, Handle } from "../engine.js"
import { EngineError } from "../errors.js"
import { openScoped, scanIterator, writeBatch } from "./abstractLevel.js"
import { packageVersion } from "./packageVersion.js"

const fail = (operation: string) => (cause: unknown) => new EngineError({ engine: "classic-level", operation, cause })

type Level = ClassicLevel<Buffer, Buffer>

export const engine: Engine = {
  name: "classic-level",
  description: `classic-level ${packageVersion("classic-level")} (LevelDB 1.20, default options, snappy)`,
  durability: "sync: false (LevelDB default): the log record is write()n before a put resolves, no fsync: survives kill -9, not power loss",
  api: "await put / del / batch().write() (thread pool), getSync (calling thread), iterator().nextv(1000)",
  open: (directory) =>
    openScoped((): Level => new ClassicLevel<Buffer, Buffer>(directory, { keyEncoding: "buffer", valueEncoding: "buffer" }), fail).pipe(
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
