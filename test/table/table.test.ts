import { assert, describe, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import { SystemError } from "@effect/platform/Error"
import { Effect, Exit } from "effect"
import { Corruption } from "../../src/errors.js"
import { compareInternal, KIND_DELETE, KIND_PUT, type Kind, MAX_SEQUENCE } from "../../src/internal/key/internalKey.js"
import type { InternalIterator } from "../../src/internal/iter/internalIterator.js"
import { Block } from "../../src/internal/table/block.js"
import { BlockCache } from "../../src/internal/table/blockCache.js"
import { TableBuilder, type TableBuilderOptions } from "../../src/internal/table/tableBuilder.js"
import { sealBlock } from "../../src/internal/table/blockTrailer.js"
import { encodeProperties } from "../../src/internal/table/properties.js"
import { maskedCrc32 } from "../../src/internal/table/tableCoding.js"
import { FOOTER_SIZE } from "../../src/internal/table/tableFormat.js"
import { mayContain } from "../../src/internal/table/bloom.js"
import { toFileMeta } from "../../src/internal/table/properties.js"
import { isTableError, type TableError, type TableFile } from "../../src/internal/table/tableFile.js"
import { type Found, openTable, type TableCounters, TableReader, TOMBSTONE } from "../../src/internal/table/tableReader.js"
import { seededRandom } from "../../src/internal/seededRandom.js"

interface Entry {
  readonly key: string
  readonly seq: number
  readonly kind: Kind
  readonly value: Uint8Array
}

/** A deterministic PRNG (mulberry32) so failures reproduce. */
const rng = seededRandom

/** The key prefix of the k-th present user key (even numbers; odd ones are absent). */
const userKey = (i: number) => `user:${String(i * 2).padStart(7, "0")}`
const letters = "abcdefghijklmnopqrstuvwxyz"

/**
 * About `n` entries in internal order: distinct user keys (`userKey(k)`, then "." and 0 to 6
 * random letters, so index separators can be shortened and gaps exist between keys), 1 to 3
 * versions each with distinct sequences (gaps between them), about 1 in 5 a tombstone.
 */
const makeEntries = (n: number, seed: number): Array<Entry> => {
  const next = rng(seed)
  const entries: Array<Entry> = []
  const usedSeqs = new Set<number>()
  for (let k = 0; entries.length < n; k++) {
    let key = userKey(k) + "."
    for (let len = Math.floor(next() * 7); len > 0; len--) key += letters[Math.floor(next() * 26)]
    const versions = Math.min(n - entries.length, 1 + Math.floor(next() * 3))
    const seqs: Array<number> = []
    while (seqs.length < versions) {
      const s = 2 + 2 * Math.floor(next() * n * 4)
      if (!usedSeqs.has(s)) {
        usedSeqs.add(s)
        seqs.push(s)
      }
    }
    seqs.sort((a, b) => b - a)
    for (const seq of seqs) {
      const kind: Kind = next() < 0.2 ? KIND_DELETE : KIND_PUT
      const value = kind === KIND_DELETE ? new Uint8Array(0) : Buffer.from(`${key}@${seq}:${"x".repeat(Math.floor(next() * 60))}`)
      entries.push({ key, seq, kind, value })
    }
  }
  return entries
}

const options: TableBuilderOptions = { blockSize: 4096, restartInterval: 16, bitsPerKey: 10 }

const buildTable = (entries: ReadonlyArray<Entry>, opts: TableBuilderOptions = options) => {
  const builder = new TableBuilder(opts)
  const chunks: Array<Uint8Array> = []
  for (const e of entries) {
    builder.add(e.key, e.seq, e.kind, e.value)
    chunks.push(...builder.takeOutput())
  }
  chunks.push(...builder.finish())
  return { bytes: Buffer.concat(chunks), builder }
}

interface Opened {
  readonly reader: TableReader
  readonly cache: BlockCache
  readonly counters: TableCounters
  readonly reads: { count: number }
}

const newCounters = (): TableCounters => ({ bloomChecks: 0, bloomNegatives: 0, blockReads: 0, blockSearches: 0 })

/** `openTable`'s answer (now, or an effect) as an effect. */
const opened = (x: TableReader | TableError | Effect.Effect<TableReader, TableError>): Effect.Effect<TableReader, TableError> =>
  x instanceof TableReader ? Effect.succeed(x) : isTableError(x) ? Effect.fail(x) : x

/** True when a lookup's answer is the effect that must read its block. */
const isPending = (found: Found | TableError | Effect.Effect<Found, TableError>): found is Effect.Effect<Found, TableError> =>
  Effect.isEffect(found) && !isTableError(found)

/** A finding as the entry it stands for (the value copied: it may be a view of a reused buffer). */
const entryOf = (found: Found): { readonly kind: Kind; readonly value: Uint8Array } | undefined =>
  found === undefined
    ? undefined
    : found === TOMBSTONE
    ? { kind: KIND_DELETE, value: new Uint8Array(0) }
    : { kind: KIND_PUT, value: Buffer.from(found) }

/** `reader.get` as an effect, whether it answers now or must read its block. */
const getEntry = (reader: TableReader, key: string, seq: number) => {
  const found = reader.get(key, seq)
  if (isTableError(found)) return Effect.fail(found)
  return isPending(found) ? Effect.map(found, entryOf) : Effect.succeed(entryOf(found))
}

/** A table over `bytes` read with effects only (the reads counted). */
const open = (bytes: Uint8Array, cacheBytes = 64 * 1024 * 1024, fileName = "000007.sst") =>
  Effect.gen(function* () {
    const cache = new BlockCache(cacheBytes)
    const counters = newCounters()
    const reads = { count: 0 }
    const file: TableFile = {
      number: 7,
      name: fileName,
      size: bytes.length,
      readAt: (offset, length) =>
        Effect.sync(() => {
          reads.count++
          return bytes.subarray(offset, offset + length)
        }),
      readAtSync: undefined
    }
    const reader = yield* opened(openTable(file, cache, counters))
    return { reader, cache, counters, reads } satisfies Opened
  })

/** The model's answer to get(key, seq): the newest version with sequence <= seq. */
const modelGet = (byKey: Map<string, Array<Entry>>, key: string, seq: number): Entry | undefined =>
  byKey.get(key)?.find((e) => e.seq <= seq)

const groupByKey = (entries: ReadonlyArray<Entry>): Map<string, Array<Entry>> => {
  const byKey = new Map<string, Array<Entry>>()
  for (const e of entries) {
    const list = byKey.get(e.key)
    if (list === undefined) byKey.set(e.key, [e])
    else list.push(e)
  }
  return byKey
}

const settle = (it: InternalIterator) =>
  Effect.gen(function* () {
    while (it.pending()) yield* it.load()
  })

const describeAt = (it: InternalIterator): string => (it.valid() ? `${it.key()}@${it.seq()}` : "<end>")
const describeEntry = (entries: ReadonlyArray<Entry>, i: number): string =>
  i >= 0 && i < entries.length ? `${entries[i]!.key}@${entries[i]!.seq}` : "<end>"

const checkAt = (it: InternalIterator, entries: ReadonlyArray<Entry>, i: number, context: string) => {
  assert.strictEqual(describeAt(it), describeEntry(entries, i), context)
  if (it.valid()) {
    assert.strictEqual(it.kind(), entries[i]!.kind, context)
    assert.isTrue(Buffer.from(it.value()).equals(Buffer.from(entries[i]!.value)), context)
  }
}

const scanForward = (it: InternalIterator) =>
  Effect.gen(function* () {
    const out: Array<Entry> = []
    it.seekToFirst()
    yield* settle(it)
    while (it.valid()) {
      if (out.length > 1_000_000) throw new Error("forward scan does not end")
      out.push({ key: it.key(), seq: it.seq(), kind: it.kind(), value: Buffer.from(it.value()) })
      it.next()
      yield* settle(it)
    }
    return out
  })

const scanBackward = (it: InternalIterator, limit = 1_000_000) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    it.seekToLast()
    yield* settle(it)
    while (it.valid()) {
      if (out.length > limit) throw new Error("backward scan does not end")
      out.push(`${it.key()}@${it.seq()}`)
      it.prev()
      yield* settle(it)
    }
    return out
  })

const lowerBound = (entries: ReadonlyArray<Entry>, key: string, seq: number): number => {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareInternal(entries[mid]!.key, entries[mid]!.seq, key, seq) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
const floorIndex = (entries: ReadonlyArray<Entry>, key: string, seq: number): number => {
  const lb = lowerBound(entries, key, seq)
  return lb < entries.length && compareInternal(entries[lb]!.key, entries[lb]!.seq, key, seq) === 0 ? lb : lb - 1
}

/** Random seeks and seekForPrevs, each followed by a short walk, against the model. */
const checkSeeks = (reader: TableReader, entries: ReadonlyArray<Entry>, count: number, seed: number) =>
  Effect.gen(function* () {
    const next = rng(seed)
    const it = reader.iterator()
    const maxKey = entries.length * 2 + 4
    for (let t = 0; t < count; t++) {
      // A present key, or a random one: any number, then nothing, "." and letters, or "~".
      let key: string
      if (next() < 0.4 && entries.length > 0) key = entries[Math.floor(next() * entries.length)]!.key
      else {
        key = `user:${String(Math.floor(next() * maxKey)).padStart(7, "0")}`
        const tail = next()
        if (tail < 0.3) key += "~"
        else if (tail < 0.8) key += "." + letters[Math.floor(next() * 26)]! + letters[Math.floor(next() * 26)]!
      }
      const seq = next() < 0.2 ? MAX_SEQUENCE : Math.floor(next() * entries.length * 8)
      const forward = next() < 0.5
      let pos = forward ? lowerBound(entries, key, seq) : floorIndex(entries, key, seq)
      if (forward) it.seek(key, seq)
      else it.seekForPrev(key, seq)
      yield* settle(it)
      checkAt(it, entries, pos, `${forward ? "seek" : "seekForPrev"}(${key}, ${seq})`)
      for (let step = 0; step < 40 && pos >= 0 && pos < entries.length; step++) {
        if (forward) {
          it.next()
          pos++
        } else {
          it.prev()
          pos--
        }
        yield* settle(it)
        checkAt(it, entries, pos, `walk ${step} after (${key}, ${seq})`)
      }
    }
  })

/** Every key at several sequences against the model; returns how many were found. */
const checkGets = (reader: TableReader, entries: ReadonlyArray<Entry>) =>
  Effect.gen(function* () {
    const byKey = groupByKey(entries)
    let found = 0
    const mismatches: Array<string> = []
    for (const [key, versions] of byKey) {
      const seqs = [MAX_SEQUENCE, 0, 1]
      for (const v of versions) seqs.push(v.seq, v.seq - 1, v.seq + 1)
      for (const seq of seqs) {
        const expected = modelGet(byKey, key, seq)
        const got = yield* getEntry(reader, key, seq)
        if (expected !== undefined) found++
        const same =
          expected === undefined
            ? got === undefined
            : got !== undefined && got.kind === expected.kind && Buffer.from(got.value).equals(Buffer.from(expected.value))
        if (!same && mismatches.length < 5) mismatches.push(`get(${key}, ${seq}): ${got?.kind}, expected ${expected?.kind}`)
      }
    }
    assert.deepStrictEqual(mismatches, [])
    return found
  })

describe("table", () => {
  for (const n of [1, 100, 50_000]) {
    describe(`${n} entries`, () => {
      const entries = makeEntries(n, n)
      const small: TableBuilderOptions = { blockSize: 256, restartInterval: 4, bitsPerKey: 10 }
      const opts = n === 100 ? small : options
      const { bytes, builder } = buildTable(entries, opts)

      it.effect("records its properties and FileMeta", () =>
        Effect.gen(function* () {
          const { reader } = yield* open(bytes)
          const p = reader.properties
          assert.strictEqual(p.entries, entries.length)
          assert.strictEqual(p.tombstones, entries.filter((e) => e.kind === KIND_DELETE).length)
          assert.strictEqual(p.smallestKey, entries[0]!.key)
          assert.strictEqual(p.smallestSeq, entries[0]!.seq)
          assert.strictEqual(p.largestKey, entries[entries.length - 1]!.key)
          assert.strictEqual(p.largestSeq, entries[entries.length - 1]!.seq)
          assert.strictEqual(p.minSeq, Math.min(...entries.map((e) => e.seq)))
          assert.strictEqual(p.maxSeq, Math.max(...entries.map((e) => e.seq)))
          assert.strictEqual(p.rawValueBytes, entries.reduce((s, e) => s + e.value.length, 0))
          assert.strictEqual(builder.fileSize, bytes.length)
          assert.strictEqual(builder.entries, entries.length)
          assert.deepStrictEqual(toFileMeta(reader.properties, 7, bytes.length), builder.fileMeta(7))
          assert.deepStrictEqual(builder.fileMeta(7), {
            number: 7,
            size: bytes.length,
            rawSize: bytes.length,
            smallestKey: p.smallestKey,
            smallestSeq: p.smallestSeq,
            largestKey: p.largestKey,
            largestSeq: p.largestSeq,
            entries: entries.length,
            tombstones: p.tombstones,
            minSeq: p.minSeq,
            maxSeq: p.maxSeq
          })
          assert.strictEqual(reader.index.length, p.dataBlocks)
          if (n > 1) assert.isAbove(reader.index.length, 1)
          if (n > 1) {
            // Some index separators are shortened: they are not keys of the table.
            const present = new Set(entries.map((e) => e.key))
            assert.isTrue(reader.index.keys.some((k) => !present.has(k)))
            assert.strictEqual(reader.index.keys[reader.index.length - 1], entries[entries.length - 1]!.key)
          }
        })
      )

      it.effect("gets every key at several sequences, and no absent key", () =>
        Effect.gen(function* () {
          const { counters, reader } = yield* open(bytes)
          const found = yield* checkGets(reader, entries)
          assert.isAbove(found, 0)
          const absent = Math.min(2000, entries.length + 1)
          for (let i = 0; i < absent; i++) {
            const key = userKey(i) + "~" // sorts between present keys
            assert.isUndefined(yield* getEntry(reader, key, MAX_SEQUENCE), key)
            assert.isUndefined(yield* getEntry(reader, `user:${String(2 * i + 1).padStart(7, "0")}`, MAX_SEQUENCE))
          }
          assert.isUndefined(yield* getEntry(reader, "", MAX_SEQUENCE))
          assert.isUndefined(yield* getEntry(reader, "zzz", MAX_SEQUENCE))
          assert.isAbove(counters.bloomNegatives, absent) // most absent keys stop at the filter
          assert.isAtMost(counters.bloomNegatives, counters.bloomChecks)
        })
      )

      it.effect("iterates forward and backward over exactly the input", () =>
        Effect.gen(function* () {
          const { reader } = yield* open(bytes)
          const forward = yield* scanForward(reader.iterator())
          assert.strictEqual(forward.length, entries.length)
          forward.forEach((e, i) => {
            const x = entries[i]!
            assert.isTrue(
              e.key === x.key && e.seq === x.seq && e.kind === x.kind && Buffer.from(e.value).equals(Buffer.from(x.value)),
              `entry ${i}`
            )
          })
          const backward = yield* scanBackward(reader.iterator())
          assert.deepStrictEqual(backward, entries.map((e) => `${e.key}@${e.seq}`).reverse())
        })
      )

      it.effect("seeks to random keys", () =>
        Effect.gen(function* () {
          const { reader } = yield* open(bytes)
          yield* checkSeeks(reader, entries, n === 1 ? 50 : 400, 11)
        })
      )

      it.effect("iterates the same with a 0-byte cache (always pending) as with a large cache", () =>
        Effect.gen(function* () {
          const cold = yield* open(bytes, 0)
          const it = cold.reader.iterator()
          it.seekToFirst()
          assert.isTrue(it.pending())
          assert.isFalse(it.valid())
          const forward = yield* scanForward(cold.reader.iterator())
          const warm = yield* open(bytes)
          assert.deepStrictEqual(forward, yield* scanForward(warm.reader.iterator()))
          assert.deepStrictEqual(yield* scanBackward(cold.reader.iterator()), yield* scanBackward(warm.reader.iterator()))
          assert.strictEqual(cold.cache.usage, 0)
          assert.isAtLeast(cold.counters.blockReads, 2 * cold.reader.index.length)
          yield* checkSeeks(cold.reader, entries, n === 1 ? 20 : 150, 12)
          // Gets through a 0-byte cache read the block each time.
          assert.strictEqual(yield* checkGets(cold.reader, entries.slice(0, 200)), yield* checkGets(warm.reader, entries.slice(0, 200)))
        })
      )
    })
  }

  it.effect("serves a cached block without I/O", () =>
    Effect.gen(function* () {
      const entries = makeEntries(2000, 5)
      const { reader, reads, cache } = yield* open(buildTable(entries).bytes)
      const e = entries[1234]!
      const before = reads.count
      // Not cached, and no synchronous read: the lookup answers with the effect reading the block.
      const pending = reader.get(e.key, MAX_SEQUENCE)
      if (!isPending(pending)) return assert.fail("expected the lookup to wait for its block")
      assert.strictEqual(reads.count, before)
      const first = entryOf(yield* pending)
      assert.strictEqual(reads.count, before + 1)
      const want = modelGet(groupByKey(entries), e.key, MAX_SEQUENCE)!
      assert.deepStrictEqual(first, entryOf(want.kind === KIND_PUT ? want.value : TOMBSTONE))
      // Cached now: the answer comes at once, without I/O.
      const hits = cache.hits
      const second = reader.get(e.key, MAX_SEQUENCE)
      assert.isFalse(isPending(second))
      assert.strictEqual(reads.count, before + 1)
      assert.strictEqual(cache.hits, hits + 1)
      assert.deepStrictEqual(entryOf(second as Found), first)
      // An iterator over cached blocks never goes pending.
      const it = reader.iterator()
      it.seek(e.key, MAX_SEQUENCE)
      assert.isFalse(it.pending())
      assert.strictEqual(it.key(), e.key)
    })
  )

  it.effect("with effectful reads too, an iterator that does not fill the cache caches nothing, and point reads cache only what the cache admits", () =>
    Effect.gen(function* () {
      const entries = makeEntries(3000, 13)
      const { bytes } = buildTable(entries)
      const { reader, cache } = yield* open(bytes)
      const forward = yield* scanForward(reader.iterator(false))
      assert.strictEqual(forward.length, entries.length)
      assert.strictEqual(cache.entries, 0)
      // Full (a block the size of the whole cache): a point read's block is cached on its second miss.
      const full = yield* open(bytes, 16 * 1024)
      full.cache.set(99, 0, new Block(Buffer.alloc(4), 0, 0), 16 * 1024)
      const e = entries[1000]!
      const offset = full.reader.index.offsets[full.reader.index.find(e.key, MAX_SEQUENCE)]!
      const first = yield* getEntry(full.reader, e.key, MAX_SEQUENCE)
      assert.isFalse(full.cache.has(7, offset))
      assert.deepStrictEqual(yield* getEntry(full.reader, e.key, MAX_SEQUENCE), first)
      assert.isTrue(full.cache.has(7, offset))
    })
  )

  it.effect("streams its output: chunks taken as it goes equal the bytes of a build taken at the end", () =>
    Effect.sync(() => {
      const entries = makeEntries(20_000, 6)
      const streamed = buildTable(entries).bytes
      const builder = new TableBuilder(options)
      let takenEarly = 0
      for (const e of entries) builder.add(e.key, e.seq, e.kind, e.value)
      takenEarly = builder.takeOutput().reduce((s, c) => s + c.length, 0)
      const rest = builder.finish()
      assert.isAbove(takenEarly, 0)
      const bytes = streamed.subarray(takenEarly)
      assert.isTrue(Buffer.concat(rest).equals(bytes))
    })
  )

  it("rejects entries out of internal order", () => {
    const builder = new TableBuilder(options)
    builder.add("b", 5, KIND_PUT, Buffer.from("v"))
    assert.throws(() => builder.add("a", 9, KIND_PUT, Buffer.from("v")))
    assert.throws(() => builder.add("b", 5, KIND_PUT, Buffer.from("v")))
    assert.throws(() => builder.add("b", 6, KIND_PUT, Buffer.from("v")))
    builder.add("b", 4, KIND_DELETE, new Uint8Array(0))
    builder.add("c", 9, KIND_PUT, Buffer.from("v"))
    assert.strictEqual(builder.entries, 3)
  })

  it.effect("an empty table opens and holds nothing", () =>
    Effect.gen(function* () {
      const builder = new TableBuilder(options)
      const bytes = Buffer.concat(builder.finish())
      const { reader } = yield* open(bytes)
      assert.strictEqual(reader.properties.entries, 0)
      assert.strictEqual(reader.index.length, 0)
      assert.isUndefined(yield* getEntry(reader, "a", MAX_SEQUENCE))
      assert.deepStrictEqual(yield* scanForward(reader.iterator()), [])
      assert.deepStrictEqual(yield* scanBackward(reader.iterator()), [])
      const it = reader.iterator()
      it.seekForPrev("a", 1)
      assert.isFalse(it.valid())
    })
  )

  it.effect("without a filter (0 bits/key) reads still work", () =>
    Effect.gen(function* () {
      const entries = makeEntries(3000, 8)
      const { counters, reader } = yield* open(buildTable(entries, { ...options, bitsPerKey: 0 }).bytes)
      assert.strictEqual(reader.filter.length, 0)
      assert.isTrue(mayContain(reader.filter, "absent"))
      yield* checkGets(reader, entries)
      assert.strictEqual(counters.bloomChecks, 0)
    })
  )

  describe("corruption", () => {
    const entries = makeEntries(3000, 9)
    const { bytes } = buildTable(entries)
    const flip = (at: number): Buffer => {
      const copy = Buffer.from(bytes)
      copy[at] = copy[at]! ^ 0x10
      return copy
    }
    const expectCorruption = <A>(exit: Exit.Exit<A, unknown>, what: string): Corruption => {
      assert.isTrue(Exit.isFailure(exit), `${what}: expected a failure`)
      if (!Exit.isFailure(exit)) throw new Error("unreachable")
      const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.instanceOf(error, Corruption, `${what}: expected Corruption, got ${String(exit.cause)}`)
      assert.strictEqual((error as Corruption).file, "corrupt.sst")
      return error as Corruption
    }

    it.effect("a flipped byte in a data block fails reads of that block, and no read returns a wrong value", () =>
      Effect.gen(function* () {
        const { reader } = yield* open(bytes)
        const blocks = reader.index.length
        const next = rng(10)
        const byKey = groupByKey(entries)
        for (let trial = 0; trial < 12; trial++) {
          const b = Math.floor(next() * blocks)
          const offset = reader.index.offsets[b]!
          const at = offset + Math.floor(next() * (reader.index.sizes[b]! + 5))
          const bad = yield* open(flip(at), 1 << 20, "corrupt.sst")
          // Iteration reaches the block and fails with a Corruption naming it.
          const error = expectCorruption(yield* Effect.exit(scanForward(bad.reader.iterator())), `flip at ${at}`)
          assert.strictEqual(error.offset, offset)
          // Every get is either right or a Corruption.
          let failures = 0
          for (const [key, versions] of byKey) {
            const exit = yield* Effect.exit(getEntry(bad.reader, key, versions[0]!.seq))
            if (Exit.isSuccess(exit)) {
              assert.isTrue(Buffer.from(exit.value!.value).equals(Buffer.from(versions[0]!.value)), key)
            } else {
              expectCorruption(exit, key)
              failures++
            }
          }
          assert.isAbove(failures, 0)
        }
      })
    )

    it.effect("a flipped byte in the index, filter or properties block fails open", () =>
      Effect.gen(function* () {
        const { reader } = yield* open(bytes)
        const metaStart = reader.properties.dataSize
        const footerStart = bytes.length - FOOTER_SIZE
        for (let at = metaStart; at < footerStart; at += Math.max(1, Math.floor((footerStart - metaStart) / 97))) {
          expectCorruption(yield* Effect.exit(open(flip(at), 1 << 20, "corrupt.sst")), `flip at ${at}`)
        }
      })
    )

    it.effect("a flipped byte anywhere in the footer fails open", () =>
      Effect.gen(function* () {
        for (let at = bytes.length - FOOTER_SIZE; at < bytes.length; at++) {
          const error = expectCorruption(yield* Effect.exit(open(flip(at), 1 << 20, "corrupt.sst")), `flip at ${at}`)
          assert.strictEqual(error.offset, bytes.length - FOOTER_SIZE)
        }
      })
    )

    it.effect("a footer naming another format version fails open", () =>
      Effect.gen(function* () {
        const copy = Buffer.from(bytes)
        const footer = copy.subarray(copy.length - FOOTER_SIZE)
        assert.strictEqual(footer.readUInt32LE(48), 1)
        footer.writeUInt32LE(2, 48)
        footer.writeUInt32LE(maskedCrc32(footer.subarray(0, 52)), 52)
        const error = expectCorruption(yield* Effect.exit(open(copy, 1 << 20, "corrupt.sst")), "version 2")
        assert.include(error.description, "version")
      })
    )

    it.effect("properties that disagree with the index fail open", () =>
      Effect.gen(function* () {
        const { reader } = yield* open(bytes)
        const props = reader.properties
        const contents = encodeProperties(props)
        const wrong = encodeProperties({ ...props, dataBlocks: props.dataBlocks + 1 })
        assert.strictEqual(wrong.length, contents.length)
        const copy = Buffer.from(bytes)
        // The properties block follows the filter block; reseal the wrong contents in its place.
        const at = copy.indexOf(sealBlock(contents), props.dataSize)
        assert.isAtLeast(at, props.dataSize)
        sealBlock(wrong).copy(copy, at)
        const error = expectCorruption(yield* Effect.exit(open(copy, 1 << 20, "corrupt.sst")), "dataBlocks + 1")
        assert.include(error.description, "properties")
      })
    )

    it.effect("a truncated file fails open", () =>
      Effect.gen(function* () {
        for (const size of [0, 10, FOOTER_SIZE, bytes.length - 1, Math.floor(bytes.length / 2)]) {
          expectCorruption(yield* Effect.exit(open(bytes.subarray(0, size), 1 << 20, "corrupt.sst")), `size ${size}`)
        }
      })
    )
  })
})

describe("table with a synchronous positional read", () => {
  const entries = makeEntries(5000, 3)
  const { bytes } = buildTable(entries)
  /** Table file `number` holding `bytes`, read synchronously (into the buffer given, if any). */
  const syncFile = (number: number, bytes: Buffer): TableFile => ({
    number,
    name: `${String(number).padStart(6, "0")}.sst`,
    size: bytes.length,
    readAt: (offset, length) => Effect.succeed(bytes.slice(offset, offset + length)),
    readAtSync: (offset, length, into) => {
      const target = into === undefined ? new Uint8Array(length) : into.subarray(0, length)
      target.set(bytes.subarray(offset, offset + length))
      return target
    }
  })
  const openSync = (cache: BlockCache, number = 9, table: Buffer = bytes) => {
    const reader = openTable(syncFile(number, table), cache, newCounters())
    // A file that reads synchronously opens now.
    assert.instanceOf(reader, TableReader)
    return reader as TableReader
  }

  it.effect("an iterator that does not fill the cache reads every entry and caches nothing", () =>
    Effect.gen(function* () {
      const cache = new BlockCache(64 * 1024 * 1024)
      const reader = openSync(cache)
      const it = reader.iterator(false)
      assert.isFalse(it.pending(), "synchronous reads never leave it pending")
      const forward = yield* scanForward(it)
      assert.deepStrictEqual(forward.map((e) => `${e.key}@${e.seq}`), entries.map((e) => `${e.key}@${e.seq}`))
      assert.strictEqual(cache.entries, 0)
      // A caching iterator over the same table does fill it.
      yield* scanForward(reader.iterator())
      assert.isAbove(cache.entries, 0)
    })
  )

  it.effect("scans and compactions read ahead, and a window that fails to read past a block does not fail the block", () =>
    Effect.gen(function* () {
      const probe = openSync(new BlockCache(0))
      const blocks = probe.index.length
      assert.isAbove(blocks, 40)
      // The file fails every read that covers the start of block `bad` (as a bad sector there would).
      const bad = Math.floor(blocks / 2)
      const badAt = probe.index.offsets[bad]!
      const reads: Array<number> = []
      const inner = syncFile(9, bytes)
      const file: TableFile = {
        ...inner,
        readAtSync: (offset, length, into) => {
          reads.push(length)
          if (offset <= badAt && badAt < offset + length) {
            throw new SystemError({ reason: "Unknown", module: "FileSystem", method: "read", description: "injected" })
          }
          return inner.readAtSync!(offset, length, into)
        }
      }
      const expectedBefore = entries.filter((e) => compareInternal(e.key, e.seq, probe.index.keys[bad - 1]!, probe.index.seqs[bad - 1]!) <= 0)
      for (const fillCache of [true, false]) {
        // A whole scan of the sound file: a few windows, not a read per block.
        let whole = 0
        const counted: TableFile = { ...inner, readAtSync: (offset, length, into) => (whole++, inner.readAtSync!(offset, length, into)) }
        const sound = openTable(counted, new BlockCache(fillCache ? 64 * 1024 * 1024 : 0), newCounters()) as TableReader
        whole = 0
        assert.strictEqual((yield* scanForward(sound.iterator(fillCache))).length, entries.length)
        assert.isBelow(whole, blocks / 5, `${whole} reads for ${blocks} blocks`)

        const reader = openTable(file, new BlockCache(fillCache ? 64 * 1024 * 1024 : 0), newCounters())
        assert.instanceOf(reader, TableReader)
        reads.length = 0
        const it = (reader as TableReader).iterator(fillCache)
        it.seekToFirst()
        let seen = 0
        while (it.valid()) {
          seen++
          it.next()
        }
        // Every entry before block `bad` is read; the scan stops there, with the read's error.
        assert.strictEqual(seen, expectedBefore.length, `fillCache ${fillCache}`)
        assert.isTrue(it.pending(), "the failed block leaves the iterator pending")
        const failed = yield* Effect.exit(it.load())
        assert.isTrue(Exit.isFailure(failed))
        // After the failed window, blocks are read alone: the one that fails is the bad one.
        assert.strictEqual(reads.at(-1), probe.index.sizes[bad]! + 5)
      }
    })
  )

  it.effect("a scan reads ahead through blocks the cache holds every other one of", () =>
    Effect.gen(function* () {
      let reads = 0
      const inner = syncFile(9, bytes)
      const counted: TableFile = { ...inner, readAtSync: (offset, length, into) => (reads++, inner.readAtSync!(offset, length, into)) }
      const cache = new BlockCache(64 * 1024 * 1024)
      const reader = openTable(counted, cache, newCounters()) as TableReader
      const blocks = reader.index.length
      // Point reads cache the blocks they read while the cache has room.
      for (let i = 0; i < blocks; i += 2) reader.get(reader.index.keys[i]!, MAX_SEQUENCE)
      assert.isAtLeast(cache.entries, blocks / 4)
      reads = 0
      assert.strictEqual((yield* scanForward(reader.iterator())).length, entries.length)
      // A cached block is a step of the walk, not a jump: the blocks between are read in windows.
      assert.isBelow(reads, blocks / 5, `${reads} reads for ${blocks} blocks`)
    })
  )

  it("point reads answer at once, past a full cache through the reused buffer, and cache a block on its second miss", () => {
    const cache = new BlockCache(8 * 1024)
    const reader = openSync(cache)
    const byKey = groupByKey(entries)
    for (let i = 0; i < entries.length; i += 7) {
      const e = entries[i]!
      const want = modelGet(byKey, e.key, Number.MAX_SAFE_INTEGER)!
      const got = reader.get(e.key, Number.MAX_SAFE_INTEGER)
      assert.isFalse(isPending(got) || isTableError(got), `key ${e.key}`)
      assert.deepStrictEqual(entryOf(got as Found), entryOf(want.kind === KIND_PUT ? want.value : TOMBSTONE), `value of ${e.key}`)
    }
    assert.isAtMost(cache.usage, 8 * 1024)
  })

  it("a full cache admits a compressed block on its second miss only: admission weighs the block decompressed, as the cache charges it", () => {
    // Equal entries, so every data block has the same contents length; values compress to about a third.
    const same: Array<Entry> = []
    for (let i = 0; i < 2000; i++) {
      same.push({ key: `key:${String(i).padStart(6, "0")}`, seq: 1, kind: KIND_PUT, value: Buffer.from(`value ${String(i).padStart(6, "0")} `.repeat(6)) })
    }
    const cache = new BlockCache(24 * 1024)
    const reader = openSync(cache, 7, buildTable(same, { ...options, compression: "lz4" }).bytes)
    const blocks = reader.index.offsets.length
    const keyIn = (b: number) => same.find((e) => reader.index.find(e.key, MAX_SEQUENCE) === b)!.key
    assert.isAbove(blocks, 20)
    assert.isBelow(reader.index.sizes[1]!, 0.6 * 4096, "blocks are stored compressed")
    // Fill the cache from the first blocks: admitted while there is room.
    let b = 0
    while (cache.usage + 4096 <= cache.capacity) reader.get(keyIn(b++), MAX_SEQUENCE)
    const cached = Array.from({ length: b }, (_, i) => reader.index.offsets[i]!).filter((offset) => cache.has(7, offset))
    assert.isAbove(cached.length, 3)
    // Full: each further block read once stays out, and what was cached stays.
    const unread = blocks - 2 // a full block kept for the end
    for (let i = b; i < unread; i++) {
      const value = reader.get(keyIn(i), MAX_SEQUENCE) as Found
      assert.instanceOf(value, Uint8Array, `block ${i}`)
      assert.isFalse(cache.has(7, reader.index.offsets[i]!), `block ${i} missed once is not cached`)
    }
    for (const offset of cached) assert.isTrue(cache.has(7, offset), `block at ${offset} still cached`)
    // The second miss admits it, and its value is read right.
    const again = keyIn(b)
    assert.deepStrictEqual(Buffer.from(reader.get(again, MAX_SEQUENCE) as Uint8Array), Buffer.from(same.find((e) => e.key === again)!.value))
    assert.isTrue(cache.has(7, reader.index.offsets[b]!))
    // The cached block owns its bytes: a read of another block through the reused buffers (one
    // never read, so missed once and not cached) leaves it intact.
    reader.get(keyIn(unread), MAX_SEQUENCE)
    assert.isFalse(cache.has(7, reader.index.offsets[unread]!))
    for (const e of same.filter((e) => reader.index.find(e.key, MAX_SEQUENCE) === b)) {
      assert.deepStrictEqual(Buffer.from(reader.get(e.key, MAX_SEQUENCE) as Uint8Array), Buffer.from(e.value), e.key)
    }
  })

  it.effect("point reads of LZ4 blocks the cache does not admit search them as they decode: the same answers as cached blocks", () =>
    Effect.gen(function* () {
      const compressed = buildTable(entries, { ...options, compression: "lz4" }).bytes
      // A 0-byte cache admits nothing: every point read streams its block.
      const cold = openSync(new BlockCache(0), 9, compressed)
      const warm = openSync(new BlockCache(64 * 1024 * 1024), 10, compressed)
      assert.isBelow(cold.index.sizes[1]!, 0.8 * 4096, "blocks are stored compressed")
      const found = yield* checkGets(cold, entries)
      assert.strictEqual(found, yield* checkGets(warm, entries))
      for (let i = 0; i < 2000; i++) {
        for (const key of [userKey(i) + "~", `user:${String(2 * i + 1).padStart(7, "0")}`, userKey(i) + ".zz"]) {
          assert.isUndefined(yield* getEntry(cold, key, MAX_SEQUENCE), key)
        }
      }
    })
  )

  it("a point read past a full cache caches a block on its second miss, a scan on its first", () => {
    const cache = new BlockCache(8 * 1024)
    const reader = openSync(cache)
    const offsetOf = (key: string) => reader.index.offsets[reader.index.find(key, MAX_SEQUENCE)]!
    const filler = () => cache.set(99, 0, new Block(Buffer.alloc(4), 0, 0), 8 * 1024)
    filler()
    const e = entries[entries.length - 1]!
    const value = entryOf(reader.get(e.key, MAX_SEQUENCE) as Found)
    assert.isFalse(cache.has(9, offsetOf(e.key)))
    assert.deepStrictEqual(entryOf(reader.get(e.key, MAX_SEQUENCE) as Found), value)
    assert.isTrue(cache.has(9, offsetOf(e.key)))
    filler()
    const it = reader.iterator()
    it.seek(entries[0]!.key, MAX_SEQUENCE)
    assert.isTrue(it.valid())
    assert.isTrue(cache.has(9, offsetOf(entries[0]!.key)))
  })
})
