/**
 * Readahead (internal/table/readahead.ts) over a fake table file: every block it answers with is
 * the file's bytes at the block's place, whatever order the blocks are asked in; a walk in order
 * takes a few reads, not one a block; a jump reads one block; a failed read leaves no stale
 * window and ends reading ahead; the window never spans a gap between blocks.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { Buffer } from "node:buffer"
import { FIRST_WINDOW, MAX_WINDOW, Readahead } from "../../src/internal/table/readahead.js"
import type { ReadAtSync } from "../../src/internal/table/tableFile.js"
import { TableIndex } from "../../src/internal/table/tableIndex.js"
import { BLOCK_TRAILER_SIZE } from "../../src/internal/table/tableFormat.js"

/** A file of blocks of the given stored sizes, each followed by `gaps[i]` bytes of nothing. */
const fileOf = (sizes: ReadonlyArray<number>, gaps: ReadonlyArray<number> = []) => {
  const offsets = new Float64Array(sizes.length)
  let at = 0
  sizes.forEach((size, i) => {
    offsets[i] = at
    at += size + BLOCK_TRAILER_SIZE + (gaps[i] ?? 0)
  })
  const bytes = Buffer.alloc(at)
  for (let p = 0; p < at; p++) bytes[p] = (p * 131 + (p >> 8)) & 0xff
  const index = new TableIndex(
    sizes.map((_, i) => `k${i}`),
    new Float64Array(sizes.length),
    offsets,
    Float64Array.from(sizes)
  )
  return { bytes, index }
}

/**
 * A `ReadAtSync` over `bytes` that records each read's length, and, while `failing` is set,
 * scribbles over the buffer it was given and throws (a read that failed midway).
 */
const reader = (bytes: Buffer) => {
  const reads: Array<number> = []
  const state = { failing: false }
  const read: ReadAtSync = (offset, length, into) => {
    if (state.failing) {
      into?.fill(0xee, 0, length)
      throw new Error("injected read error")
    }
    reads.push(length)
    const n = Math.max(0, Math.min(length, bytes.length - offset))
    const target = into === undefined ? Buffer.allocUnsafe(length) : Buffer.from(into.buffer, into.byteOffset, length)
    bytes.copy(target, 0, offset, offset + n)
    return target.subarray(0, n)
  }
  return { read, reads, state }
}

/** Block `i` through the readahead, or read alone as the caller does when it answers undefined. */
const fetch = (ahead: Readahead, index: TableIndex, i: number, read: ReadAtSync): Buffer => {
  const got = ahead.read(index, i, read) ?? read(index.offsets[i]!, index.sizes[i]! + BLOCK_TRAILER_SIZE)
  return Buffer.from(got)
}

const expected = (bytes: Buffer, index: TableIndex, i: number) =>
  bytes.subarray(index.offsets[i]!, index.offsets[i]! + index.sizes[i]! + BLOCK_TRAILER_SIZE)

describe("readahead", () => {
  it.prop(
    "every block answered is the file's bytes at its place, in any order of asking",
    {
      sizes: fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 80 }),
      walk: fc.array(fc.oneof(fc.constant(1), fc.constant(-1), fc.nat()), { maxLength: 300 })
    },
    ({ sizes, walk }) => {
      const { bytes, index } = fileOf(sizes)
      const { read, reads } = reader(bytes)
      const ahead = new Readahead()
      let i = 0
      for (const step of walk) {
        // ±1 walks on (clamped), any other number jumps there.
        i = step === 1 || step === -1 ? Math.min(index.length - 1, Math.max(0, i + step)) : step % index.length
        assert.deepStrictEqual(fetch(ahead, index, i, read), expected(bytes, index, i), `block ${i}`)
      }
      for (const length of reads) assert.isAtMost(length, Math.max(MAX_WINDOW, ...sizes.map((s) => s + BLOCK_TRAILER_SIZE)))
    }
  )

  it("a walk in order reads windows that grow to the largest, forward and backward", () => {
    const { bytes, index } = fileOf(Array.from({ length: 400 }, () => 4091))
    for (const backward of [false, true]) {
      const { read, reads } = reader(bytes)
      const ahead = new Readahead()
      for (let k = 0; k < index.length; k++) {
        const i = backward ? index.length - 1 - k : k
        assert.deepStrictEqual(fetch(ahead, index, i, read), expected(bytes, index, i))
      }
      // One block alone, then 16, 32, 64, 128 KiB windows, then 256 KiB ones: 4 KiB blocks each.
      assert.strictEqual(reads[0], 4096)
      assert.strictEqual(reads[1], Math.floor(FIRST_WINDOW / 4096) * 4096)
      assert.deepStrictEqual(reads.slice(2, 5), [32768, 65536, 131072])
      assert.isTrue(reads.slice(5, -1).every((n) => n === MAX_WINDOW), JSON.stringify(reads))
      assert.isBelow(reads.length, 20, `${reads.length} reads for ${index.length} blocks`)
      assert.strictEqual(reads.reduce((a, b) => a + b, 0), bytes.length, "each byte read once")
    }
  })

  it("a jump reads the one block, and starts over", () => {
    const { bytes, index } = fileOf(Array.from({ length: 100 }, () => 1000))
    const { read, reads } = reader(bytes)
    const ahead = new Readahead()
    for (const i of [3, 4, 5]) fetch(ahead, index, i, read)
    assert.deepStrictEqual(reads, [1005, Math.floor(FIRST_WINDOW / 1005) * 1005])
    reads.length = 0
    fetch(ahead, index, 60, read)
    fetch(ahead, index, 40, read)
    assert.deepStrictEqual(reads, [1005, 1005])
  })

  it("a read that fails leaves no window behind, and reads no more windows", () => {
    const { bytes, index } = fileOf(Array.from({ length: 50 }, () => 1000))
    const { read, reads, state } = reader(bytes)
    const ahead = new Readahead()
    fetch(ahead, index, 0, read)
    fetch(ahead, index, 1, read)
    state.failing = true
    assert.throws(() => fetch(ahead, index, 17, read))
    assert.throws(() => fetch(ahead, index, 18, read))
    state.failing = false
    reads.length = 0
    // Block 2 was in the window read before the failures, whose buffer they overwrote: read again;
    // and after a failed window no more windows: each block alone.
    for (const i of [2, 3, 4, 5]) assert.deepStrictEqual(fetch(ahead, index, i, read), expected(bytes, index, i))
    assert.deepStrictEqual(reads, [1005, 1005, 1005, 1005])
  })

  it("the window stops at a gap between blocks, and at the end of a short file", () => {
    const sizes = Array.from({ length: 10 }, () => 1000)
    const { bytes, index } = fileOf(sizes, [0, 0, 0, 7])
    const { read, reads } = reader(bytes)
    const ahead = new Readahead()
    for (let i = 0; i < 10; i++) assert.deepStrictEqual(fetch(ahead, index, i, read), expected(bytes, index, i))
    // Block 0 alone; 1-3 (the gap after 3); 4 alone after it would be a window again: 4-9.
    assert.deepStrictEqual(reads, [1005, 3 * 1005, 6 * 1005])

    const cut = bytes.subarray(0, index.offsets[5]! + 10)
    const short = reader(cut)
    const fresh = new Readahead()
    fetch(fresh, index, 4, short.read)
    assert.strictEqual(fetch(fresh, index, 5, short.read).length, 10, "only what the file holds")
  })
})
