/**
 * The engine's Effect metrics (`Metrics.ts`): after known operations the counters count them, the
 * histograms hold one sample per timed operation, the gauges show what `stats` shows; databases in
 * one process keep their series apart; disabled metrics publish nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Metric } from "effect"
import * as Metrics from "../../src/Metrics.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { Db, type DbService } from "../../src/Db.js"
import { WriteBatch } from "../../src/WriteBatch.js"
import type { DbOptions } from "../../src/Options.js"
import { withDb } from "../support.js"
import { InvalidArgument } from "../../src/errors.js"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repository = fileURLToPath(new URL("../..", import.meta.url))

/** Runs test/fixtures/openAndLeave.ts; its exit code and output, or "timeout" after `ms`. */
const openAndLeave = (directory: string, ms: number) =>
  new Promise<{ code: number | null; output: string } | "timeout">((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/openAndLeave.ts", directory], { cwd: repository })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString()))
    child.stderr.on("data", (c: Buffer) => (output += c.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      resolve("timeout")
    }, ms)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })

const key = (i: number) => `key-${String(i).padStart(6, "0")}`
const value = (i: number) => `value-${i}`.padEnd(50, "v")

const counter = (m: Metric.Metric.Counter<number>) => Effect.map(Metric.value(m), (s) => s.count)
const gauge = (m: Metric.Metric.Gauge<number>) => Effect.map(Metric.value(m), (s) => s.value)
const samples = (m: Metric.Metric.Histogram<number>) => Effect.map(Metric.value(m), (s) => s.count)

/** The databases' labels present in the registry for `name`. */
const labelsOf = (name: string) =>
  Effect.map(Metric.snapshot, (pairs) =>
    pairs
      .filter((p) => p.metricKey.name === name)
      .map((p) => p.metricKey.tags.find((t) => t.key === Metrics.DATABASE_LABEL)?.value))

/** The publisher's interval in these tests: it sleeps on the real timer. */
const INTERVAL_MILLIS = 20

/** Lets the publisher's fiber run its next round (a few of its intervals pass, in real time). */
const publishRound = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5 * INTERVAL_MILLIS)))

const open = <A, E>(options: DbOptions, metrics: Metrics.MetricsOptions, f: (db: DbService) => Effect.Effect<A, E>) =>
  withDb(options, f).pipe(Effect.provide(Layer.merge(MemoryFileSystem.layer, Metrics.layer({ interval: INTERVAL_MILLIS, ...metrics }))))

describe("metrics", () => {
  it.effect("counters, histograms and gauges match what happened and what stats reports", () =>
    Effect.gen(function* () {
      const options = { directory: "/metrics-known", writeBufferSize: 16 * 1024, blockSize: 1024, bloomBitsPerKey: 2, backgroundCompaction: false }
      const m = Metrics.forDatabase("/metrics-known")
      yield* open(options, { latencySampling: 1 }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 600; i++) yield* db.put(key(i), value(i))
          yield* db.write(WriteBatch.make().put(key(600), value(600)).put(key(601), value(601)).delete(key(50)))
          for (let i = 0; i < 40; i++) yield* db.delete(key(i))
          yield* db.flush
          yield* db.compactRange()
          // Present keys (one table each holds them, all in one level), and absent keys inside the
          // tables' ranges, which only the bloom filters (2 bits a key: many false positives) or a
          // block search rule out.
          for (let i = 100; i < 200; i++) assert.isTrue(yield* db.has(key(i)))
          for (let i = 100; i < 200; i++) assert.isFalse(yield* db.has(`${key(i)}x`))
          for (let i = 200; i < 210; i++) assert.isTrue(Exit.isSuccess(Exit.fromEither(db.getSync(key(i)))))
          yield* db.getMany([key(300), key(301), key(302), key(303), key(304)])

          yield* publishRound
          const s = yield* db.stats

          assert.strictEqual(yield* counter(m.puts), 602)
          assert.strictEqual(yield* counter(m.deletes), 41)
          assert.strictEqual(yield* counter(m.gets), 215)
          assert.strictEqual(s.gets, 215)
          assert.strictEqual(yield* counter(m.tableReads), s.tableReads)
          assert.strictEqual(yield* counter(m.userBytesWritten), s.userBytesWritten)
          assert.strictEqual(yield* counter(m.walBytesWritten), s.walBytesWritten)
          assert.strictEqual(yield* counter(m.flushBytesWritten), s.flushBytesWritten)
          assert.strictEqual(yield* counter(m.compactionBytesRead), s.compactionBytesRead)
          assert.strictEqual(yield* counter(m.compactionBytesWritten), s.compactionBytesWritten)
          assert.isAbove(s.flushes, 1)
          assert.isAbove(s.compactions, 0)
          assert.strictEqual(yield* counter(m.flushes), s.flushes)
          assert.strictEqual(yield* counter(m.compactions), s.compactions)
          assert.strictEqual(yield* counter(m.writeSlowdowns), s.slowdowns)
          assert.strictEqual(yield* counter(m.stallMicros), s.stallMicros)
          // Writers wait for the flush fiber here (16 KiB memtables): time stalled goes with it.
          if ((yield* counter(m.writeStops)) > 0) assert.isAbove(s.stallMicros, 0)
          assert.strictEqual(yield* counter(m.blockCacheHits), s.blockCache.hits)
          assert.strictEqual(yield* counter(m.blockCacheMisses), s.blockCache.misses)
          assert.isAbove(s.blockCache.hits + s.blockCache.misses, 0)
          assert.strictEqual(yield* counter(m.bloomUseful), s.bloomNegatives)
          // Every check the filters passed is a present key found (115 of them) or a false positive.
          const falsePositives = yield* counter(m.bloomFalsePositives)
          assert.isAbove(falsePositives, 0)
          assert.strictEqual(falsePositives, s.bloomChecks - s.bloomNegatives - 115)

          // Every operation timed (latencySampling 1); each flush and compaction.
          assert.strictEqual(yield* samples(m.putLatency), 600)
          assert.strictEqual(yield* samples(m.deleteLatency), 40)
          assert.strictEqual(yield* samples(m.writeLatency), 1)
          assert.strictEqual(yield* samples(m.getLatency), 215)
          assert.strictEqual(yield* samples(m.flushDuration), s.flushes)
          assert.strictEqual(yield* samples(m.compactionDuration), s.compactions)
          const puts = yield* Metric.value(m.putLatency)
          assert.isAbove(puts.sum, 0)
          assert.isAtMost(puts.min, puts.max)

          // Gauges: per level and memory, as stats shows them.
          assert.isAbove(s.levels.reduce((n, l) => n + l.tables, 0), 0)
          for (const l of s.levels) {
            assert.strictEqual(yield* gauge(m.levelTables(l.level)), l.tables, `L${l.level} tables`)
            assert.strictEqual(yield* gauge(m.levelBytes(l.level)), l.bytes, `L${l.level} bytes`)
          }
          assert.strictEqual(yield* gauge(m.memtableBytes), s.memory.memtables)
          assert.strictEqual(yield* gauge(m.immutableMemtables), s.immutableMemtables)
          assert.strictEqual(yield* gauge(m.blockCacheBytes), s.memory.blockCache)
          assert.isAbove(s.memory.blockCache, 0)
          assert.strictEqual(yield* gauge(m.tableMetadataBytes), s.memory.tableMetadata)
          assert.strictEqual(yield* gauge(m.memoryBytes), s.memory.total)
          assert.strictEqual(yield* gauge(m.openTables), s.openTables)

          // The user's way to the same series: the base metric labelled with the directory.
          const viaTagged = yield* Metric.value(Metric.tagged(Metrics.puts, Metrics.DATABASE_LABEL, "/metrics-known"))
          assert.strictEqual(viaTagged.count, 602)

          // Later work shows at the next round.
          for (let i = 0; i < 10; i++) yield* db.put(key(1000 + i), value(i))
          assert.strictEqual(yield* counter(m.puts), 602)
          yield* publishRound
          assert.strictEqual(yield* counter(m.puts), 612)
        }))
      // At close: the last counts are published, the memory gauges drop to 0, the levels stay.
      assert.strictEqual(yield* gauge(m.memtableBytes), 0)
      assert.strictEqual(yield* gauge(m.openTables), 0)
    }))

  it.effect("the last counts are published at close, and two databases in one process keep separate series", () =>
    Effect.gen(function* () {
      const a = Metrics.forDatabase("/metrics-a")
      const b = Metrics.forDatabase("named-b")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const dbA = yield* Db.make({ directory: "/metrics-a" })
          const dbB = yield* Db.make({ directory: "/metrics-b" }).pipe(Effect.provide(Metrics.layer({ database: "named-b" })))
          for (let i = 0; i < 30; i++) yield* dbA.put(key(i), value(i))
          for (let i = 0; i < 70; i++) yield* dbB.put(key(i), value(i))
          for (let i = 0; i < 5; i++) yield* dbB.delete(key(i))
          for (let i = 0; i < 12; i++) yield* dbA.get(key(i))
        })
      ).pipe(Effect.provide(MemoryFileSystem.layer))
      // No round passed on the clock: these are the close's publish.
      assert.strictEqual(yield* counter(a.puts), 30)
      assert.strictEqual(yield* counter(a.deletes), 0)
      assert.strictEqual(yield* counter(a.gets), 12)
      assert.strictEqual(yield* counter(b.puts), 70)
      assert.strictEqual(yield* counter(b.deletes), 5)
      assert.strictEqual(yield* counter(b.gets), 0)
      // Default sampling: one put in 16 is timed.
      assert.strictEqual(yield* samples(a.putLatency), 1)
      assert.strictEqual(yield* samples(b.putLatency), 4)
      const labels = yield* labelsOf("stratadb_puts")
      assert.includeMembers(labels, ["/metrics-a", "named-b"])
      assert.notInclude(labels, "/metrics-b")
      // A reopen adds to the same series.
      yield* withDb({ directory: "/metrics-a" }, (db) => db.put("again", "1")).pipe(Effect.provide(MemoryFileSystem.layer))
      assert.strictEqual(yield* counter(a.puts), 31)
    }))

  it.effect("disabled metrics publish nothing and time nothing", () =>
    Effect.gen(function* () {
      yield* withDb({ directory: "/metrics-off" }, (db) =>
        Effect.gen(function* () {
          for (let i = 0; i < 100; i++) yield* db.put(key(i), value(i))
          yield* db.get(key(1))
          yield* db.flush
          yield* publishRound
        })).pipe(Effect.provide(Layer.merge(MemoryFileSystem.layer, Metrics.disabled)))
      const snapshot = yield* Metric.snapshot
      assert.isFalse(snapshot.some((p) => p.metricKey.tags.some((t) => t.value === "/metrics-off")))
    }))

  it.effect("bad metrics options fail the open with InvalidArgument and create nothing", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(open({ directory: "/metrics-bad" }, { latencySampling: 0, interval: "soon" as never }, () => Effect.void))
      assert.instanceOf(error, InvalidArgument)
      assert.include(error.description, "latencySampling: expected an integer >= 1, got 0")
      assert.include(error.description, "interval:")
    }))

  it("a program that ends with a database still open exits: the publisher's timer does not hold it", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "stratadb-leave-"))
    try {
      const result = await openAndLeave(directory, 30_000)
      assert.notStrictEqual(result, "timeout", "the process still ran 30 s after its work was done")
      if (result === "timeout") return
      assert.include(result.output, "opened")
      assert.strictEqual(result.code, 0, result.output)
    } finally {
      fs.rmSync(directory, { recursive: true, force: true })
    }
  }, 60_000)
})
