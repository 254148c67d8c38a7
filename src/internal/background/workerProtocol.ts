/**
 * The messages between the database and its background worker thread (structured clones; a
 * flush's packed run is transferred). One request per job; a compaction's response is a stream of
 * events, because the worker asks for more output file numbers when it runs out of those it was
 * given (they come back as a separate `fileNumbers` request naming the job).
 *
 * Failures cross encoded by their schemas (`JobFailure`) and are decoded back into the same
 * `Corruption`, `NotSupported` (a codec missing) or `PlatformError` the inline executor would have failed with.
 */
import { PlatformError } from "@effect/platform/Error"
import { Schema } from "effect"
import { Corruption, NotSupported } from "../../errors.js"
import type { ResolvedOptions } from "../../Options.js"
import type { CompactionOutcome } from "../compaction/compactionJob.js"
import type { CompactionTask } from "../compaction/task.js"
import type { FileMeta } from "../version/fileMeta.js"
import type { PackedRun } from "./packedRun.js"

/** What every job needs to open the database's tables. */
export interface JobSite {
  readonly directory: string
  readonly options: ResolvedOptions
}

export type WorkerRequest =
  | {
    readonly _tag: "flush"
    readonly site: JobSite
    readonly run: PackedRun
    readonly snapshots: ReadonlyArray<number>
    readonly fileNumber: number
  }
  | {
    readonly _tag: "compact"
    readonly site: JobSite
    readonly jobId: number
    readonly task: CompactionTask
    readonly snapshots: ReadonlyArray<number>
    readonly oldestReader: number
    readonly fileNumbers: ReadonlyArray<number>
  }
  | { readonly _tag: "fileNumbers"; readonly jobId: number; readonly fileNumbers: ReadonlyArray<number> }

export type WorkerEvent =
  | { readonly _tag: "flushed"; readonly meta: FileMeta | undefined }
  | { readonly _tag: "needFileNumbers" }
  | { readonly _tag: "compacted"; readonly outcome: CompactionOutcome }
  | { readonly _tag: "fileNumbersTaken" }

/** A job's failure as it crosses the thread boundary. */
export const JobFailure = Schema.Union(Corruption, NotSupported, PlatformError)
/** The encoded form, as it crosses. */
export type JobFailure = typeof JobFailure.Encoded

export const encodeFailure = Schema.encodeSync(JobFailure)
export const decodeFailure = Schema.decodeUnknownEither(JobFailure)
