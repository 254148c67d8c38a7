import { KeyValueStore } from "@effect/platform"
import { Console, Effect, Option, Schema } from "effect"
import { pathToFileURL } from "node:url"
import * as StrataKeyValueStore from "stratadb/KeyValueStore"

class Session extends Schema.Class<Session>("Session")({ user: Schema.String, expires: Schema.Number }) {}

// Code written against Effect's KeyValueStore, unchanged: stratadb only provides the layer.
export const program = Effect.gen(function* () {
  const kv = yield* KeyValueStore.KeyValueStore
  yield* kv.set("greeting", "hello")
  const sessions = KeyValueStore.prefix(kv.forSchema(Session), "session/")
  yield* sessions.set("abc", new Session({ user: "ada", expires: 1_900_000_000 }))
  const session = yield* sessions.get("abc")
  yield* Console.log("session/abc ->", Option.map(session, (s) => s.user))
  return { greeting: yield* kv.get("greeting"), entries: yield* kv.size }
})

// Run as a script: `npm run example:kv [directory]`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const directory = process.argv[2] ?? `./.tmp/kv-example-${Date.now()}`
  const result = await program.pipe(Effect.provide(StrataKeyValueStore.layerNode({ directory })), Effect.runPromise)
  console.log(result)
}
