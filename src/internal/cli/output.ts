/**
 * Writing the command's output to stdout: chunks of lines, waiting for the stream to drain when
 * its buffer is full (a scan of millions of entries piped into another program does not pile up
 * in memory). A reader that goes away (`stratadb scan ... | head`) ends the process quietly: a
 * broken pipe is not an error of the command.
 */
import { Effect } from "effect"

let pipeWatched = false

const watchBrokenPipe = (): void => {
  if (pipeWatched) return
  pipeWatched = true
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0)
    throw error
  })
}

/** Writes `text` to stdout; resumes once it is buffered below the stream's high-water mark. */
export const writeStdout = (text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    watchBrokenPipe()
    if (process.stdout.write(text)) resume(Effect.void)
    else process.stdout.once("drain", () => resume(Effect.void))
  })

/** Writes `line` and a newline to stdout. */
export const printLine = (line: string): Effect.Effect<void> => writeStdout(`${line}\n`)

/** Writes `line` and a newline to stderr (diagnostics, the one line of an error). */
export const printError = (line: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(`${line}\n`))
