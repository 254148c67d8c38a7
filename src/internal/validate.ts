/**
 * Validation of user input into the engine's representation. Bad input is an `InvalidArgument`
 * before anything is written.
 */
import { Buffer } from "node:buffer"
import { InvalidArgument } from "../errors.js"
import { KIND_DELETE, KIND_PUT } from "./key/internalKey.js"
import { bytesToKey, stringToKey } from "./key/keyCodec.js"
import type { ResolvedOp } from "./wal/batchCodec.js"

const describe = (x: unknown): string => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x)

/** The latin1 key of a user key, or the reason it is refused. */
export const resolveKey = (method: string, key: unknown, maxKeySize: number): string | InvalidArgument => {
  let k: string
  if (typeof key === "string") k = stringToKey(key)
  else if (key instanceof Uint8Array) k = bytesToKey(key)
  else return new InvalidArgument({ method, description: `key must be a string or Uint8Array, got ${describe(key)}` })
  if (k.length === 0) return new InvalidArgument({ method, description: "key must not be empty" })
  if (k.length > maxKeySize) {
    return new InvalidArgument({ method, description: `key of ${k.length} bytes exceeds maxKeySize ${maxKeySize}` })
  }
  return k
}

/** A range bound: like a key, but the empty key (before every key) is allowed and size is not limited. */
export const resolveBound = (method: string, name: string, value: unknown): string | undefined | InvalidArgument => {
  if (value === undefined) return undefined
  if (typeof value === "string") return stringToKey(value)
  if (value instanceof Uint8Array) return bytesToKey(value)
  return new InvalidArgument({ method, description: `${name} must be a string or Uint8Array, got ${describe(value)}` })
}

/** The encoded length of a user value, or the reason it is refused. */
export const valueLength = (method: string, value: unknown, maxValueSize: number): number | InvalidArgument => {
  let n: number
  if (typeof value === "string") n = value.length === 0 ? 0 : Buffer.byteLength(value, "utf8")
  else if (value instanceof Uint8Array) n = value.byteLength
  else return new InvalidArgument({ method, description: `value must be a string or Uint8Array, got ${describe(value)}` })
  if (n > maxValueSize) {
    return new InvalidArgument({ method, description: `value of ${n} bytes exceeds maxValueSize ${maxValueSize}` })
  }
  return n
}

export const resolvePut = (
  method: string,
  key: unknown,
  value: unknown,
  maxKeySize: number,
  maxValueSize: number
): ResolvedOp | InvalidArgument => {
  const k = resolveKey(method, key, maxKeySize)
  if (typeof k !== "string") return k
  const n = valueLength(method, value, maxValueSize)
  if (typeof n !== "number") return n
  return { kind: KIND_PUT, key: k, value: value as string | Uint8Array, valueLength: n }
}

export const resolveDelete = (method: string, key: unknown, maxKeySize: number): ResolvedOp | InvalidArgument => {
  const k = resolveKey(method, key, maxKeySize)
  if (typeof k !== "string") return k
  return { kind: KIND_DELETE, key: k, value: undefined, valueLength: 0 }
}

/** `sync` must be a boolean when given. */
export const checkWriteOptions = (method: string, options: unknown): InvalidArgument | undefined => {
  if (options === undefined) return undefined
  if (options === null || typeof options !== "object") {
    return new InvalidArgument({ method, description: "options must be an object" })
  }
  const sync = (options as { sync?: unknown }).sync
  if (sync !== undefined && typeof sync !== "boolean") {
    return new InvalidArgument({ method, description: "options.sync must be a boolean" })
  }
  return undefined
}
