/**
 * The background worker thread's entry: runs the jobs the database's worker executor sends
 * (internal/background/workerExecutor.ts) with the same code the inline executor runs
 * (`runCompaction`, the table builder), over stratadb's synchronous Node file system. Each job
 * opens the tables it reads and closes them when it ends; an interrupted job removes the table it
 * was writing (the sink's `abandon`), before the thread exits.
 */
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import type { FileSystem } from "@effect/platform/FileSystem"
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import * as path from "node:path"
import { Cause, Effect, Layer, Mailbox, Queue, Stream } from "effect"
import { runCompaction } from "../compaction/compactionJob.js"
import { DbConfig } from "../dbConfig.js"
import { fileSystemLayer } from "../nodeSyncFileSystem/nodeSyncFileSystem.js"
import { TableStore, make as makeTableStore } from "../table/tableStore.js"
import { forEachSorted, type PackedRun } from "./packedRun.js"
import { encodeFailure, type JobFailure, type JobSite, type WorkerEvent, type WorkerRequest } from "./workerProtocol.js"

/** File numbers sent for compactions waiting for them, by job. */
const numberQueues = new Map<number, Queue.Queue<ReadonlyArray<number>>>()

/** The job's tables, opened in the job's scope (closed when it ends). */
const withStore = <A, E>(site: JobSite, use: (store: TableStore) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(makeTableStore, use)).pipe(
    Effect.provideService(DbConfig, {
      // The worker reads each block once (compactions never fill a block cache).
      options: { ...site.options, blockCacheSize: 0 },
      directory: site.directory,
      file: (name: string) => path.join(site.directory, name)
    })
  )

const flush = (site: JobSite, run: PackedRun, snapshots: ReadonlyArray<number>, fileNumber: number) =>
  withStore(site, (store) =>
    Effect.gen(function* () {
      if (run.records.length === 0) return undefined
      return yield* store.writeTable(fileNumber, (sink) =>
        Effect.suspend(() => {
          forEachSorted(run, snapshots, sink.add)
          return sink.finish
        }))
    }))

const compact = (request: Extract<WorkerRequest, { _tag: "compact" }>, events: Mailbox.Mailbox<WorkerEvent, JobFailure>) =>
  Effect.gen(function* () {
    const numbers = [...request.fileNumbers]
    const more = yield* Queue.unbounded<ReadonlyArray<number>>()
    numberQueues.set(request.jobId, more)
    const newFileNumber = Effect.suspend(function take(): Effect.Effect<number> {
      const n = numbers.shift()
      if (n !== undefined) return Effect.succeed(n)
      return Effect.zipRight(
        events.offer({ _tag: "needFileNumbers" }),
        Effect.flatMap(Queue.take(more), (batch) => {
          numbers.push(...batch)
          return take()
        })
      )
    })
    return yield* withStore(request.site, (store) =>
      runCompaction(request.task, {
        store,
        newFileNumber,
        snapshots: request.snapshots,
        oldestReader: request.oldestReader
      })
    ).pipe(Effect.ensuring(Effect.sync(() => numberQueues.delete(request.jobId))))
  })

const handle = (
  request: WorkerRequest
): Stream.Stream<WorkerEvent, JobFailure, FileSystem> | Effect.Effect<WorkerEvent, JobFailure, FileSystem> => {
  switch (request._tag) {
    case "flush":
      return flush(request.site, request.run, request.snapshots, request.fileNumber).pipe(
        Effect.map((meta): WorkerEvent => ({ _tag: "flushed", meta })),
        Effect.mapError(encodeFailure)
      )
    case "fileNumbers":
      return Effect.suspend(() => {
        const queue = numberQueues.get(request.jobId)
        return queue === undefined ? Effect.void : Queue.offer(queue, request.fileNumbers)
      }).pipe(Effect.as({ _tag: "fileNumbersTaken" } as const))
    case "compact":
      // The job runs in the stream's scope: an interrupted request interrupts it (and its
      // `abandon` removes the table it was writing) before the stream ends.
      return Stream.unwrapScoped(Effect.gen(function* () {
        const events = yield* Mailbox.make<WorkerEvent, JobFailure>()
        yield* compact(request, events).pipe(
          Effect.matchCauseEffect({
            // A defect crosses as a defect (the executor reports it as `BackgroundDefect`).
            onFailure: (cause) => events.failCause(Cause.map(cause, encodeFailure)),
            onSuccess: (outcome) => Effect.zipRight(events.offer({ _tag: "compacted", outcome }), events.end)
          }),
          Effect.forkScoped
        )
        return Mailbox.toStream(events)
      }))
  }
}

WorkerRunner.layer(handle).pipe(
  Layer.provide(Layer.merge(NodeWorkerRunner.layer, fileSystemLayer)),
  WorkerRunner.launch,
  Effect.runFork
)
