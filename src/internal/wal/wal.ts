/**
 * The `Wal` service: the write-ahead log. One log file at a time is open for appends; a record
 * holds one write batch (doc/log_format.md). `append` hands the framed bytes to the OS before it
 * returns (a write survives `kill -9`); `sync` makes them durable (power loss).
 * `replay` reads a log back: its whole records up to a torn tail or damage, and which it was
 * (recovery decides what each means, by `walRecoveryMode`).
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { FileSystem, type File } from "@effect/platform/FileSystem"
import { Buffer } from "node:buffer"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import { DbConfig } from "../dbConfig.js"
import { syncDirectory } from "../fs/fileIo.js"
import { logFileName } from "../fs/fileNames.js"
import { hasSyncAppend, SyncAppend, type SyncAppendFile } from "../fs/fileCapabilities.js"
import { LogWriter } from "../record/logWriter.js"
import { type LogReadResult, readLog } from "../record/logReader.js"

export interface Wal {
  /** Starts log `number`; the previous log file is synced and closed. */
  readonly open: (number: number) => Effect.Effect<void, PlatformError>
  /**
   * Appends records (batch payloads) with one write. When the log file's handle appends
   * synchronously (`SyncAppend`) the write is done on return: undefined, or the error. Otherwise
   * the effect that writes.
   */
  readonly append: (payloads: ReadonlyArray<Uint8Array>) => undefined | PlatformError | Effect.Effect<void, PlatformError>
  /** Makes every appended record durable. */
  readonly sync: Effect.Effect<void, PlatformError>
  /** The records of log `number`, in order, with the file offset of each, and how the file ends. */
  readonly replay: (number: number) => Effect.Effect<LogRecords, PlatformError>
  /** Bytes appended since open. */
  readonly bytesWritten: () => number
}

/** A log read back (its whole records, where each starts, how the file ends) and the file's size. */
export interface LogRecords extends LogReadResult {
  readonly size: number
}

export const Wal = Context.GenericTag<Wal>("stratadb/Wal")

export const make: Effect.Effect<Wal, never, DbConfig | FileSystem | Scope.Scope> = Effect.gen(function* () {
  const config = yield* DbConfig
  const fs = yield* FileSystem
  const outer = yield* Scope.Scope

  let file: File | undefined
  let syncFile: SyncAppendFile | undefined
  let fileScope: Scope.CloseableScope | undefined
  let writer = new LogWriter(0)
  let written = 0
  /** False until the directory entry of the current log is made durable (at its first sync). */
  let entrySynced = false

  const closeCurrent = Effect.suspend(() => {
    const f = file
    const s = fileScope
    file = undefined
    syncFile = undefined
    fileScope = undefined
    if (f === undefined || s === undefined) return Effect.void
    return f.sync.pipe(Effect.ensuring(Scope.close(s, Exit.void)))
  })

  const open = (n: number) =>
    Effect.gen(function* () {
      const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      const handle = yield* fs.open(config.file(logFileName(n)), { flag: "a" }).pipe(
        Scope.extend(scope),
        Effect.tapError(() => Scope.close(scope, Exit.void))
      )
      yield* closeCurrent
      file = handle
      syncFile = hasSyncAppend(handle) ? handle : undefined
      fileScope = scope
      writer = new LogWriter(0)
      entrySynced = false
    })

  const append = (payloads: ReadonlyArray<Uint8Array>): undefined | PlatformError | Effect.Effect<void, PlatformError> => {
    const f = file
    if (f === undefined) return Effect.dieMessage("wal not open")
    // A lone record appended synchronously is written before this returns: the writer's reused
    // buffer will do (no fresh memory per record).
    const framed = payloads.length > 1
      ? Buffer.concat(payloads.map((p) => writer.frame(p)))
      : syncFile === undefined ? writer.frame(payloads[0]!) : writer.frameReusing(payloads[0]!)
    written += framed.byteLength
    if (syncFile === undefined) return f.writeAll(framed)
    try {
      syncFile[SyncAppend](framed)
      return undefined
    } catch (error) {
      if (isPlatformError(error)) return error
      throw error
    }
  }

  const replay = (n: number) =>
    Effect.map(fs.readFile(config.file(logFileName(n))), (bytes): LogRecords => ({ ...readLog(bytes), size: bytes.length }))

  yield* Effect.addFinalizer(() => closeCurrent.pipe(Effect.ignore))

  return Wal.of({
    open,
    append,
    sync: Effect.suspend(() => {
      if (file === undefined) return Effect.void
      if (entrySynced) return file.sync
      // A synced record in a log whose name could vanish at power loss would not be durable.
      return Effect.zipRight(file.sync, syncDirectory(config.directory)).pipe(
        Effect.provideService(FileSystem, fs),
        Effect.tap(() => Effect.sync(() => (entrySynced = true)))
      )
    }),
    replay,
    bytesWritten: () => written
  })
})

export const layer: Layer.Layer<Wal, never, DbConfig | FileSystem> = Layer.scoped(Wal, make)
