/**
 * The worker layer of the `BackgroundExecutor`: jobs run in a Node worker thread
 * (internal/background/workerMain.ts), spawned through `@effect/platform`'s `Worker` on the first
 * job and kept for the next. The database's thread packs a memtable for a flush (the worker sorts
 * it and builds the table) or sends a compaction's task, then waits.
 *
 * - Loading the worker's modules takes 0.7 s or more. A flush that comes while the thread is not up
 *   does not wait for it: it starts the thread and runs on the database's thread meanwhile, as the
 *   inline executor would (the same code, the same table). A compaction waits for the thread. A
 *   thread that fails to start fails the next job with `BackgroundDefect`.
 *
 * - A worker that dies, or whose job dies, is retired: the job fails with `BackgroundDefect` (the
 *   compactor keeps it as the background error) and the next job gets a fresh worker.
 * - Interrupting a job interrupts it in the worker, which removes the table it was writing.
 * - Closing the layer's scope keeps an idle worker as the process's spare (spareWorker.ts) for the
 *   next database: one with no job in flight and none ever interrupted. Any other worker is closed,
 *   and the close waits for its thread to exit (the close of `@effect/platform-node`'s worker: a
 *   close message, then termination after 5 s), so nothing of the database runs after it.
 */
import * as Transferable from "@effect/platform/Transferable"
import * as Worker from "@effect/platform/Worker"
import { isWorkerError } from "@effect/platform/WorkerError"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import type * as WorkerThreads from "node:worker_threads"
import { Cause, Deferred, Effect, Either, Exit, Layer, Option, Scope, Stream } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import { BackgroundDefect } from "../../errors.js"
import type { CompactionOutcome } from "../compaction/compactionJob.js"
import { DbConfig } from "../dbConfig.js"
import type { FileMeta } from "../version/fileMeta.js"
import { writeMemtable } from "../flush.js"
import { TableStore } from "../table/tableStore.js"
import { BackgroundExecutor, type JobError } from "./executor.js"
import { packMemtable, transferList } from "./packedRun.js"
import { keepSpare, takeSpare } from "./spareWorker.js"
import { decodeFailure, type JobSite, type WorkerEvent, type WorkerRequest } from "./workerProtocol.js"

type BackgroundWorker = Worker.Worker<WorkerRequest, WorkerEvent, unknown>

interface Spawned {
  worker: BackgroundWorker
  thread: WorkerThreads.Worker | undefined
  readonly scope: Scope.CloseableScope
  /** The thread failed or exited. */
  dead: boolean
  /** Jobs running on it: while there are none, the thread does not keep the process alive. */
  jobs: number
  /** Closing: the thread keeps the process alive until it exits. */
  closing: boolean
  /** A job on it was interrupted: it may still be cleaning up, so it is never kept as the spare. */
  interrupted: boolean
}

/**
 * Compaction job ids, for the whole process: a worker kept as the spare serves databases one after
 * another, and the worker keys a compaction's file-number queue by its id.
 */
let jobIds = 0

/**
 * `job` with the thread kept referenced while it runs: an idle worker does not keep the process
 * alive (a program that never closes its database still exits), a job in flight does.
 */
const busy = (spawned: Spawned) => <A, E>(job: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    if (spawned.jobs++ === 0) spawned.thread?.ref()
    return Effect.ensuring(
      Effect.onInterrupt(job, () => Effect.sync(() => void (spawned.interrupted = true))),
      Effect.sync(() => {
        if (--spawned.jobs === 0 && !spawned.closing) spawned.thread?.unref()
      })
    )
  })

/** A flush's packed run is transferred to the worker, not copied. */
const encode = (message: WorkerRequest) =>
  message._tag === "flush" ? Effect.as(Transferable.addAll(transferList(message.run)), message) : Effect.succeed(message)

/** The worker executor; `spawn` starts the thread that runs workerMain. */
export const workerLayer = (
  spawn: (id: number) => WorkerThreads.Worker
): Layer.Layer<BackgroundExecutor, never, DbConfig | TableStore> =>
  Layer.scoped(BackgroundExecutor, make(spawn)).pipe(Layer.provide(NodeWorker.layer(spawn)))

/** Closes a worker's scope from outside any fiber (a spare nobody took). */
const closeDetached = (spawned: Spawned) => void Effect.runFork(Scope.close(spawned.scope, Exit.void))

const make = (spawn: unknown) => Effect.gen(function* () {
  const config = yield* DbConfig
  const store = yield* TableStore
  const manager = yield* Worker.WorkerManager
  const spawner = yield* Worker.Spawner
  const layerScope = yield* Scope.Scope
  const site: JobSite = { directory: config.directory, options: config.options }
  const spawnLock = yield* Effect.makeSemaphore(1)
  let current: Spawned | undefined = undefined
  /** Workers this executor started or took, not yet closed or kept as the spare. */
  const owned = new Set<Spawned>()
  /** Closes `spawned` (waits for its thread to exit). */
  const close = (spawned: Spawned): Effect.Effect<void> =>
    Effect.suspend(() => {
      owned.delete(spawned)
      return Scope.close(spawned.scope, Exit.void)
    })
  // At close: the current worker becomes the spare if nothing of this database can run on it any
  // more; every other worker is closed.
  yield* Scope.addFinalizer(layerScope, Effect.suspend(() => {
    const last = current
    current = undefined
    if (last !== undefined && !last.dead && last.jobs === 0 && !last.interrupted && owned.has(last)) {
      owned.delete(last)
      keepSpare(spawn, last, () => closeDetached(last))
    }
    return Effect.forEach([...owned], close, { discard: true })
  }))
  /** A start runs in the background (`startInBackground`). */
  let starting = false
  /** How the last start in the background failed, until a job reports it or a start succeeds. */
  let startFailure: BackgroundDefect | undefined = undefined

  /**
   * The current worker, or a fresh one. The thread is watched: one that fails to start (platform's
   * `Worker` would wait for it forever) or exits is marked dead, and the next job closes it and
   * spawns another. A job in flight on it fails (platform's `Worker` fails its requests).
   */
  const acquire: Effect.Effect<Spawned, BackgroundDefect> = spawnLock.withPermits(1)(Effect.suspend(() => {
    if (current !== undefined && !current.dead) return Effect.succeed(current)
    const stale = current
    current = undefined
    return Effect.gen(function* () {
      if (stale !== undefined) yield* close(stale)
      const spare = takeSpare<Spawned>(spawn)
      if (spare !== undefined) {
        owned.add(spare)
        if (!spare.dead) {
          current = spare
          startFailure = undefined
          return spare
        }
        yield* close(spare)
      }
      // Its own scope, not the layer's: at close it may outlive this database as the spare.
      const scope = yield* Scope.make(ExecutionStrategy.sequential)
      const stopped = yield* Deferred.make<never, unknown>()
      const spawned: Spawned = { worker: undefined as unknown as BackgroundWorker, thread: undefined, scope, dead: false, jobs: 0, closing: false, interrupted: false }
      owned.add(spawned)
      const watched = (id: number) => {
        const thread = spawner(id) as WorkerThreads.Worker
        spawned.thread = thread
        const died = (cause: unknown) => {
          if (spawned.dead) return
          spawned.dead = true
          Deferred.unsafeDone(stopped, Exit.fail(cause))
        }
        thread.once("error", died)
        thread.once("exit", (code) => died(new Error(`the worker thread exited with code ${code}`)))
        return thread
      }
      const worker = yield* Effect.raceFirst(
        manager.spawn<WorkerRequest, WorkerEvent, unknown>({ encode }).pipe(
          Effect.provideService(Worker.Spawner, watched),
          Scope.extend(scope)
        ),
        Deferred.await(stopped)
      ).pipe(Effect.onError(() => close(spawned)))
      spawned.worker = worker
      // Run first when the worker closes: the process waits for the thread to exit.
      yield* Scope.addFinalizer(scope, Effect.sync(() => {
        spawned.closing = true
        spawned.thread?.ref()
      }))
      current = spawned
      startFailure = undefined
      // Until a job uses it, the idle thread does not keep the process alive (see `busy`).
      if (spawned.jobs === 0) spawned.thread?.unref()
      return spawned
    }).pipe(Effect.mapError((cause) => defect("the background worker did not start", cause)))
  }))

  /** The current worker if it is up, else undefined (and a start, in the background, unless one runs). */
  const upOrStarting: Effect.Effect<Spawned | undefined> = Effect.suspend(() => {
    if (current !== undefined && !current.dead) return Effect.succeed(current)
    if (starting) return Effect.succeed(undefined)
    starting = true
    return acquire.pipe(
      Effect.catchAll((failure) => Effect.sync(() => void (startFailure = failure))),
      Effect.ensuring(Effect.sync(() => void (starting = false))),
      Effect.forkIn(layerScope),
      Effect.as(undefined)
    )
  })

  /** Closes the worker (if still the current one): the next job spawns another. */
  const retire = (spawned: Spawned): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (current === spawned) current = undefined
      return close(spawned)
    })

  /** Runs `job` on the current worker, or a fresh one (see `onSpawned`). */
  const onWorker = <A>(job: (worker: BackgroundWorker) => Effect.Effect<A, unknown>): Effect.Effect<A, JobError> =>
    Effect.flatMap(acquire, (spawned) => onSpawned(spawned, job))

  /**
   * Runs `job` on `spawned`; a typed failure comes back decoded, anything else (the worker died,
   * a defect in the job) retires the worker and is a `BackgroundDefect`.
   */
  const onSpawned = <A>(spawned: Spawned, job: (worker: BackgroundWorker) => Effect.Effect<A, unknown>): Effect.Effect<A, JobError> =>
    job(spawned.worker).pipe(
      busy(spawned),
      Effect.catchAllCause((cause): Effect.Effect<A, JobError> => {
        // The caller interrupted the job (unless the thread is gone: its requests end so too).
        if (Cause.isInterruptedOnly(cause) && !spawned.dead) return Effect.failCause(cause as Cause.Cause<never>)
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure) && !isWorkerError(failure.value)) {
          const decoded = decodeFailure(failure.value)
          if (Either.isRight(decoded)) return Effect.fail(decoded.right)
        }
        const reason = Option.isSome(failure) ? failure.value : Cause.squash(cause)
        return Effect.zipRight(retire(spawned), Effect.fail(defect("the background worker failed", reason)))
      })
    )

  const flush: BackgroundExecutor["flush"] = (table, newFileNumber, snapshots) =>
    Effect.gen(function* () {
      if (table.isEmpty) return undefined
      if (startFailure !== undefined) {
        const failure = startFailure
        startFailure = undefined
        return yield* Effect.fail(failure)
      }
      const spawned = yield* upOrStarting
      if (spawned === undefined) return yield* writeMemtable(table, { store, newFileNumber }, snapshots)
      const run = yield* packMemtable(table)
      const fileNumber = newFileNumber()
      const request: WorkerRequest = { _tag: "flush", site, run, snapshots: [...snapshots], fileNumber }
      return yield* onSpawned(spawned, (worker) =>
        Effect.map(worker.executeEffect(request), (event): FileMeta | undefined => {
          if (event._tag !== "flushed") throw new Error(`unexpected answer to a flush: ${event._tag}`)
          return event.meta
        })
      )
    })

  const compact: BackgroundExecutor["compact"] = (job, newFileNumber) =>
    Effect.suspend(() => {
      const jobId = jobIds++
      const { task } = job
      let inputBytes = 0
      for (const f of task.inputs) inputBytes += f.size
      for (const f of task.nextInputs) inputBytes += f.size
      // About as many as the outputs will be; the worker asks for more if it needs them.
      const batch = Math.max(2, Math.ceil(inputBytes / task.maxOutputFileSize) + 1)
      const numbers = (count: number) => Array.from({ length: count }, newFileNumber)
      const request: WorkerRequest = {
        _tag: "compact",
        site,
        jobId,
        task,
        snapshots: [...job.snapshots],
        oldestReader: job.oldestReader,
        fileNumbers: numbers(batch)
      }
      return onWorker((worker) =>
        worker.execute(request).pipe(
          Stream.runFoldEffect(undefined as CompactionOutcome | undefined, (outcome, event) => {
            switch (event._tag) {
              case "needFileNumbers":
                return Effect.as(worker.executeEffect({ _tag: "fileNumbers", jobId, fileNumbers: numbers(Math.max(2, batch >> 2)) }), outcome)
              case "compacted":
                return Effect.succeed(event.outcome)
              default:
                return Effect.dieMessage(`unexpected event of a compaction: ${event._tag}`)
            }
          }),
          // Ended without its outcome: the worker was closed under the job (the database closes).
          Effect.flatMap((outcome) => (outcome === undefined ? Effect.interrupt : Effect.succeed(outcome)))
        )
      )
    })

  // Started by the first job, not at open: a database that never flushes (many short-lived
  // ones, in tests) never pays the second or so of loading the worker's modules.
  return BackgroundExecutor.of({ kind: "worker", flush, compact, start: Effect.asVoid(acquire) })
})

const defect = (description: string, cause: unknown) =>
  new BackgroundDefect({ description: `${description}: ${describe(cause)}`, cause })

const describe = (cause: unknown): string => {
  try {
    return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  } catch {
    return "an exception"
  }
}
