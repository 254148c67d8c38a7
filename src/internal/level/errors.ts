/**
 * stratadb's errors as abstract-level errors: an `Error` whose `code` is one of abstract-level's
 * `LEVEL_*` codes and whose `cause` is the stratadb error (or, for a defect, what was thrown).
 *
 * | stratadb | code |
 * |---|---|
 * | `DbLocked` | `LEVEL_LOCKED` |
 * | `Corruption` | `LEVEL_CORRUPTION` |
 * | `PlatformError` (I/O) | `LEVEL_IO_ERROR` |
 * | `NotSupported` | `LEVEL_NOT_SUPPORTED` |
 * | `DbClosed` | `LEVEL_DATABASE_NOT_OPEN` |
 * | `InvalidArgument` at open: the database is missing (`createIfMissing: false`) or exists (`errorIfExists`) | `LEVEL_DATABASE_NOT_OPEN` (message says "does not exist" / "exists", as LevelDB's) |
 * | `InvalidArgument` about a key, a range bound or a seek target | `LEVEL_INVALID_KEY` |
 * | `InvalidArgument` about a value | `LEVEL_INVALID_VALUE` |
 * | `InvalidArgument` about a released snapshot | `LEVEL_SNAPSHOT_NOT_OPEN` |
 * | any other `InvalidArgument` (a bad option) | none: a `TypeError`, as abstract-level throws for programming mistakes |
 * | `BackgroundDefect` | none: the error itself (abstract-level has no code for a bug), its `cause` what was thrown |
 *
 * The table's names are the classes; their `_tag`s are namespaced (`"stratadb/DbLocked"`, ...).
 *
 * abstract-level itself wraps an open failure in its own `LEVEL_DATABASE_NOT_OPEN` error whose
 * `cause` is the error made here.
 */
import { Cause, Exit } from "effect"

/** An abstract-level error: `code` a `LEVEL_*` code, `cause` what stratadb failed with. */
export class StrataLevelError extends Error {
  readonly code: string
  constructor(message: string, code: string, cause: unknown) {
    super(message, { cause })
    this.code = code
  }
}

/** abstract-level's `AbortError` (code `LEVEL_ABORTED`, name `AbortError`), for an aborted iterator read. */
export class StrataAbortError extends StrataLevelError {
  constructor(cause?: unknown) {
    super("Operation has been aborted", "LEVEL_ABORTED", cause)
  }
  override get name(): string {
    return "AbortError"
  }
}

const tagOf = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const tag = (error as { _tag?: unknown })._tag
  return typeof tag === "string" ? tag : undefined
}

const messageOf = (error: unknown): string => {
  try {
    if (error instanceof Error && typeof error.message === "string" && error.message.length > 0) return error.message
  } catch {
    // a throwing getter: fall through
  }
  return String(error)
}

/** The subject of an `InvalidArgument` description (`batch operation 3: key ...` is about a key). */
const KEY_SUBJECT = /^(?:key|keys|target|gt|gte|lt|lte|prefix)\b/
const VALUE_SUBJECT = /^value\b/
const BATCH_PREFIX = /^batch operation \d+: /

/** The abstract-level code for an `InvalidArgument`, or undefined for a bad option (a `TypeError`). */
const invalidArgumentCode = (error: { readonly method?: unknown; readonly description?: unknown }, phase: Phase): string | undefined => {
  const description = typeof error.description === "string" ? error.description.replace(BATCH_PREFIX, "") : ""
  if (phase === "open" || error.method === "open") {
    return /\b(?:createIfMissing is false|errorIfExists is true)\b/.test(description) ? "LEVEL_DATABASE_NOT_OPEN" : undefined
  }
  if (/snapshot was released|snapshot .*closed/i.test(description)) return "LEVEL_SNAPSHOT_NOT_OPEN"
  if (KEY_SUBJECT.test(description)) return "LEVEL_INVALID_KEY"
  if (VALUE_SUBJECT.test(description)) return "LEVEL_INVALID_VALUE"
  return undefined
}

/** Where an error arose: opening maps `InvalidArgument` differently. */
export type Phase = "open" | "operation"

/** The abstract-level error for what a stratadb operation failed with. */
export const toLevelError = (error: unknown, phase: Phase = "operation"): Error => {
  if (error instanceof StrataLevelError) return error
  const message = messageOf(error)
  switch (tagOf(error)) {
    case "stratadb/DbLocked":
      return new StrataLevelError(message, "LEVEL_LOCKED", error)
    case "stratadb/Corruption":
      return new StrataLevelError(message, "LEVEL_CORRUPTION", error)
    case "SystemError":
    case "BadArgument":
      return new StrataLevelError(message, "LEVEL_IO_ERROR", error)
    case "stratadb/NotSupported":
      return new StrataLevelError(message, "LEVEL_NOT_SUPPORTED", error)
    case "stratadb/DbClosed":
      return new StrataLevelError(message, "LEVEL_DATABASE_NOT_OPEN", error)
    case "stratadb/InvalidArgument": {
      const e = error as { method?: unknown; description?: unknown }
      const code = invalidArgumentCode(e, phase)
      if (code === "LEVEL_DATABASE_NOT_OPEN") {
        // LevelDB's wording ("does not exist", "exists"), which abstract-level's open tests match.
        const which = typeof e.description === "string" && e.description.includes("errorIfExists")
          ? "the database exists"
          : "the database does not exist"
        return new StrataLevelError(`${which}: ${message}`, code, error)
      }
      if (code !== undefined) return new StrataLevelError(message, code, error)
      return new TypeError(message, { cause: error })
    }
    default:
      return error instanceof Error ? error : new Error(message, { cause: error })
  }
}

/** The abstract-level error for a failed `Exit` (an interruption is an abort). */
export const exitError = <A, E>(exit: Exit.Exit<A, E>, phase: Phase = "operation"): Error => {
  if (Exit.isSuccess(exit)) return new Error("not a failure")
  const cause = exit.cause
  if (Cause.isInterruptedOnly(cause)) return new StrataAbortError()
  const failure = Cause.failureOption(cause)
  return toLevelError(failure._tag === "Some" ? failure.value : Cause.squash(cause), phase)
}
