/**
 * Running engine effects from abstract-level's promise API: failures become abstract-level errors
 * (`errors.ts`) rather than Effect's `FiberFailure`, and an aborted `AbortSignal` interrupts the
 * effect and rejects with `LEVEL_ABORTED`.
 */
import { Buffer } from "node:buffer"
import { Effect, Exit } from "effect"
import { exitError, type Phase, StrataAbortError } from "./errors.js"

/** Runs `effect`; resolves with its value or rejects with the abstract-level error. Starts at once. */
export const run = <A, E>(effect: Effect.Effect<A, E>, phase: Phase = "operation"): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    Effect.runCallback(effect, {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) resolve(exit.value)
        else reject(exitError(exit, phase))
      }
    })
  })

/**
 * `run` under an abort signal. The effect starts after a microtask, so an abort made right after
 * the call (in the same tick) wins even when the engine would answer at once; an abort while the
 * effect runs interrupts it. Either way the promise rejects with `LEVEL_ABORTED`.
 */
export const runAbortable = async <A, E>(effect: Effect.Effect<A, E>, signal: AbortSignal): Promise<A> => {
  await undefined
  if (signal.aborted) throw new StrataAbortError(signal.reason)
  return new Promise<A>((resolve, reject) => {
    let done = false
    const onAbort = () => {
      if (!done) cancel()
    }
    const cancel = Effect.runCallback(effect, {
      onExit: (exit) => {
        done = true
        signal.removeEventListener("abort", onAbort)
        if (Exit.isSuccess(exit)) resolve(exit.value)
        else reject(exitError(exit))
      }
    })
    if (!done) signal.addEventListener("abort", onAbort, { once: true })
  })
}

/** Runs a synchronous effect; returns its value or throws the abstract-level error. */
export const runSync = <A, E>(effect: Effect.Effect<A, E>, phase: Phase = "operation"): A => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  throw exitError(exit, phase)
}

/** The private API's data formats (abstract-level's `keyEncoding` / `valueEncoding` there). */
export type Format = "utf8" | "buffer" | "view"

/** The bytes as a `Buffer`, without copying. */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const toUtf8 = (bytes: Uint8Array): string => asBuffer(bytes).toString("utf8")
const toView = (bytes: Uint8Array): Uint8Array => bytes

/** Engine bytes as the private API's `format`: a string for utf8, a `Buffer` for buffer, the view for view. */
export const decoderFor = (format: unknown): (bytes: Uint8Array) => string | Uint8Array =>
  format === "utf8" ? toUtf8 : format === "buffer" ? asBuffer : toView
