/**
 * The `stratadb` command: the root command and its subcommands (@effect/cli), run on Node.
 *
 * Exit codes: 0 done; 1 the command failed (an engine error, a key not found, a database another
 * process holds); 2 a usage error (an unknown command or option, a missing or malformed
 * argument); 130 interrupted (Ctrl-C). A failure is one line on stderr,
 * `stratadb <command>: <what went wrong>`; output goes to stdout, progress to stderr.
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { createRequire } from "node:module"
import { isDbError } from "../../errors.js"
import * as NodeSyncFileSystem from "../../NodeSyncFileSystem.js"
import { dbCommandNames, dbCommands } from "./dbCommands.js"
import { CommandFailed, UsageError } from "./errors.js"
import { printError } from "./output.js"
import { toolCommandNames, toolCommands } from "./toolCommands.js"

/** The package's version (package.json sits three levels up from src/internal/cli and dist/internal/cli). */
const version: string = (() => {
  try {
    return (createRequire(import.meta.url)("../../../package.json") as { version: string }).version
  } catch {
    return "unknown"
  }
})()

const root = Command.make("stratadb", {}, () =>
  Effect.fail(new UsageError({ message: "a command is required (stratadb --help lists them)" }))).pipe(
  Command.withDescription(
    "Inspect and operate a stratadb database: read and write keys, scan, stats, compact, estimate sizes, make consistent copies; verify, repair and dump its files offline."
  ),
  Command.withSubcommands([...dbCommands, ...toolCommands])
)

const cli = Command.run(root, { name: "stratadb", version })

/** ANSI escapes out, whitespace runs (line breaks included) to one space. */
const oneLine = (s: string): string =>
  s
    .replace(/\x1b\[[0-9;]*m/g, "")
    .replace(/\s+/g, " ")
    .trim()

const commandNames = new Set<string>([...dbCommandNames, ...toolCommandNames])

/** The command named in `argv` (the first word that is one), for the error line. */
const commandOf = (argv: ReadonlyArray<string>): string => {
  const found = argv.find((a) => commandNames.has(a))
  return found === undefined ? "stratadb" : `stratadb ${found}`
}

/** What went wrong, in one line, and the exit code. */
export const describeFailure = (error: unknown): { readonly message: string; readonly code: number } => {
  if (ValidationError.isValidationError(error)) {
    const text = "error" in error ? oneLine(HelpDoc.toAnsiText(error.error)) : "invalid arguments"
    return { message: text === "" ? "invalid arguments" : text, code: 2 }
  }
  if (error instanceof UsageError) return { message: error.message, code: 2 }
  if (error instanceof CommandFailed) return { message: error.message, code: 1 }
  if (isDbError(error)) {
    switch (error._tag) {
      case "stratadb/DbLocked":
        return {
          message: error.description.startsWith("held by ")
            ? `${error.directory} is in use by another process: its LOCK is ${error.description}`
            : `${error.directory} is in use by another process (${error.description})`,
          code: 1
        }
      case "stratadb/InvalidArgument":
        return { message: error.description, code: 1 }
      default:
        return { message: error.message, code: 1 }
    }
  }
  if (error instanceof Error) return { message: oneLine(error.message), code: 1 }
  return { message: oneLine(String(error)), code: 1 }
}

/**
 * Runs the command line `argv` (as `process.argv`: the runtime and the script first) and
 * answers the exit code, having printed any failure as one line. The parser's own error pages
 * are silenced (they are several lines): the line here says the same.
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  cli(argv).pipe(
    // What @effect/cli needs (FileSystem, Path, Terminal), over stratadb's Node file system.
    Effect.provide(NodeSyncFileSystem.layerContext),
    Effect.withConsole(quietErrors),
    Effect.as(0),
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.succeed(130)
      const failure = Cause.failureOption(cause)
      const { code, message } = Option.isSome(failure)
        ? describeFailure(failure.value)
        : describeFailure(Option.getOrElse(Cause.dieOption(cause), () => Cause.pretty(cause)))
      return Effect.as(printError(`${commandOf(argv.slice(2))}: ${message}`), code)
    })
  )

/** The default console with `error` silenced (where @effect/cli prints its multi-line error pages). */
const quietErrors: Console.Console = (() => {
  const base = Effect.runSync(Effect.console)
  return { ...base, error: () => Effect.void, unsafe: { ...base.unsafe, error: () => {} } }
})()

/** The process: runs `process.argv`, exits with its code. */
export const main = (): void =>
  NodeRuntime.runMain(run(process.argv), {
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      onExit(Exit.isSuccess(exit) ? (exit.value as number) : Cause.isInterruptedOnly(exit.cause) ? 130 : 1)
  })
