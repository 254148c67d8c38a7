/**
 * The command line's own failures, besides the engine's errors: each becomes one line on stderr
 * (main.ts). `UsageError`: a bad argument (exit code 2, like the parser's own errors);
 * `CommandFailed`: the command could not do what was asked (exit code 1).
 */
import { Data } from "effect"

export class UsageError extends Data.TaggedError("stratadb/cli/UsageError")<{ readonly message: string }> {}

export class CommandFailed extends Data.TaggedError("stratadb/cli/CommandFailed")<{ readonly message: string }> {}
