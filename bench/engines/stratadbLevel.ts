/**
 * stratadb through its level bridge (`stratadb/level`), driven exactly as classic-level is: awaited
 * `put`, `del` and chained `batch().write()`, `getSync` for reads, `iterator().nextv(1000)` scans,
 * with Buffer encodings, default options, on `NodeSyncFileSystem`. Set beside `stratadb` it
 * measures what the bridge costs.
 */
import { Effect } from "effect"
import { StrataLevel } from "../../src/Level.js"
import type { Engine } from "../engine.js"
import { EngineError } from "../errors.js"
import { openScoped, syncLevelHandle } from "./abstractLevel.js"
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
      Effect.map((db) => syncLevelHandle(db, fail))
    )
}
