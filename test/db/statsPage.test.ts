/**
 * `stats` per level (bytes written into each level, bytes compactions read out of it) and
 * `formatStats`, the text page (leveldb.stats' shape): a row per level and a sum row that add up
 * to the stats, and the lines the page promises.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { formatStats } from "../../src/index.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { withDb } from "../support.js"

const key = (i: number) => `key-${String(i).padStart(6, "0")}`

describe("stats page", () => {
  it.effect("levels count the bytes flushed and compacted into them and read out of them; the page shows them", () =>
    Effect.gen(function* () {
      const stats = yield* withDb(
        { directory: "/stats", writeBufferSize: 32 * 1024, blockSize: 1024, backgroundCompaction: false },
        (db) =>
          Effect.gen(function* () {
            for (let i = 0; i < 3000; i++) yield* db.put(key((i * 7919) % 3000), `value-${i}`.padEnd(60, "v"))
            yield* db.flush
            const beforeCompaction = yield* db.stats
            // Flushes alone: every byte written is in L0, nothing read.
            assert.isAbove(beforeCompaction.flushes, 1)
            assert.strictEqual(beforeCompaction.levels[0]!.bytesWritten, beforeCompaction.flushBytesWritten)
            assert.strictEqual(beforeCompaction.levels.reduce((s, l) => s + l.bytesRead, 0), 0)
            yield* db.compactRange()
            return yield* db.stats
          })
      ).pipe(Effect.provide(MemoryFileSystem.layer))
      const written = stats.levels.reduce((s, l) => s + l.bytesWritten, 0)
      assert.strictEqual(written, stats.flushBytesWritten + stats.compactionBytesWritten)
      // The compaction read L0's tables (all that was written there) and wrote below it.
      assert.strictEqual(stats.levels[0]!.bytesRead, stats.levels[0]!.bytesWritten)
      assert.isAbove(stats.levels.slice(1).reduce((s, l) => s + l.bytesWritten, 0), 0)
      assert.strictEqual(stats.levels[0]!.tables, 0)

      const page = formatStats(stats)
      const lines = page.split("\n")
      assert.strictEqual(lines[0], "** stratadb stats (since open) **")
      const rowOf = (label: string) => lines.find((l) => l.startsWith(`${label} `))!.trim().split(/\s+/)
      for (const l of stats.levels) {
        const row = rowOf(`L${l.level}`)
        assert.strictEqual(row[1], String(l.tables), `tables of L${l.level}`)
        assert.strictEqual(row[2], (l.bytes / 1048576).toFixed(1), `size of L${l.level}`)
        assert.strictEqual(row[3], (l.rawBytes / 1048576).toFixed(1), `raw size of L${l.level}`)
        assert.strictEqual(row[5], (l.bytesRead / 1048576).toFixed(1), `read of L${l.level}`)
        assert.strictEqual(row[6], (l.bytesWritten / 1048576).toFixed(1), `written of L${l.level}`)
      }
      // (the sum row has no score: its read and written columns are the 5th and 6th fields)
      const sum = rowOf("Sum")
      assert.strictEqual(sum[1], String(stats.levels.reduce((s, l) => s + l.tables, 0)))
      assert.strictEqual(sum[3], (stats.levels.reduce((s, l) => s + l.rawBytes, 0) / 1048576).toFixed(1))
      assert.strictEqual(sum[4], (stats.levels.reduce((s, l) => s + l.bytesRead, 0) / 1048576).toFixed(1))
      assert.strictEqual(sum[5], (written / 1048576).toFixed(1))
      assert.include(page, `write amplification ${stats.writeAmplification.toFixed(2)}`)
      assert.include(page, `${stats.flushes} flushes, ${stats.compactions} compactions`)
      assert.include(page, `budget: none`)
      assert.include(page, "recovery (tolerateTornTail): 0 logs")
    }))
})
