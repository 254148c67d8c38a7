// A strict TypeScript consumer of the packed stratadb's declarations.
import { Effect, Layer, Option, Stream } from "effect"
import type { KeyValueStore } from "@effect/platform/KeyValueStore"
import * as StrataKeyValueStore from "stratadb/KeyValueStore"
import { StrataLevel } from "stratadb/level"
import { Db, type DbOptions, type DbStats, InvalidArgument, MemoryFileSystem, WriteBatch } from "stratadb"

const options: DbOptions = { directory: "/db", writeBufferSize: 64 * 1024, walRecoveryMode: "tolerateTornTail" }

export const program: Effect.Effect<DbStats, unknown, Db> = Effect.gen(function* () {
  const db = yield* Db
  yield* db.put("k", new Uint8Array([1, 2, 3]))
  yield* db.write(WriteBatch.make().put("a", "1").delete("k"), { sync: true })
  const value: Option.Option<Uint8Array> = yield* db.get("a")
  const first = value.pipe(Option.map((bytes) => bytes[0]))
  yield* Stream.runDrain(db.scan({ prefix: "a", limit: 1 }))
  yield* Effect.log(first)
  return yield* db.stats
})

export const inMemory: Layer.Layer<Db, unknown> = Db.layer(options).pipe(Layer.provide(MemoryFileSystem.layer))
export const onNode: Layer.Layer<Db, unknown> = Db.layerNode(options)
export const isBad = (e: unknown): boolean => e instanceof InvalidArgument
export const store: Layer.Layer<KeyValueStore, unknown> = StrataKeyValueStore.layerNode(options)

// The level bridge: abstract-level's types, generic over the encodings.
export const openLevel = async (location: string): Promise<string | undefined> => {
  const level = new StrataLevel<string, string>(location, { keyEncoding: "utf8", valueEncoding: "utf8", writeBufferSize: 1 << 20 })
  await level.put("k", "v")
  const value: string | undefined = await level.get("k")
  const sync: string | undefined = level.getSync("k")
  await level.close()
  return value ?? sync
}
