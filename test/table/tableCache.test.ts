/**
 * The table cache (src/internal/table/tableCache.ts): the one lookup `acquire` pins what it hands
 * out, opening tables synchronously where the file system can and with an effect elsewhere; the
 * cache keeps to `maxOpenTables` unpinned readers and to `maxResidentBytes` of their metadata; a
 * table evicted while pinned closes with its last pin.
 */
import type { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { Effect, Exit, Scope } from "effect"
import { tableFileName } from "../../src/internal/fs/fileNames.js"
import { KIND_PUT, MAX_SEQUENCE } from "../../src/internal/key/internalKey.js"
import { BlockCache } from "../../src/internal/table/blockCache.js"
import { CachedTable, makeTableCache, type TableCache, type TablePins } from "../../src/internal/table/tableCache.js"
import { TableBuilder } from "../../src/internal/table/tableBuilder.js"
import { isTableError } from "../../src/internal/table/tableFile.js"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"

const DIR = "/tables"
const key = (t: number, i: number) => `t${t}-k${String(i).padStart(4, "0")}`

/** Writes tables 1..count (100 entries each) and returns their metadata. */
const writeTables = (fs: FileSystem, count: number) =>
  Effect.gen(function* () {
    yield* fs.makeDirectory(DIR, { recursive: true })
    const metas: Array<FileMeta> = []
    for (let t = 1; t <= count; t++) {
      const builder = new TableBuilder({ blockSize: 512, restartInterval: 16, bitsPerKey: 10 })
      for (let i = 0; i < 100; i++) builder.add(key(t, i), i + 1, KIND_PUT, Buffer.from(`v${t}-${i}`))
      const chunks = builder.finish()
      yield* fs.writeFile(`${DIR}/${tableFileName(t)}`, Buffer.concat(chunks))
      metas.push(builder.fileMeta(t))
    }
    return metas
  })

/** The file system without its synchronous open (as a third-party `FileSystem` would be). */
const withoutSyncOpen = (fs: FileSystem): FileSystem => Object.fromEntries(Object.entries(fs)) as unknown as FileSystem

const setup = (maxOpenTables: number, syncOpen: boolean, maxResidentBytes = Number.POSITIVE_INFINITY) =>
  Effect.gen(function* () {
    const { control, fileSystem } = yield* MemoryFileSystem.make()
    const metas = yield* writeTables(fileSystem, 4)
    const scope = yield* Scope.make()
    const counters = { bloomChecks: 0, bloomNegatives: 0, blockReads: 0, blockSearches: 0 }
    const cache = makeTableCache({
      fs: syncOpen ? fileSystem : withoutSyncOpen(fileSystem),
      path: (name) => `${DIR}/${name}`,
      maxOpenTables,
      maxResidentBytes,
      blockCache: new BlockCache(1 << 20),
      counters,
      scope
    })
    return { cache, metas, control, scope }
  })

/** `acquire`'s answer as an effect; the open, if any, runs where interruption is masked. */
const acquired = (cache: TableCache, meta: FileMeta): Effect.Effect<CachedTable, unknown> =>
  Effect.uninterruptible(Effect.suspend(() => {
    const t = cache.acquire(meta)
    return t instanceof CachedTable ? Effect.succeed(t) : isTableError(t) ? Effect.fail(t) : t
  }))

const valueOf = (table: CachedTable, k: string) => {
  const found = table.reader.get(k, MAX_SEQUENCE)
  return found instanceof Uint8Array ? Buffer.from(found).toString() : found
}

describe("table cache", () => {
  it.effect("opens synchronously where the file system can: acquire pins at once, release unpins", () =>
    Effect.gen(function* () {
      const { cache, metas, control, scope } = yield* setup(2, true)
      const handles = yield* control.openHandles
      const t = cache.acquire(metas[0]!)
      if (!(t instanceof CachedTable)) return assert.fail(`expected a table now, got ${String(t)}`)
      assert.strictEqual(t.pins, 1)
      assert.strictEqual(valueOf(t, key(1, 7)), "v1-7")
      cache.release(t)
      assert.strictEqual(t.pins, 0)
      assert.strictEqual(cache.acquire(metas[0]!), t, "found open the second time")
      cache.release(t)
      // Over the bound, the least recently used unpinned table closes, synchronously too.
      for (const meta of metas) {
        const u = cache.acquire(meta) as CachedTable
        cache.release(u)
      }
      assert.strictEqual(cache.size(), 2)
      assert.strictEqual((yield* control.openHandles) - handles, 2)
      yield* cache.closeAll
      assert.strictEqual((yield* control.openHandles) - handles, 0)
      yield* Scope.close(scope, Exit.void)
    }))

  for (const syncOpen of [true, false]) {
    it.effect(`over the bound, a table acquired since the last eviction stays open; one that was not closes (${syncOpen ? "opened synchronously" : "opened with effects"})`, () =>
      Effect.gen(function* () {
        const { cache, metas, scope } = yield* setup(2, syncOpen)
        const use = (meta: FileMeta) => Effect.map(acquired(cache, meta), (t) => (cache.release(t), t))
        const first = yield* use(metas[0]!)
        const second = yield* use(metas[1]!)
        // Table 1, the older, is used again: table 3's open must close table 2.
        assert.strictEqual(yield* use(metas[0]!), first)
        yield* use(metas[2]!)
        assert.strictEqual(cache.size(), 2)
        assert.strictEqual(yield* use(metas[0]!), first, "the table used again stayed open")
        assert.notStrictEqual(yield* use(metas[1]!), second, "the table not used again was closed (and is opened anew)")
        assert.strictEqual(cache.size(), 2)
        yield* cache.closeAll
        yield* Scope.close(scope, Exit.void)
      }))
  }

  it.effect("without a synchronous open, acquire answers with the effect that opens and pins", () =>
    Effect.gen(function* () {
      const { cache, metas, control, scope } = yield* setup(2, false)
      const pending = cache.acquire(metas[0]!)
      assert.isFalse(pending instanceof CachedTable)
      assert.isFalse(isTableError(pending))
      // Two callers waiting for the same table share one open.
      const calls = yield* control.callCount
      const [a, b] = yield* Effect.all([acquired(cache, metas[0]!), acquired(cache, metas[0]!)], { concurrency: 2 })
      assert.strictEqual(a, b)
      assert.strictEqual(a.pins, 2)
      assert.strictEqual(cache.size(), 1)
      const opens = (yield* control.callCount) - calls
      assert.isAtMost(opens, 4, "one open and its reads, not two")
      // Open now: the lookup pins at once (and the handle, with its positional read, reads blocks at once).
      const again = cache.acquire(metas[0]!)
      assert.strictEqual(again, a)
      assert.strictEqual(valueOf(a, key(1, 50)), "v1-50")
      for (let i = 0; i < 3; i++) cache.release(a)
      // Pinned tables stay open over the bound; unpinned ones go at the next open.
      const pinned = yield* acquired(cache, metas[1]!)
      yield* acquired(cache, metas[2]!)
      assert.strictEqual(cache.size(), 2)
      assert.strictEqual(pinned.pins, 1)
      yield* cache.closeAll
      yield* Scope.close(scope, Exit.void)
    }))

  for (const syncOpen of [true, false]) {
    it.effect(`a table evicted while pinned closes with its last pin (${syncOpen ? "opened synchronously" : "opened with effects"})`, () =>
      Effect.gen(function* () {
        const { cache, metas, control, scope } = yield* setup(8, syncOpen)
        const handles = yield* control.openHandles
        const t = yield* acquired(cache, metas[0]!)
        yield* cache.evict(metas[0]!.number)
        assert.isTrue(t.doomed)
        assert.strictEqual(cache.size(), 1, "still open while pinned")
        assert.strictEqual(valueOf(t, key(1, 3)), "v1-3", "and still readable")
        cache.release(t)
        // A close that needs an effect waits for the cache's next effectful step.
        if (!syncOpen) yield* cache.unpin(new Set())
        assert.strictEqual(cache.size(), 0)
        assert.strictEqual((yield* control.openHandles) - handles, 0)
        // Gone from the cache: the next lookup opens the file again.
        const reopened = yield* acquired(cache, metas[0]!)
        assert.notStrictEqual(reopened, t)
        cache.release(reopened)
        yield* cache.closeAll
        yield* Scope.close(scope, Exit.void)
      }))
  }

  it.effect("scans pin into a set, once per table, and unpin shrinks the cache back to its bound", () =>
    Effect.gen(function* () {
      const { cache, metas, scope } = yield* setup(1, true)
      const pins: TablePins = new Set()
      for (const meta of metas) {
        const it = cache.peekIterator(meta, pins, true)
        if (it === undefined) return assert.fail("opens synchronously")
        it.seekToFirst()
        assert.isTrue(it.valid())
        assert.strictEqual(it.key(), key(meta.number, 0))
      }
      // Pinned again by the same scan: one pin per table.
      yield* cache.iterator(metas[0]!, pins, true)
      assert.strictEqual(cache.size(), 4, "every pinned table stays open, over the bound")
      yield* cache.unpin(pins)
      assert.strictEqual(pins.size, 0)
      assert.strictEqual(cache.size(), 1)
      yield* cache.closeAll
      yield* Scope.close(scope, Exit.void)
    }))

  /** The resident bytes of each of the four tables, read through a cache without a byte bound. */
  const residentBytesOfTables = Effect.gen(function* () {
    const { cache, metas, scope } = yield* setup(8, true)
    const bytes: Array<number> = []
    for (const meta of metas) {
      const t = yield* acquired(cache, meta)
      bytes.push(t.reader.residentBytes)
      cache.release(t)
    }
    assert.strictEqual(cache.residentBytes(), bytes.reduce((a, b) => a + b, 0), "the cache sums its readers' bytes")
    yield* cache.closeAll
    assert.strictEqual(cache.residentBytes(), 0)
    yield* Scope.close(scope, Exit.void)
    return bytes
  })

  for (const syncOpen of [true, false]) {
    it.effect(`the byte bound closes unpinned tables as the count bound does (${syncOpen ? "opened synchronously" : "opened with effects"})`, () =>
      Effect.gen(function* () {
        const bytes = yield* residentBytesOfTables
        const largest = Math.max(...bytes)
        assert.isAbove(Math.min(...bytes), 1000, "a table's filter, index and properties are charged")
        // Room for two tables, never three; the count bound (8) never binds.
        const bound = 2 * largest + Math.min(...bytes) / 2
        const { cache, metas, control, scope } = yield* setup(8, syncOpen, bound)
        const handles = yield* control.openHandles
        for (let round = 0; round < 2; round++) {
          for (const meta of metas) {
            cache.release(yield* acquired(cache, meta))
            assert.isAtMost(cache.residentBytes(), bound)
            assert.isAtMost(cache.size(), 2)
          }
        }
        assert.strictEqual(cache.size(), 2)
        assert.strictEqual((yield* control.openHandles) - handles, 2, "the tables over the bound were closed")
        yield* cache.closeAll
        yield* Scope.close(scope, Exit.void)
      }))

    it.effect(`a pinned table over the byte bound is not closed until unpinned (${syncOpen ? "opened synchronously" : "opened with effects"})`, () =>
      Effect.gen(function* () {
        const bytes = yield* residentBytesOfTables
        // Room for one table only.
        const bound = Math.max(...bytes) + Math.min(...bytes) / 2
        const { cache, metas, control, scope } = yield* setup(8, syncOpen, bound)
        const handles = yield* control.openHandles
        const first = yield* acquired(cache, metas[0]!)
        const second = yield* acquired(cache, metas[1]!)
        assert.strictEqual(cache.size(), 2, "both pinned: both open, over the bound")
        assert.isAbove(cache.residentBytes(), bound)
        assert.strictEqual(valueOf(first, key(1, 9)), "v1-9", "and readable")
        assert.strictEqual(valueOf(second, key(2, 9)), "v2-9")
        cache.release(first)
        // A close that needs an effect waits for the cache's next effectful step.
        if (!syncOpen) yield* cache.unpin(new Set())
        assert.strictEqual(cache.size(), 1, "unpinned, the first is closed")
        assert.strictEqual(cache.residentBytes(), second.reader.residentBytes)
        assert.strictEqual((yield* control.openHandles) - handles, 1)
        // A scan's pins hold a table over the bound the same way, until `unpin`.
        const pins: TablePins = new Set()
        const it = yield* cache.iterator(metas[2]!, pins, true)
        it.seekToFirst()
        assert.strictEqual(it.key(), key(3, 0))
        cache.release(second)
        if (!syncOpen) yield* cache.unpin(new Set())
        assert.strictEqual(cache.size(), 1, "the second goes at its release; the scanned table stays pinned")
        it.seek(key(3, 50), MAX_SEQUENCE)
        assert.strictEqual(it.key(), key(3, 50), "the pinned table still reads")
        yield* cache.unpin(pins)
        assert.strictEqual(cache.size(), 1, "within the bound: the last table stays open")
        yield* cache.closeAll
        assert.strictEqual((yield* control.openHandles) - handles, 0)
        yield* Scope.close(scope, Exit.void)
      }))
  }
})
