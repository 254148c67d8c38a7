/**
 * classic-level (LevelDB) through its abstract-level API with Buffer encodings: awaited `put`,
 * `del` and chained `batch().write()` (each runs on libuv's thread pool), the synchronous
 * `getSync` for reads (classic-level 3, on the calling thread), `iterator().nextv(1000)` scans.
 */
import { ClassicLevel } from "classic-level"
import { Effect } from "effect"
import type { Engine } from "../engine.js"
import { EngineError } from "../errors.js"
import { openScoped, syncLevelHandle } from "./abstractLevel.js"
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
      Effect.map((db) => syncLevelHandle(db, fail))
    )
}
