// A plain-Node consumer of the packed stratadb: open, put, get, batch, scan, reopen.
import { Chunk, Effect, Option, Stream } from "effect"
import { Db, WriteBatch } from "stratadb"
import * as StrataKeyValueStore from "stratadb/KeyValueStore"
import { KeyValueStore } from "@effect/platform"
import { StrataLevel } from "stratadb/level"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const directory = mkdtempSync(join(tmpdir(), "stratadb-consumer-"))
const text = (bytes) => new TextDecoder().decode(bytes)
const run = (effect) => Effect.runPromise(effect.pipe(Effect.provide(Db.layerNode({ directory }))))

await run(Effect.gen(function* () {
  const db = yield* Db
  yield* db.put("a", "1")
  yield* db.write(WriteBatch.make().put("b", "2").put("c", "3").delete("a"))
  yield* db.put("d", "4", { sync: true })
  const b = yield* db.get("b")
  if (Option.getOrThrow(Option.map(b, text)) !== "2") throw new Error("get b")
}))

const entries = await run(Effect.gen(function* () {
  const db = yield* Db
  const chunk = yield* Stream.runCollect(db.scan())
  return Chunk.toArray(chunk).map((e) => `${text(e.key)}=${text(e.value)}`)
}))
if (entries.join(",") !== "b=2,c=3,d=4") throw new Error(`after reopen: ${entries.join(",")}`)
const kvDirectory = mkdtempSync(join(tmpdir(), "stratadb-consumer-kv-"))
const greeting = await Effect.runPromise(
  Effect.gen(function* () {
    const kv = yield* KeyValueStore.KeyValueStore
    yield* kv.set("greeting", "hello")
    return yield* kv.get("greeting")
  }).pipe(Effect.provide(StrataKeyValueStore.layerNode({ directory: kvDirectory })))
)
if (Option.getOrNull(greeting) !== "hello") throw new Error("KeyValueStore get")
// The level bridge, as a classic-level user would write it.
const levelDirectory = mkdtempSync(join(tmpdir(), "stratadb-consumer-level-"))
const level = new StrataLevel(levelDirectory, { valueEncoding: "json" })
await level.put("a", { n: 1 })
await level.batch([{ type: "put", key: "b", value: { n: 2 } }, { type: "del", key: "a" }])
const levelEntries = await level.iterator().all()
await level.close()
const reopenedLevel = new StrataLevel(levelDirectory, { valueEncoding: "json" })
const b = await reopenedLevel.get("b")
await reopenedLevel.close()
if (JSON.stringify(levelEntries) !== '[["b",{"n":2}]]' || b?.n !== 2) throw new Error(`level: ${JSON.stringify(levelEntries)}`)
console.log(`stratadb consumer ok: ${entries.join(",")}; KeyValueStore ok; stratadb/level ok`)
