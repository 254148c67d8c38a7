/**
 * The WAL's batch payload (doc/log_format.md, "WAL record payload"): entries round-trip with
 * consecutive sequences; malformed payloads throw `BatchFormatError`.
 */
import { assert, describe, it } from "@effect/vitest"
import { KIND_DELETE, KIND_PUT } from "../../src/internal/key/internalKey.js"
import { BatchFormatError, decodeBatch, encodeBatch, type ResolvedOp, setSequence } from "../../src/internal/wal/batchCodec.js"

const put = (key: string, value: string | Uint8Array): ResolvedOp => ({
  kind: KIND_PUT,
  key,
  value,
  valueLength: typeof value === "string" ? Buffer.byteLength(value) : value.byteLength
})
const del = (key: string): ResolvedOp => ({ kind: KIND_DELETE, key, value: undefined, valueLength: 0 })

const decodeAll = (payload: Uint8Array) => {
  const out: Array<[string, number, number, string]> = []
  const last = decodeBatch(payload, (key, seq, kind, value) => out.push([key, seq, kind, Buffer.from(value).toString()]))
  return { out, last }
}

describe("batch codec", () => {
  it("round-trips puts and deletes with consecutive sequences", () => {
    const { payload } = encodeBatch([
      put("a", "1"),
      del("b"),
      put("c".repeat(300), new Uint8Array(200).fill(65))
    ])
    setSequence(payload, 41)
    const { out, last } = decodeAll(payload)
    assert.deepStrictEqual(out, [
      ["a", 41, KIND_PUT, "1"],
      ["b", 42, KIND_DELETE, ""],
      ["c".repeat(300), 43, KIND_PUT, "A".repeat(200)]
    ])
    assert.strictEqual(last, 43)
  })

  it("rejects a batch whose sequences pass 2^53 - 1", () => {
    const { payload } = encodeBatch([
      put("a", "1"),
      put("b", "2")
    ])
    setSequence(payload, Number.MAX_SAFE_INTEGER - 1)
    assert.strictEqual(decodeAll(payload).last, Number.MAX_SAFE_INTEGER)
    setSequence(payload, Number.MAX_SAFE_INTEGER)
    assert.throws(() => decodeAll(payload), BatchFormatError)
  })

  it("rejects an unknown kind, a short batch and bytes after the last entry", () => {
    const good = () => Buffer.from(encodeBatch([put("k", "v")]).payload)
    const badKind = good()
    badKind[12] = 7
    assert.throws(() => decodeAll(badKind), BatchFormatError)
    assert.throws(() => decodeAll(good().subarray(0, good().length - 1)), BatchFormatError)
    assert.throws(() => decodeAll(Buffer.concat([good(), Buffer.from([0])])), BatchFormatError)
    assert.throws(() => decodeAll(new Uint8Array(5)), BatchFormatError)
  })
})
