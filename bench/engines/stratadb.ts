/**
 * stratadb through its own Effects, no Promise round trip: `put`, `get`, `delete`, `write` of a
 * `WriteBatch`, scans through `cursor`, 256 entries a pull, on `NodeSyncFileSystem` with the
 * default options: flushes and compactions in a worker thread. `stratadb-inline` is the same with
 * them on the calling thread (`BackgroundWork.inline`), to measure what the worker buys;
 * `stratadb-uncompressed` with `compression: "none"`, to measure what block compression costs and
 * saves; `stratadb-nometrics` without Effect metrics (`Metrics.disabled`), to measure what they cost.
 */
import { Effect, Layer, Option } from "effect"
import * as BackgroundWork from "../../src/BackgroundWork.js"
import { Db } from "../../src/Db.js"
import * as Metrics from "../../src/Metrics.js"
import type { DbOptions } from "../../src/Options.js"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import type { Engine, EngineStats, Handle, OnEntry } from "../engine.js"
import { EngineError } from "../errors.js"
import { packageVersion } from "./packageVersion.js"

const wrap = (operation: string) => (cause: unknown) => new EngineError({ engine: "stratadb", operation, cause })

const makeEngine = (
  name: string,
  layer: Layer.Layer<Layer.Layer.Success<typeof NodeSyncFileSystem.layer>>,
  where: string,
  options: Partial<DbOptions> = {}
): Engine => ({
  name,
  description: `stratadb ${packageVersion("stratadb")} (TypeScript LSM, ${Object.keys(options).length === 0 ? "default options" : JSON.stringify(options)}, NodeSyncFileSystem, ${where})`,
  durability: "a put returns once its WAL bytes are handed to the OS (no fsync): survives kill -9, not power loss",
  api: "Db effects run in the harness's fibers: put, get, delete, write(WriteBatch), scan (a cursor, by chunks of 256)",
  open: (directory) =>
    Db.make({ directory, ...options }).pipe(
      Effect.provide(layer),
      Effect.mapError(wrap("open")),
      Effect.map((db): Handle => ({
        put: (key, value) => Effect.mapError(db.put(key, value), wrap("put")),
        get: (key) => db.get(key).pipe(Effect.map(Option.getOrUndefined), Effect.mapError(wrap("get"))),
        del: (key) => Effect.mapError(db.delete(key), wrap("delete")),
        batch: (puts) =>
          Effect.suspend(() => {
            const batch = WriteBatch.make()
            for (const p of puts) batch.put(p.key, p.value)
            return Effect.mapError(db.write(batch), wrap("write"))
          }),
        // The cursor, pulled 256 entries at a time: `Stream.runForEachWhile` would keep every
        // entry it has consumed until the stream ends (effect 3.22 nests a `catchAll` per element:
        // 190 MiB live halfway through a 1M-entry scan, against 29 MiB for the cursor).
        scan: (options, onEntry: OnEntry) =>
          Effect.scoped(
            Effect.gen(function* () {
              const cursor = yield* db.cursor({ reverse: options.reverse })
              let seen = 0
              while (true) {
                const entries = yield* cursor.next(256)
                if (entries.length === 0) return seen
                for (const entry of entries) {
                  seen++
                  if (!onEntry(entry.key, entry.value)) return seen
                }
              }
            })
          ).pipe(Effect.mapError(wrap("scan"))),
        stats: db.stats.pipe(
          Effect.map((s): EngineStats => ({ ...s })),
          Effect.mapError(wrap("stats"))
        )
      }))
    )
})

export const engine: Engine = makeEngine("stratadb", NodeSyncFileSystem.layer, "background work in a worker thread")

export const inlineEngine: Engine = makeEngine(
  "stratadb-inline",
  Layer.merge(NodeSyncFileSystem.layer, BackgroundWork.inline),
  "background work inline"
)

export const uncompressedEngine: Engine = makeEngine(
  "stratadb-uncompressed",
  NodeSyncFileSystem.layer,
  "background work in a worker thread",
  { compression: "none" }
)

export const noMetricsEngine: Engine = makeEngine(
  "stratadb-nometrics",
  Layer.merge(NodeSyncFileSystem.layer, Metrics.disabled),
  "background work in a worker thread, metrics disabled"
)

/**
 * Any options, as JSON in STRATADB_BENCH_OPTIONS: for experiments (`--engines stratadb-options`).
 * Read when this engine is loaded, so a bad variable fails only this engine's load.
 */
export const optionsEngine = (): Engine =>
  makeEngine(
    "stratadb-options",
    NodeSyncFileSystem.layer,
    "background work in a worker thread",
    JSON.parse(process.env["STRATADB_BENCH_OPTIONS"] ?? "{}") as Partial<DbOptions>
  )
