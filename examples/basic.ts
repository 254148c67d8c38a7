/**
 * The README's example as a program: writes, reads, a batch, a scan, then reopens the database
 * and shows that everything is still there. Run: `npx tsx examples/basic.ts [directory]`.
 */
import { NodeContext } from "@effect/platform-node"
import { Console, Effect, Option, Stream } from "effect"
import { Db, WriteBatch } from "../src/index.js"

const decode = (b: Uint8Array) => new TextDecoder().decode(b)

export const program = Effect.gen(function* () {
  const db = yield* Db
  yield* db.put("session:user123", '{"token":"abc"}')
  const v = yield* db.get("session:user123")
  yield* Console.log("get session:user123 ->", Option.map(v, decode))
  yield* db.delete("session:user456")
  yield* db.write(WriteBatch.make().put("a", "1").delete("b"))
  yield* db.put("important", "value", { sync: true })
  yield* db.scan({ prefix: "session:", limit: 10 }).pipe(
    Stream.runForEach((e) => Console.log("scan", decode(e.key), "=", decode(e.value)))
  )
})

export const reopened = Effect.gen(function* () {
  const db = yield* Db
  const v = yield* db.get("session:user123")
  yield* Console.log("after reopen, session:user123 ->", Option.map(v, decode))
  return Option.map(v, decode)
})

if (import.meta.url === `file://${process.argv[1]}`) {
  const directory = process.argv[2] ?? `./.tmp/example-${Date.now()}`
  await Effect.runPromise(program.pipe(Effect.provide(Db.layer({ directory })), Effect.provide(NodeContext.layer)))
  await Effect.runPromise(reopened.pipe(Effect.provide(Db.layer({ directory })), Effect.provide(NodeContext.layer)))
}
