/**
 * The model test: random sequences of puts, deletes, batches, gets, flushes and reopens against
 * a `Map`. After every step the database answers exactly as the model does.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Scope, Exit } from "effect"
import { Db, type DbService } from "../src/Db.js"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import type { DbOptions } from "../src/Options.js"
import { WriteBatch } from "../src/WriteBatch.js"
import { textOf } from "./support.js"

type Op =
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "batch"; readonly entries: ReadonlyArray<{ readonly key: string; readonly value: string | null }> }
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "flush" }
  | { readonly op: "reopen" }

const keyArb = fc.integer({ min: 0, max: 40 }).map((i) => `key-${String(i).padStart(3, "0")}`)
const valueArb = fc.string({ maxLength: 300 })
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant("put" as const), key: keyArb, value: valueArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), key: keyArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("batch" as const),
      entries: fc.array(fc.record({ key: keyArb, value: fc.option(valueArb, { nil: null }) }), { maxLength: 8 })
    })
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("get" as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ op: "flush" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "reopen" as const }) }
)

/** Runs `ops` against a database on `options` and a Map, checking every read and the end state. */
export const runModel = (ops: ReadonlyArray<Op>, options: DbOptions) =>
  Effect.gen(function* () {
    const model = new Map<string, string>()
    let scope = yield* Scope.make()
    let db: DbService = yield* Db.make(options).pipe(Scope.extend(scope))
    const checkAll = Effect.gen(function* () {
      for (let i = 0; i <= 40; i++) {
        const key = `key-${String(i).padStart(3, "0")}`
        assert.strictEqual(textOf(yield* db.get(key)), model.get(key), `final state of ${key}`)
      }
    })
    for (const op of ops) {
      switch (op.op) {
        case "put":
          yield* db.put(op.key, op.value)
          model.set(op.key, op.value)
          break
        case "delete":
          yield* db.delete(op.key)
          model.delete(op.key)
          break
        case "batch": {
          const batch = WriteBatch.make()
          for (const e of op.entries) {
            if (e.value === null) batch.delete(e.key)
            else batch.put(e.key, e.value)
          }
          yield* db.write(batch)
          for (const e of op.entries) {
            if (e.value === null) model.delete(e.key)
            else model.set(e.key, e.value)
          }
          break
        }
        case "get":
          assert.strictEqual(textOf(yield* db.get(op.key)), model.get(op.key), `get ${op.key}`)
          break
        case "flush":
          yield* db.flush
          break
        case "reopen":
          yield* Scope.close(scope, Exit.void)
          scope = yield* Scope.make()
          db = yield* Db.make(options).pipe(Scope.extend(scope))
          break
      }
    }
    yield* checkAll
    yield* Scope.close(scope, Exit.void)
  })

let run = 0
describe("model", () => {
  it.effect.prop(
    "random operations agree with a Map",
    [fc.array(opArb, { minLength: 1, maxLength: 250 })],
    ([ops]) =>
      runModel(ops, { directory: `/model-${run++}`, writeBufferSize: 4096, blockSize: 256 }).pipe(
        Effect.provide(MemoryFileSystem.layer)
      ),
    { fastCheck: { numRuns: 60 } }
  )
})
