/**
 * @nxtedition/rocksdb (RocksDB 9) through `RocksLevel` with Buffer encodings: awaited `put`, `del`
 * and chained `batch().write()` (the write itself runs synchronously on the JS thread), the
 * binding's synchronous multi-get `_getManySync([key])` for reads (its fastest read, on the
 * calling thread like the other engines' reads), `iterator().nextv(1000)` scans.
 */
import { RocksLevel } from "@nxtedition/rocksdb"
import { Effect } from "effect"
import type { Engine, Handle } from "../engine.js"
import { EngineError } from "../errors.js"
import { openScoped, scanIterator, writeBatch } from "./abstractLevel.js"
import { packageVersion } from "./packageVersion.js"

const fail = (operation: string) => (cause: unknown) => new EngineError({ engine: "rocksdb", operation, cause })
const noOptions = {}

export const engine: Engine = {
  name: "rocksdb",
  description: `@nxtedition/rocksdb ${packageVersion("@nxtedition/rocksdb")} (RocksDB 9.7, binding defaults: zstd, bloom 10, 8 MiB cache)`,
  durability: "sync: false (RocksDB default): the WAL record is write()n before a put resolves, no fsync: survives kill -9, not power loss",
  api: "await put / del / batch().write() (write on the JS thread), _getManySync([key]) (calling thread), iterator().nextv(1000)",
  open: (directory) =>
    openScoped(() => new RocksLevel(directory, { keyEncoding: "buffer", valueEncoding: "buffer" }), fail).pipe(
      Effect.map((db): Handle => ({
        put: (key, value) => Effect.tryPromise({ try: () => db.put(key, value), catch: fail("put") }),
        get: (key) => Effect.try({ try: () => db._getManySync([key], noOptions)[0], catch: fail("get") }),
        del: (key) => Effect.tryPromise({ try: () => db.del(key), catch: fail("del") }),
        batch: (puts) => writeBatch(() => db.batch(), puts, fail),
        scan: (options, onEntry) => scanIterator(() => db.iterator({ reverse: options.reverse, keyEncoding: "buffer", valueEncoding: "buffer" }), onEntry, fail),
        stats: Effect.succeed(undefined)
      }))
    )
}
