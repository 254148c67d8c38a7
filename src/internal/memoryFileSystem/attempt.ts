/**
 * Runs synchronous filesystem code that signals failure by throwing a `PlatformError`: the error
 * becomes the effect's failure; anything else thrown is a defect.
 */
import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import { Effect } from "effect"

export const attempt = <A>(body: () => A): Effect.Effect<A, PlatformError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(body())
    } catch (error) {
      if (isPlatformError(error)) return Effect.fail(error)
      throw error
    }
  })
