/**
 * The benchmark's errors: an engine call that failed, a read that returned the wrong bytes (which
 * aborts that engine's run), a bad command line, and a worker process that failed.
 */
import { Data } from "effect"

export class EngineError extends Data.TaggedError("EngineError")<{
  readonly engine: string
  readonly operation: string
  readonly cause: unknown
}> {
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `${this.engine}: ${this.operation} failed: ${cause}`
  }
}

export class VerificationError extends Data.TaggedError("VerificationError")<{
  readonly engine: string
  readonly phase: string
  readonly description: string
}> {
  override get message(): string {
    return `${this.engine}: ${this.phase}: wrong result: ${this.description}`
  }
}

export class UsageError extends Data.TaggedError("UsageError")<{ readonly description: string }> {
  override get message(): string {
    return this.description
  }
}

export class WorkerError extends Data.TaggedError("WorkerError")<{
  readonly engine: string
  readonly description: string
}> {
  override get message(): string {
    return `${this.engine}: ${this.description}`
  }
}

export type BenchError = EngineError | VerificationError
