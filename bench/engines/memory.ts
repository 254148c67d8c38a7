/**
 * An in-process `Map` "engine" for testing the harness itself (hidden from the default engine
 * list; `--engines memory` runs it). Nothing is written to disk: the maps live in this process,
 * one per directory, so a reopen finds the entries again. Scans sort the keys.
 */
import { Effect } from "effect"
import type { Engine, Handle } from "../engine.js"

const stores = new Map<string, Map<string, Buffer>>()

export const engine: Engine = {
  name: "memory",
  description: "a JavaScript Map (harness self-test, not a database)",
  durability: "none: in memory only",
  api: "Map.set / get / delete; scans sort the keys",
  open: (directory) =>
    Effect.sync((): Handle => {
      let map = stores.get(directory)
      if (map === undefined) {
        map = new Map<string, Buffer>()
        stores.set(directory, map)
      }
      const entries = map
      return {
        put: (key, value) => Effect.sync(() => void entries.set(key.toString("latin1"), value)),
        get: (key) => Effect.sync(() => entries.get(key.toString("latin1"))),
        del: (key) => Effect.sync(() => void entries.delete(key.toString("latin1"))),
        batch: (puts) =>
          Effect.sync(() => {
            for (const p of puts) entries.set(p.key.toString("latin1"), p.value)
          }),
        scan: (options, onEntry) =>
          Effect.sync(() => {
            const keys = [...entries.keys()].sort()
            if (options.reverse) keys.reverse()
            let seen = 0
            for (const k of keys) {
              seen++
              if (!onEntry(Buffer.from(k, "latin1"), entries.get(k)!)) break
            }
            return seen
          }),
        stats: Effect.succeed({ entries: entries.size })
      }
    })
}
