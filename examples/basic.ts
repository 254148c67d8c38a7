import { Console, Effect, Option, Stream } from "effect"
import { pathToFileURL } from "node:url"
import { Db, WriteBatch } from "stratadb"

const decode = (b: Uint8Array) => new TextDecoder().decode(b)

export const program = Effect.gen(function* () {
  const db = yield* Db
  yield* db.put("session:user123", '{"token":"abc"}')            // string or Uint8Array
  const v = yield* db.get("session:user123")                      // Option<Uint8Array>
  yield* Console.log("get session:user123 ->", Option.map(v, decode))
  yield* db.delete("session:user456")
  yield* db.write(WriteBatch.make().put("a", "1").delete("b"))     // atomic
  yield* db.put("important", "value", { sync: true })             // durable across power loss
  yield* db.scan({ prefix: "session:", limit: 10 }).pipe(          // a Stream of { key, value }
    Stream.runForEach((e) => Console.log("scan", decode(e.key), "=", decode(e.value)))
  )
})

// Opening the directory again finds the writes.
export const reopened = Effect.gen(function* () {
  const db = yield* Db
  const v = yield* db.get("session:user123")
  yield* Console.log("after reopen, session:user123 ->", Option.map(v, decode))
  return Option.map(v, decode)
})

// Run as a script: `npm run example [directory]`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const directory = process.argv[2] ?? `./.tmp/example-${Date.now()}`
  const run = <A, E>(effect: Effect.Effect<A, E, Db>) =>
    effect.pipe(
      Effect.provide(Db.layerNode({ directory })),  // closing the layer's scope closes the database
      Effect.runPromise
    )
  await run(program)
  await run(reopened)
}
