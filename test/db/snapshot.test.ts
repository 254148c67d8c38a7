/**
 * Snapshots are opaque and bound to the database that made them: a read refuses an object made by
 * hand, another database's snapshot and a released one, whatever sequence they stand for.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Exit, Scope, Stream } from "effect"
import type { DbService, ReadOptions, Snapshot } from "../../src/Db.js"
import type { DbError } from "../../src/errors.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { text, textOf, withDb } from "../support.js"

/** Every read that takes a snapshot, with `options`; each must fail with `InvalidArgument` saying `why`. */
const refusedEverywhere = (db: DbService, options: ReadOptions, why: RegExp) =>
  Effect.gen(function* () {
    const reads: Array<[string, Effect.Effect<unknown, DbError>]> = [
      ["get", db.get("k", options)],
      ["getMany", db.getMany(["k"], options)],
      ["has", db.has("k", options)],
      ["scan", Stream.runCollect(db.scan(options))],
      ["cursor", Effect.scoped(db.cursor(options))],
      ["getSync", Effect.suspend(() => db.getSync("k", options))]
    ]
    for (const [name, read] of reads) {
      const r = yield* Effect.either(read)
      assert.isTrue(Either.isLeft(r), `${name} read with a bad snapshot`)
      if (Either.isLeft(r)) {
        assert.strictEqual(r.left._tag, "stratadb/InvalidArgument", `${name}: ${String(r.left)}`)
        assert.match(r.left.message, why, name)
      }
    }
  })

describe("snapshots", () => {
  it.effect("an object made by hand is not a snapshot, whatever sequence it names", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/forged" }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 10; i++) yield* db.put("k", `v${i}`)
          // A live snapshot pins sequence 5's neighbourhood: a forged object naming a pinned
          // sequence is refused too, not only one naming an unpinned one.
          yield* Effect.scoped(
            Effect.gen(function* () {
              yield* db.snapshot
              const sequence = (yield* db.stats).lastSequence
              for (const forged of [{ sequence: 5 }, { sequence }, Object.create(null), new Proxy({}, {})]) {
                yield* refusedEverywhere(db, { snapshot: forged as Snapshot }, /not a snapshot of this database/)
              }
            })
          )
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a snapshot of database A is refused by database B, even at the same sequence", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/a" }, (a) =>
        withDb({ directory: "/b" }, (b) =>
          Effect.gen(function* () {
            yield* a.put("k", "a")
            yield* b.put("k", "b")
            yield* Effect.scoped(
              Effect.gen(function* () {
                const fromA = yield* a.snapshot
                const fromB = yield* b.snapshot
                assert.strictEqual((yield* a.stats).lastSequence, (yield* b.stats).lastSequence)
                yield* refusedEverywhere(b, { snapshot: fromA }, /not a snapshot of this database/)
                yield* refusedEverywhere(a, { snapshot: fromB }, /not a snapshot of this database/)
                // Each reads its own.
                assert.strictEqual(textOf(yield* a.get("k", { snapshot: fromA })), "a")
                assert.strictEqual(textOf(yield* b.get("k", { snapshot: fromB })), "b")
              })
            )
          })
        )
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a released snapshot is refused, even while another snapshot holds the same point in time", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/released" }, (db) =>
        Effect.gen(function* () {
          yield* db.put("k", "old")
          const scope = yield* Scope.make()
          const released = yield* db.snapshot.pipe(Scope.extend(scope))
          const held = yield* Effect.scoped(
            Effect.gen(function* () {
              const twin = yield* db.snapshot // the same sequence as `released`
              yield* db.put("k", "new")
              assert.strictEqual(textOf(yield* db.get("k", { snapshot: released })), "old")
              yield* Scope.close(scope, Exit.void)
              yield* refusedEverywhere(db, { snapshot: released }, /the snapshot was released/)
              // The twin still reads at that point in time.
              assert.strictEqual(textOf(yield* db.get("k", { snapshot: twin })), "old")
              const scanned = yield* Stream.runCollect(db.scan({ snapshot: twin }))
              assert.deepStrictEqual(Chunk.toArray(scanned).map((e) => text(e.value)), ["old"])
              return twin
            })
          )
          yield* refusedEverywhere(db, { snapshot: held }, /the snapshot was released/)
        })
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )

  it.effect("a snapshot shows nothing of its point in time: no sequence to read or forge", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/opaque" }, (db) =>
        Effect.scoped(
          Effect.gen(function* () {
            yield* db.put("k", "v")
            const snapshot = yield* db.snapshot
            assert.deepStrictEqual(Object.keys(snapshot), [])
            assert.isUndefined((snapshot as unknown as { sequence?: unknown }).sequence)
            assert.isTrue(Object.isFrozen(snapshot))
            // A copy of it is an object made by hand.
            yield* refusedEverywhere(db, { snapshot: { ...snapshot } }, /not a snapshot of this database/)
          })
        )
      )
    }).pipe(Effect.provide(MemoryFileSystem.layer))
  )
})
