/**
 * The engines the benchmark knows, loaded on demand (a peer that fails to load does not stop the
 * others). `memory` is a harness self-test, `stratadb-level` (stratadb through its level bridge) a
 * measure of the bridge and `stratadb-inline` (background work on the calling thread) one of the
 * worker thread, `stratadb-uncompressed` and `stratadb-nometrics` of compression and metrics, and
 * `stratadb-options` (options from the environment) for experiments, all left out of the default list.
 */
import { Effect } from "effect"
import type { Engine } from "../engine.js"
import { EngineError } from "../errors.js"

const loaders: Record<string, () => Promise<{ readonly engine: Engine }>> = {
  stratadb: () => import("./stratadb.js"),
  "stratadb-inline": () => import("./stratadb.js").then((m) => ({ engine: m.inlineEngine })),
  "stratadb-uncompressed": () => import("./stratadb.js").then((m) => ({ engine: m.uncompressedEngine })),
  "stratadb-nometrics": () => import("./stratadb.js").then((m) => ({ engine: m.noMetricsEngine })),
  "stratadb-options": () => import("./stratadb.js").then((m) => ({ engine: m.optionsEngine() })),
  "stratadb-level": () => import("./stratadbLevel.js"),
  "classic-level": () => import("./classicLevel.js"),
  rocksdb: () => import("./rocksdb.js"),
  lmdb: () => import("./lmdb.js"),
  memory: () => import("./memory.js")
}

export const engineNames: ReadonlyArray<string> = Object.keys(loaders)
export const defaultEngines: ReadonlyArray<string> = ["stratadb", "classic-level", "rocksdb", "lmdb"]

export const loadEngine = (name: string): Effect.Effect<Engine, EngineError> =>
  Effect.tryPromise({
    try: async () => {
      const load = loaders[name]
      if (load === undefined) throw new Error(`unknown engine ${name}`)
      return (await load()).engine
    },
    catch: (cause) => new EngineError({ engine: name, operation: "load", cause })
  })
