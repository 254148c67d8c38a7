/**
 * A sleep on the real timer, not on Effect's `Clock`: the engine's write slowdown must keep
 * real time even when the program runs under a test clock (which only moves when told to).
 */
import { Effect } from "effect"

export const realSleep = (millis: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

/**
 * The same, on a timer that does not keep the process alive (`unref`): for periodic work a
 * program that is done must not wait for (a database left open at exit).
 */
export const realSleepUnref = (millis: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    timer.unref?.()
    return Effect.sync(() => clearTimeout(timer))
  })

/**
 * Gives the thread to everything else that is ready: other fibers, and the event loop's I/O
 * callbacks (an fsync the background fiber waits on). `Effect.yieldNow` only reaches the other
 * fibers: Effect's scheduler turns the event loop once in thousands of yields.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})
