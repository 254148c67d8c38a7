/**
 * Validation of user input into the engine's representation. Bad input is an `InvalidArgument`
 * before anything is written, never a thrown exception: every function here catches what reading
 * the input throws (a getter, a Proxy trap, a detached buffer) and returns it as an
 * `InvalidArgument`.
 *
 * What the caller handed in is read once, when the operation's effect is built, and the engine
 * keeps its own copy: a key becomes a latin1 string, and a write's values are copied once, into
 * the batch payload `encodeOps` lays out in the same step. A caller's buffer that is later
 * overwritten, resized, shrunk, grown or detached cannot change what is written.
 */
import { Buffer } from "node:buffer"
import { types } from "node:util"
import { InvalidArgument } from "../errors.js"
import { KIND_DELETE, KIND_PUT } from "./key/internalKey.js"
import { bytesToKey, stringToKey } from "./key/keyCodec.js"
import { encodeBatch, type EncodedBatch, type ResolvedOp } from "./wal/batchCodec.js"

const describe = (x: unknown): string => {
  if (x === null) return "null"
  try {
    return Array.isArray(x) ? "array" : typeof x
  } catch {
    return typeof x // a revoked Proxy
  }
}

/**
 * The message of whatever was thrown, for an `InvalidArgument`'s description. Guarded itself: the
 * thrown value is the caller's too (a Proxy, an error with a throwing `message`).
 */
export const reasonOf = (e: unknown): string => {
  try {
    const message = e instanceof Error ? e.message : undefined
    return typeof message === "string" ? message : "an exception"
  } catch {
    return "an exception"
  }
}

const thrown = (method: string, what: string, e: unknown) =>
  new InvalidArgument({ method, description: `reading ${what} threw: ${reasonOf(e)}` })

/** `String.prototype.isWellFormed` (Node 20; ES2024, past this project's `lib`). */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

const notWellFormed = (method: string, what: string) =>
  new InvalidArgument({ method, description: `${what} is not well-formed UTF-16 (it holds a lone surrogate)` })

const detached = (method: string, what: string) =>
  new InvalidArgument({ method, description: `${what} is a view of a detached or out-of-bounds buffer` })

/**
 * A real `Uint8Array` (or `Buffer`), by its internal slots: a Proxy or an object that only has
 * `Uint8Array.prototype` is not one.
 */
const isBytes = (x: unknown): x is Uint8Array => types.isUint8Array(x)

/**
 * An empty view that is not really empty: its buffer was detached (transferred) or resized so the
 * view is out of bounds. Constructing from such a view throws; only empty views are checked, so
 * the common case costs nothing.
 */
const isUnusableView = (bytes: Uint8Array): boolean => {
  try {
    new Uint8Array(bytes)
    return false
  } catch {
    return true
  }
}

/** The latin1 key of a string or bytes, or the reason it is refused; no size limit. */
const toKey = (method: string, what: string, value: unknown): string | InvalidArgument => {
  if (typeof value === "string") {
    if (!isWellFormed(value)) return notWellFormed(method, what)
    return stringToKey(value)
  }
  if (isBytes(value)) {
    // The latin1 string is the engine's own copy of the bytes.
    const k = bytesToKey(value)
    if (k.length === 0 && isUnusableView(value)) return detached(method, what)
    return k
  }
  return new InvalidArgument({ method, description: `${what} must be a string or Uint8Array, got ${describe(value)}` })
}

/** The latin1 key of a user key, or the reason it is refused. */
export const resolveKey = (method: string, key: unknown, maxKeySize: number): string | InvalidArgument => {
  let k: string | InvalidArgument
  try {
    k = toKey(method, "key", key)
  } catch (e) {
    return thrown(method, "key", e)
  }
  if (typeof k !== "string") return k
  if (k.length > maxKeySize) {
    return new InvalidArgument({ method, description: `key of ${k.length} bytes exceeds maxKeySize ${maxKeySize}` })
  }
  return k
}

/** A range bound: like a key, but the empty key (before every key) is allowed and size is not limited. */
export const resolveBound = (method: string, name: string, value: unknown): string | undefined | InvalidArgument => {
  if (value === undefined) return undefined
  try {
    return toKey(method, name, value)
  } catch (e) {
    return thrown(method, name, e)
  }
}

/**
 * The byte length of a view from its internal slots (`%TypedArray%.prototype.byteLength`, taken
 * once at load): an own `byteLength` property on the caller's object cannot change it. 0 for a
 * view of a detached buffer or one left out of bounds by a resize.
 */
const byteLengthOf: (bytes: Uint8Array) => number = (() => {
  const getter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, "byteLength")!.get!
  return (bytes) => getter.call(bytes) as number
})()

/**
 * A put, validated: the key as its latin1 string, the value as a string (written as UTF-8) or the
 * caller's bytes with their length, read now. The bytes are copied by `encodeOps`, in the same
 * step (no effect runs between): the batch payload it lays out is the engine's copy.
 */
export const resolvePut = (
  method: string,
  key: unknown,
  value: unknown,
  maxKeySize: number,
  maxValueSize: number
): ResolvedOp | InvalidArgument => {
  const k = resolveKey(method, key, maxKeySize)
  if (typeof k !== "string") return k
  let v: string | Uint8Array
  let n: number
  if (typeof value === "string") {
    if (!isWellFormed(value)) return notWellFormed(method, "value")
    v = value
    n = value.length === 0 ? 0 : Buffer.byteLength(value, "utf8")
  } else if (isBytes(value)) {
    n = byteLengthOf(value)
    if (n > maxValueSize) return tooLarge(method, n, maxValueSize)
    if (n === 0 && isUnusableView(value)) return detached(method, "value")
    v = value
  } else {
    return new InvalidArgument({ method, description: `value must be a string or Uint8Array, got ${describe(value)}` })
  }
  if (n > maxValueSize) return tooLarge(method, n, maxValueSize)
  return { kind: KIND_PUT, key: k, value: v, valueLength: n }
}

const tooLarge = (method: string, n: number, maxValueSize: number) =>
  new InvalidArgument({ method, description: `value of ${n} bytes exceeds maxValueSize ${maxValueSize}` })

/**
 * The batch payload of validated operations: the engine's own copy of every key and value, laid
 * out when the operation's effect is built. A value whose length is no longer the one validated (a
 * getter of a later operation detached or resized its buffer) is refused; `set` reads a view's
 * internal slots, so no caller code runs between that check and the copy.
 */
export const encodeOps = (method: string, ops: ReadonlyArray<ResolvedOp>): EncodedBatch | InvalidArgument => {
  for (let i = 0; i < ops.length; i++) {
    const v = ops[i]!.value
    if (v !== undefined && typeof v !== "string" && byteLengthOf(v) !== ops[i]!.valueLength) {
      const which = ops.length === 1 ? "value" : `batch operation ${i}: value`
      return new InvalidArgument({ method, description: `${which} changed length while the batch was read (${ops[i]!.valueLength} bytes, then ${byteLengthOf(v)})` })
    }
  }
  try {
    return encodeBatch(ops)
  } catch (e) {
    return thrown(method, "a value", e)
  }
}

export const resolveDelete = (method: string, key: unknown, maxKeySize: number): ResolvedOp | InvalidArgument => {
  const k = resolveKey(method, key, maxKeySize)
  if (typeof k !== "string") return k
  return { kind: KIND_DELETE, key: k, value: undefined, valueLength: 0 }
}

/**
 * An object whose prototype is `Object.prototype` (of any realm) or null: `{ ... }` or
 * `Object.create(null)`. Arrays, functions, class instances, Dates, Maps are not. May throw (a
 * Proxy's `getPrototypeOf` trap); callers guard it.
 */
export const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (x === null || typeof x !== "object") return false
  const proto = Object.getPrototypeOf(x) as object | null
  return proto === null || Object.getPrototypeOf(proto) === null
}

/**
 * The one rule for a per-call options argument: undefined (no options) or a plain object. Reads
 * each of `fields` exactly once, inside a guard, and returns the values read: callers use these
 * and never touch `options` again.
 */
/** What `readOptions` gives for no options: every field undefined (never written to). */
const NO_OPTIONS: { readonly [field: string]: unknown } = Object.freeze({})

export const readOptions = <const K extends string>(
  method: string,
  options: unknown,
  fields: ReadonlyArray<K>
): { readonly [P in K]: unknown } | InvalidArgument => {
  // The common case, no options, allocates nothing.
  if (options === undefined) return NO_OPTIONS as { readonly [P in K]: unknown }
  const out = {} as { [P in K]: unknown }
  try {
    if (!isPlainObject(options)) {
      return new InvalidArgument({ method, description: `options must be a plain object, got ${describe(options)}` })
    }
    for (const field of fields) out[field] = options[field]
  } catch (e) {
    return thrown(method, "options", e)
  }
  return out
}

const WRITE_FIELDS = ["sync"] as const
/** The fields of `ReadOptions` (for `readOptions`). */
export const READ_OPTION_FIELDS = ["snapshot"] as const

/** Write options (`{ sync? }`), read once: `sync` is the flag to use, or the reason they are refused. */
export const resolveWriteOptions = (method: string, options: unknown): { readonly sync: boolean } | InvalidArgument => {
  const o = readOptions(method, options, WRITE_FIELDS)
  if (o instanceof InvalidArgument) return o
  if (o.sync !== undefined && typeof o.sync !== "boolean") {
    return new InvalidArgument({ method, description: "options.sync must be a boolean" })
  }
  return o.sync === true ? SYNC : NO_SYNC
}
const SYNC = { sync: true } as const
const NO_SYNC = { sync: false } as const


/**
 * The operations of a batch (`{ ops: [{ kind, key, value }] }`, a `WriteBatch` or one built by
 * hand), each resolved as by `put`/`delete`, or the first reason one is refused. `ops` is read
 * once, its length once, and each operation's fields once.
 */
export const resolveBatch = (
  method: string,
  batch: unknown,
  maxKeySize: number,
  maxValueSize: number
): Array<ResolvedOp> | InvalidArgument => {
  let ops: unknown
  let length: number
  try {
    if (batch === null || typeof batch !== "object") {
      return new InvalidArgument({ method, description: `batch must be a WriteBatch or an array of operations, got ${describe(batch)}` })
    }
    // An array of operations, or a WriteBatch (or anything with an `ops` array).
    ops = Array.isArray(batch) ? batch : (batch as { ops?: unknown }).ops
    if (!Array.isArray(ops)) {
      return new InvalidArgument({ method, description: "batch must be a WriteBatch or an array of operations (batch.ops must be an array)" })
    }
    length = ops.length
  } catch (e) {
    return thrown(method, "batch", e)
  }
  const resolved = new Array<ResolvedOp>(length)
  for (let i = 0; i < length; i++) {
    let kind: unknown
    let key: unknown
    let value: unknown
    try {
      const op: unknown = (ops as Array<unknown>)[i]
      if (op === null || typeof op !== "object") {
        return new InvalidArgument({ method, description: `batch operation ${i} must be an object, got ${describe(op)}` })
      }
      kind = (op as { kind?: unknown }).kind
      key = (op as { key?: unknown }).key
      if (kind === "put") value = (op as { value?: unknown }).value
    } catch (e) {
      return thrown(method, `batch operation ${i}`, e)
    }
    const r =
      kind === "put"
        ? resolvePut(method, key, value, maxKeySize, maxValueSize)
        : kind === "delete"
          ? resolveDelete(method, key, maxKeySize)
          : new InvalidArgument({
              method,
              description: `batch operation ${i}: kind must be "put" or "delete", got ${typeof kind === "string" ? JSON.stringify(kind) : describe(kind)}`
            })
    if (r instanceof InvalidArgument) {
      return new InvalidArgument({ method, description: `batch operation ${i}: ${r.description}` })
    }
    resolved[i] = r
  }
  return resolved
}
