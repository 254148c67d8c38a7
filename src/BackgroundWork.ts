/**
 * Where a database does its background work (flushes and compactions).
 *
 * - `inline`: on the database's own thread, in slices that yield to the foreground. Any
 *   `FileSystem`; always the case on `MemoryFileSystem`, so simulations stay deterministic.
 * - `worker`: in a Node worker thread, one per open database, started at its first job and closed
 *   with the database, unless it is idle then: it is kept for the next database the process opens
 *   (internal/background/spareWorker.ts). The database's thread then only packs a memtable for a flush and waits; a
 *   flush that comes while the thread is still loading runs inline instead (a compaction waits).
 *   Only where the file system is `NodeSyncFileSystem` (its files are the process's own); on any
 *   other, the work runs inline.
 *
 * `NodeSyncFileSystem.layer` (and so `Db.layerNode`) provides `worker`. Provide `inline` closer to
 * the database to keep everything on one thread:
 *
 * ```ts
 * Db.layer(options).pipe(Layer.provide(BackgroundWork.inline), Layer.provide(NodeSyncFileSystem.layer))
 * ```
 */
import { Context, Layer } from "effect"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"
import * as WorkerThreads from "node:worker_threads"

export type BackgroundWorkMode =
  | { readonly _tag: "inline" }
  | {
    readonly _tag: "worker"
    /** Starts the thread that runs stratadb's background worker. */
    readonly spawn: (id: number) => WorkerThreads.Worker
  }

export class BackgroundWork extends Context.Tag("stratadb/BackgroundWork")<BackgroundWork, BackgroundWorkMode>() {}

/** Background work on the database's own thread. */
export const inline: Layer.Layer<BackgroundWork> = Layer.succeed(BackgroundWork, { _tag: "inline" })

/**
 * The worker's script, next to this module: compiled JavaScript in the package; in the repository's
 * sources (run by tsx or vitest), the TypeScript file, loaded through tsx.
 */
const spawnWorker = (): WorkerThreads.Worker => {
  const fromSources = import.meta.url.endsWith(".ts")
  const script = new URL(`./internal/background/workerMain.${fromSources ? "ts" : "js"}`, import.meta.url)
  if (!fromSources) return new WorkerThreads.Worker(script)
  // A worker thread does not inherit the module hooks tsx registered here, and on Node 20 a
  // thread's `--import tsx` comes too late for its entry: it registers them, then imports.
  const tsx = new URL("dist/esm/api/index.mjs", pathToFileURL(createRequire(import.meta.url).resolve("tsx/package.json")))
  const entry = `import(${JSON.stringify(tsx.href)}).then((api) => { api.register(); return import(${JSON.stringify(script.href)}) })`
  return new WorkerThreads.Worker(entry, { eval: true })
}

/** Background work in a Node worker thread (where the file system is NodeSyncFileSystem). */
export const worker: Layer.Layer<BackgroundWork> = Layer.succeed(BackgroundWork, { _tag: "worker", spawn: spawnWorker })
