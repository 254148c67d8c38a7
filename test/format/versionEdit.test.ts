import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { DecodeError } from "../../src/internal/format/varint.js"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"
import { fileNumberString, logFileName, manifestFileName, parseFileName, tableFileName } from "../../src/internal/fs/fileNames.js"
import { MAX_LEVELS } from "../../src/internal/version/manifestFormat.js"
import { decodeVersionEdit, encodeVersionEdit, type VersionEdit } from "../../src/internal/version/versionEdit.js"

const meta = (number: number, smallestKey: string, largestKey: string): FileMeta => ({
  number,
  size: 2 * 1024 * 1024 + number,
  rawSize: 3 * 1024 * 1024 + number,
  smallestKey,
  smallestSeq: 1000 + number,
  largestKey,
  largestSeq: 7,
  entries: 12345,
  tombstones: 67,
  minSeq: 7,
  maxSeq: 1000 + number
})

const fullEdit: VersionEdit = {
  comparator: "stratadb.BytewiseComparator",
  logNumber: 7,
  nextFileNumber: 13,
  lastSequence: 2 ** 40 + 17,
  compactPointers: [
    { level: 1, key: "m\u00ff\u0000key", seq: 99 },
    { level: 2, key: "", seq: 0 }
  ],
  deletedFiles: [
    { level: 0, number: 4 },
    { level: 0, number: 5 },
    { level: 1, number: 3 }
  ],
  newFiles: [
    { level: 1, meta: meta(11, "a", "k") },
    { level: 1, meta: meta(12, "k\u0001", "z\u00ff\u00ff") }
  ]
}

/** Fails unless `f` throws a `DecodeError`; returns it. */
const decodeError = (f: () => unknown): DecodeError => {
  try {
    f()
  } catch (e) {
    assert.instanceOf(e, DecodeError)
    return e as DecodeError
  }
  return assert.fail("expected a DecodeError")
}

/** Empty repeated fields are absent after a round trip. */
const normalize = (edit: VersionEdit): VersionEdit => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(edit)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue
    out[k] = v
  }
  return out as VersionEdit
}

describe("version edit encoding", () => {
  it("writes the documented bytes: a varint tag, then the field's values", () => {
    assert.deepStrictEqual([...encodeVersionEdit({})], [])
    assert.deepStrictEqual([...encodeVersionEdit({ logNumber: 5 })], [2, 5])
    assert.deepStrictEqual([...encodeVersionEdit({ deletedFiles: [{ level: 1, number: 300 }] })], [6, 1, 0xac, 0x02])
    assert.deepStrictEqual([...encodeVersionEdit({ comparator: "ab" })], [1, 2, 0x61, 0x62])
    assert.deepStrictEqual([...encodeVersionEdit({ compactPointers: [{ level: 3, key: "\u00ff", seq: 128 }] })], [
      5,
      3,
      1,
      0xff,
      0x80,
      0x01
    ])
    // Singletons first, in tag order, whatever the object's key order.
    assert.deepStrictEqual([...encodeVersionEdit({ lastSequence: 9, nextFileNumber: 8, logNumber: 7 })], [2, 7, 3, 8, 4, 9])
    assert.deepStrictEqual(
      [...encodeVersionEdit({ newFiles: [{ level: 0, meta: { ...meta(1, "a", "b"), size: 1, rawSize: 2 } }] })],
      [8, 0, 1, 1, 2, 1, 0x61, 0xe9, 0x07, 1, 0x62, 7, 0xb9, 0x60, 67, 7, 0xe9, 0x07]
    )
  })

  it("reads a new file of the layout before raw sizes (tag 7) with its raw size equal to its size", () => {
    const before = [7, 0, 1, 5, 1, 0x61, 0xe9, 0x07, 1, 0x62, 7, 0xb9, 0x60, 67, 7, 0xe9, 0x07]
    assert.deepStrictEqual(decodeVersionEdit(Uint8Array.from(before)), {
      newFiles: [{ level: 0, meta: { ...meta(1, "a", "b"), size: 5, rawSize: 5 } }]
    })
  })

  it("round-trips a full edit and sparse ones", () => {
    assert.deepStrictEqual(decodeVersionEdit(encodeVersionEdit(fullEdit)), fullEdit)
    for (const sparse of [
      {},
      { logNumber: 0 },
      { lastSequence: Number.MAX_SAFE_INTEGER },
      { comparator: "" },
      { comparator: "naïve ☃" },
      { newFiles: fullEdit.newFiles },
      { deletedFiles: [{ level: MAX_LEVELS - 1, number: 2 ** 50 }] }
    ] satisfies Array<VersionEdit>) {
      assert.deepStrictEqual(decodeVersionEdit(encodeVersionEdit(sparse)), sparse)
    }
    // An empty repeated field decodes as absent.
    assert.deepStrictEqual(decodeVersionEdit(encodeVersionEdit({ logNumber: 1, newFiles: [] })), { logNumber: 1 })
  })

  it("decodes fields in any order", () => {
    // newFile-less edit written by hand: deleted file, then last sequence, then log number.
    assert.deepStrictEqual(decodeVersionEdit(Uint8Array.of(6, 2, 9, 4, 100, 2, 3)), {
      lastSequence: 100,
      logNumber: 3,
      deletedFiles: [{ level: 2, number: 9 }]
    })
  })

  const latin1Key = FastCheck.string({ unit: "binary-ascii", maxLength: 24 })
  const safe = FastCheck.maxSafeNat()
  const level = FastCheck.nat(MAX_LEVELS - 1)
  const fileMeta = FastCheck.record({
    number: safe,
    size: safe,
    rawSize: safe,
    smallestKey: latin1Key,
    smallestSeq: safe,
    largestKey: latin1Key,
    largestSeq: safe,
    entries: safe,
    tombstones: safe,
    minSeq: safe,
    maxSeq: safe
  })
  const editArbitrary = FastCheck.record(
    {
      comparator: FastCheck.string(),
      logNumber: safe,
      nextFileNumber: safe,
      lastSequence: safe,
      compactPointers: FastCheck.array(FastCheck.record({ level, key: latin1Key, seq: safe }), { maxLength: 4 }),
      deletedFiles: FastCheck.array(FastCheck.record({ level, number: safe }), { maxLength: 6 }),
      newFiles: FastCheck.array(FastCheck.record({ level, meta: fileMeta }), { maxLength: 6 })
    },
    { requiredKeys: [] }
  )

  it.prop("round-trips random edits", [editArbitrary], ([edit]) => {
    assert.deepStrictEqual(decodeVersionEdit(encodeVersionEdit(edit)), normalize(edit))
  })

  it.prop(
    "a cut inside the last field is rejected with DecodeError, never misread",
    [editArbitrary, FastCheck.nat()],
    ([edit, where]) => {
      const bytes = encodeVersionEdit(edit)
      if (bytes.length === 0) return
      // The bytes of all fields but the last: a cut strictly between them and the end is inside it.
      const lastFieldStart = lastFieldOffset(edit)
      const cut = lastFieldStart + 1 + (where % (bytes.length - lastFieldStart - 1 || 1))
      if (cut >= bytes.length) return
      decodeError(() => decodeVersionEdit(bytes.subarray(0, cut)))
    }
  )
})

/** Offset where the last field of `encodeVersionEdit(edit)` starts (encoding the edit minus that field). */
const lastFieldOffset = (edit: VersionEdit): number => {
  const e = normalize(edit) as Record<string, unknown>
  for (const repeated of ["newFiles", "deletedFiles", "compactPointers"] as const) {
    const list = e[repeated] as Array<unknown> | undefined
    if (list !== undefined) return encodeVersionEdit({ ...e, [repeated]: list.slice(0, -1) }).length
  }
  for (const single of ["lastSequence", "nextFileNumber", "logNumber", "comparator"] as const) {
    if (e[single] !== undefined) return encodeVersionEdit({ ...e, [single]: undefined }).length
  }
  return 0
}

describe("version edit decoding rejects malformed bytes", () => {
  it("an unknown tag, with its offset", () => {
    const e = decodeError(() => decodeVersionEdit(Uint8Array.of(2, 5, 99, 1)))
    assert.strictEqual(e.offset, 2)
    assert.include(e.description, "99")
    decodeError(() => decodeVersionEdit(Uint8Array.of(0)))
    decodeError(() => decodeVersionEdit(Uint8Array.of(8, 1)))
  })

  it("truncated fields", () => {
    // Every strict non-empty prefix of a one-field edit.
    for (const edit of [
      { comparator: "bytewise" },
      { lastSequence: 2 ** 40 },
      { deletedFiles: [{ level: 3, number: 1000 }] },
      { compactPointers: [{ level: 1, key: "key", seq: 5 }] },
      { newFiles: [{ level: 2, meta: meta(9, "abc", "xyz") }] }
    ] satisfies Array<VersionEdit>) {
      const bytes = encodeVersionEdit(edit)
      for (let cut = 1; cut < bytes.length; cut++) decodeError(() => decodeVersionEdit(bytes.subarray(0, cut)))
    }
  })

  it("malformed varints, a level out of range, a singleton given twice", () => {
    decodeError(() => decodeVersionEdit(Uint8Array.of(2, 0x80, 0x00))) // non-shortest
    decodeError(() => decodeVersionEdit(Uint8Array.of(2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01))) // overlong
    decodeError(() => decodeVersionEdit(Uint8Array.of(6, MAX_LEVELS, 1)))
    const twice = decodeError(() => decodeVersionEdit(Uint8Array.of(2, 1, 3, 4, 2, 1)))
    assert.strictEqual(twice.offset, 4)
    decodeError(() => decodeVersionEdit(Uint8Array.of(1, 1, 0x61, 1, 1, 0x62)))
    // A string whose length runs past the end.
    decodeError(() => decodeVersionEdit(Uint8Array.of(1, 10, 0x61)))
  })

  it("the encoder refuses what the decoder would reject", () => {
    assert.throws(() => encodeVersionEdit({ deletedFiles: [{ level: MAX_LEVELS, number: 1 }] }), RangeError)
    assert.throws(() => encodeVersionEdit({ deletedFiles: [{ level: -1, number: 1 }] }), RangeError)
    assert.throws(() => encodeVersionEdit({ logNumber: -1 }), RangeError)
    assert.throws(() => encodeVersionEdit({ lastSequence: 2 ** 53 }), RangeError)
    assert.throws(() => encodeVersionEdit({ newFiles: [{ level: 0, meta: meta(1, "a\u0100", "b") }] }), RangeError)
  })
})

describe("file names", () => {
  it("names files as documented and parses them back", () => {
    assert.strictEqual(logFileName(7), "000007.log")
    assert.strictEqual(tableFileName(12), "000012.sst")
    assert.strictEqual(manifestFileName(3), "MANIFEST-000003")
    assert.strictEqual(fileNumberString(12345678), "12345678")
    assert.deepStrictEqual(parseFileName("000007.log"), { kind: "log", number: 7 })
    assert.deepStrictEqual(parseFileName("000012.sst"), { kind: "table", number: 12 })
    assert.deepStrictEqual(parseFileName("MANIFEST-000003"), { kind: "manifest", number: 3 })
    assert.deepStrictEqual(parseFileName("1234567.sst"), { kind: "table", number: 1234567 })
    assert.deepStrictEqual(parseFileName("CURRENT"), { kind: "current" })
    assert.deepStrictEqual(parseFileName("CURRENT.dbtmp"), { kind: "currentTemp" })
    assert.deepStrictEqual(parseFileName("LOCK"), { kind: "lock" })
    for (const other of ["7.log", "0000007.log", "000007.txt", "MANIFEST-3", "LOG", "000007.log.bak", "x000007.sst"]) {
      assert.isUndefined(parseFileName(other), other)
    }
  })
})
