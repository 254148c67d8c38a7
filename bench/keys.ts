/**
 * Keys and values of the workloads, all `Buffer`s handed identically to every engine.
 *
 * - db_bench: key `i` is its 16-digit zero-padded decimal (as LevelDB's db_bench); a value is 100
 *   bytes derived from (i, generation): 50 pseudo-random printable bytes repeated twice, so it
 *   compresses to about half, like db_bench's `--compression_ratio=0.5` values.
 * - keylite: `key_w{writer}_{random u64}` and `value_{random u64}`. The loaded variant derives the
 *   u64s from the entry's index, so readers rebuild the exact key and value they must find.
 */
import { hash2, u64Text } from "./random.js"

export const DB_KEY_SIZE = 16
export const DB_VALUE_SIZE = 100
const HALF = DB_VALUE_SIZE / 2

/** The 16-byte db_bench key of `i` (0 <= i < 10^16). */
export const dbKey = (i: number): Buffer => {
  const out = Buffer.allocUnsafe(DB_KEY_SIZE)
  let n = i
  for (let p = DB_KEY_SIZE - 1; p >= 0; p--) {
    out[p] = 48 + (n % 10)
    n = Math.floor(n / 10)
  }
  return out
}

/** Writes the 100-byte value of key `i` at `generation` into `out` (length >= 100) and returns it. */
export const fillDbValue = (i: number, generation: number, out: Buffer): Buffer => {
  const salt = generation * 64
  for (let j = 0; j < HALF; j += 4) {
    const h = hash2(i, salt + j)
    out[j] = 32 + ((h & 0xff) % 95)
    out[j + 1] = 32 + (((h >>> 8) & 0xff) % 95)
    if (j + 2 < HALF) out[j + 2] = 32 + (((h >>> 16) & 0xff) % 95)
    if (j + 3 < HALF) out[j + 3] = 32 + ((h >>> 24) % 95)
  }
  out.copy(out, HALF, 0, HALF)
  return out
}

/** A fresh 100-byte value of key `i` at `generation`. */
export const dbValue = (i: number, generation: number): Buffer =>
  fillDbValue(i, generation, Buffer.allocUnsafe(DB_VALUE_SIZE))

/** Whether `got` holds exactly the bytes of `expected`. */
export const sameBytes = (expected: Buffer, got: Uint8Array | undefined): boolean =>
  got !== undefined && got.length === expected.length && expected.compare(got) === 0

/** keylite key text of `writer` with a random u64 from three u32 draws. */
export const keyliteKey = (writer: number, a: number, b: number, c: number): Buffer =>
  Buffer.from(`key_w${writer}_${u64Text(a, b, c)}`, "latin1")

/** keylite value text with a random u64 from three u32 draws. */
export const keyliteValue = (a: number, b: number, c: number): Buffer =>
  Buffer.from(`value_${u64Text(a, b, c)}`, "latin1")

/** Writers in keylite; the loaded entry `i` belongs to writer `i % KEYLITE_WRITERS`. */
export const KEYLITE_WRITERS = 4

/** The key of loaded entry `i` of the keylite-loaded variant. */
export const loadedKey = (i: number): Buffer =>
  keyliteKey(i % KEYLITE_WRITERS, hash2(i, 1), hash2(i, 2), hash2(i, 3))

/** The value of loaded entry `i` of the keylite-loaded variant. */
export const loadedValue = (i: number): Buffer => keyliteValue(hash2(i, 4), hash2(i, 5), hash2(i, 6))
