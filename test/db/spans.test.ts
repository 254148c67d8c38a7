/**
 * Spans (`Effect.withSpan`) on the engine's long steps, never on point operations: open,
 * recovery, flush and compaction, each with its attributes. A tracer that records the spans the
 * default one makes shows which ran.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Tracer } from "effect"
import { withDb } from "../support.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"

const key = (i: number) => `key-${String(i).padStart(6, "0")}`

describe("spans", () => {
  it.effect("open, recovery, flush and compaction each run in a span with their attributes; gets and puts make none", () =>
    Effect.gen(function* () {
      const inner = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const recording = Tracer.make({
        span: (...args) => {
          const span = inner.span(...args)
          spans.push(span)
          return span
        },
        context: inner.context
      })
      const options = { directory: "/spans", writeBufferSize: 16 * 1024, blockSize: 1024, backgroundCompaction: false }
      const engineSpans = () => spans.filter((s) => s.name.startsWith("stratadb."))
      yield* withDb(options, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 600; i++) yield* db.put(key(i), `value-${i}`.padEnd(50, "v"))
          for (let i = 0; i < 100; i++) yield* db.get(key(i))
          yield* db.flush
          yield* db.compactRange()
        })
      ).pipe(Effect.withTracer(recording), Effect.provide(MemoryFileSystem.layer))

      const named = (name: string) => engineSpans().filter((s) => s.name === name)
      assert.deepStrictEqual([...new Set(engineSpans().map((s) => s.name))].sort(), [
        "stratadb.compaction",
        "stratadb.flush",
        "stratadb.open",
        "stratadb.recovery"
      ])
      assert.strictEqual(named("stratadb.open").length, 1)
      assert.strictEqual(named("stratadb.open")[0]!.attributes.get("directory"), "/spans")
      assert.strictEqual(named("stratadb.recovery")[0]!.attributes.get("recordsReplayed"), 0)
      const flushes = named("stratadb.flush")
      assert.isAbove(flushes.length, 1)
      for (const f of flushes) {
        assert.isAbove(f.attributes.get("entries") as number, 0)
        assert.isAbove(f.attributes.get("tableBytes") as number, 0)
        assert.strictEqual(f.status._tag, "Ended")
      }
      const compactions = named("stratadb.compaction")
      assert.isAbove(compactions.length, 0)
      for (const c of compactions) {
        assert.isNumber(c.attributes.get("level"))
        assert.isNumber(c.attributes.get("outputLevel"))
        assert.isAbove(c.attributes.get("inputs") as number, 0)
      }
      // Point operations make no span: all the engine's spans are the four kinds above, and far
      // fewer than the 700 operations.
      assert.isBelow(engineSpans().length, 100)
    }))
})
