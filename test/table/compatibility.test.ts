/**
 * Tables and manifests written before block compression (test/fixtures/beforeCompression: raw
 * blocks only, properties without `rawDataSize`/`compressionType`, new files under manifest tag 7)
 * open with today's code, read back exactly, and live on next to compressed tables.
 */
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Option, Stream } from "effect"
import * as nodeFs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeSyncFileSystem from "../../src/NodeSyncFileSystem.js"
import { decodeProperties } from "../../src/internal/table/properties.js"
import { Corruption } from "../../src/errors.js"
import { BLOCK_TYPE_LZ4, BLOCK_TYPE_UNCOMPRESSED, FOOTER_SIZE } from "../../src/internal/table/tableFormat.js"
import { decodeFooter } from "../../src/internal/table/footer.js"
import { expected, OPTIONS } from "../fixtures/beforeCompression/writes.js"
import { text, withDb } from "../support.js"

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/beforeCompression/db")

/** The properties of table file `file` (bytes). */
const propertiesOf = (bytes: Uint8Array, name: string) => {
  const footer = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE), name, bytes.length)
  if (footer instanceof Corruption) throw footer
  const p = footer.properties
  const properties = decodeProperties(bytes.subarray(p.offset, p.offset + p.size), name, p.offset)
  if (properties instanceof Corruption) throw properties
  return properties
}

const tables = (dir: string) => nodeFs.readdirSync(dir).filter((f) => f.endsWith(".sst"))

describe("a database written before compression", () => {
  it("the fixture holds raw tables only, with the properties of the time", () => {
    const names = tables(FIXTURE)
    assert.isAtLeast(names.length, 4)
    // And a WAL for the open to replay (a checkout must hold it: .gitignore ignores *.log).
    assert.isTrue(nodeFs.readdirSync(FIXTURE).some((f) => f.endsWith(".log")), "the fixture's WAL is there")
    for (const name of names) {
      const p = propertiesOf(nodeFs.readFileSync(path.join(FIXTURE, name)), name)
      // Absent fields read as their defaults.
      assert.strictEqual(p.compressionType, BLOCK_TYPE_UNCOMPRESSED)
      assert.strictEqual(p.rawDataSize, p.dataSize)
    }
  })

  it.scoped("opens, reads every key, and takes compressed tables beside its own", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "stratadb-compat-" })
      for (const name of nodeFs.readdirSync(FIXTURE)) nodeFs.copyFileSync(path.join(FIXTURE, name), path.join(directory, name))
      const want = expected()
      const readAll = (db: Parameters<Parameters<typeof withDb>[1]>[0]) =>
        Effect.gen(function* () {
          const scanned = Chunk.toReadonlyArray(yield* Stream.runCollect(db.scan()))
          assert.deepStrictEqual(
            scanned.map((e) => [text(e.key), text(e.value)]),
            [...want.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
          )
          for (const [k, v] of want) assert.strictEqual(Option.map(yield* db.get(k), text).pipe(Option.getOrUndefined), v, k)
          assert.isTrue(Option.isNone(yield* db.get("k0007")), "a deleted key stays deleted")
        })
      yield* withDb({ directory, ...OPTIONS }, (db) =>
        Effect.gen(function* () {
          const stats = yield* db.stats
          // Tag-7 new files: their raw size is their size (L0 also holds the WAL replayed at open,
          // flushed into a compressed table).
          assert.strictEqual(stats.levels[1]!.rawBytes, stats.levels[1]!.bytes)
          assert.isAbove(stats.levels[0]!.rawBytes, stats.levels[0]!.bytes)
          assert.isAbove(stats.levels[0]!.tables, 0)
          assert.isAbove(stats.levels[1]!.tables, 0)
          yield* readAll(db)
          // New writes and a full compaction: old tables merge into compressed ones.
          for (let i = 0; i < 200; i++) {
            const k = `n${String(i).padStart(3, "0")}`
            const v = `new ${i} ${"pack my box with five dozen liquor jugs ".repeat(2)}`
            want.set(k, v)
            yield* db.put(k, v)
          }
          yield* db.flush
          yield* db.compactRange()
          yield* readAll(db)
          const after = yield* db.stats
          const bytes = after.levels.reduce((s, l) => s + l.bytes, 0)
          const raw = after.levels.reduce((s, l) => s + l.rawBytes, 0)
          assert.isBelow(bytes, raw * 0.8, `compacted tables are compressed: ${bytes} of ${raw} raw bytes`)
        }))
      for (const name of tables(directory)) {
        assert.strictEqual(propertiesOf(nodeFs.readFileSync(path.join(directory, name)), name).compressionType, BLOCK_TYPE_LZ4, name)
      }
      // And it reopens (manifest with tag-8 new files now).
      yield* withDb({ directory, ...OPTIONS }, readAll)
    }).pipe(Effect.provide(NodeSyncFileSystem.layer)))
})
