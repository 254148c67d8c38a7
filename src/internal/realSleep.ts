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
