/**
 * The LZ4 block decoder in WebAssembly (lz4Decode.wat): the read path's decoder for blocks that fit
 * its arena, five times the JavaScript decoder's speed (0.8 against 4.0 us a 4 KiB block of the
 * benchmark's values, input copied in included; README, "Benchmark"). Plain WebAssembly, no
 * dependency: every Node has it.
 *
 * One module instance per thread, one block at a time: `load` copies a block's payload into the
 * arena and answers the view its output will fill; `decodeUntil` decodes it there, whole or as far
 * as a reader needs. The view is valid until the next `load` (point reads copy their value out at
 * once, and a decompressed block is copied out of it). A block or payload larger than the arena
 * (`MAX_ARENA_BLOCK`) is not loaded: the caller decodes it in JavaScript (lz4Block.ts), which also
 * names what is wrong with damaged input (this decoder answers only -1).
 */
import { Buffer } from "node:buffer"
import { WASM_BASE64 } from "./lz4DecodeWasm.js"

/** Where the input lies in the module's memory, and where the output does (lz4Decode.wat). */
const INPUT = 0
const OUTPUT = 256 * 1024
/** Copies may run this far past an end. */
const SLACK = 16
/** The largest payload and the largest block the arena takes. */
export const MAX_ARENA_BLOCK = OUTPUT - SLACK

/** What this module uses of the WebAssembly API (Node's types leave it out without the DOM lib). */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown }
}
const Wasm = (globalThis as unknown as { readonly WebAssembly: WebAssemblyApi }).WebAssembly

interface Lz4Exports {
  readonly memory: { readonly buffer: ArrayBuffer }
  readonly inputEnd: { readonly value: number }
  readonly decode: (ip: number, to: number, base: number, op: number, out: number, need: number) => number
}

let exports: Lz4Exports | undefined
let memory: Uint8Array = new Uint8Array(0)
/** The loaded block: its payload's length, how much of it is decoded, and the block's length. */
let inputLength = 0
let consumed = 0
let outputLength = 0
let enabled = true

const instance = (): Lz4Exports => {
  if (exports === undefined) {
    const module = new Wasm.Module(Buffer.from(WASM_BASE64, "base64"))
    exports = new Wasm.Instance(module, {}).exports as Lz4Exports
    // The memory never grows, so this view never detaches.
    memory = new Uint8Array(exports.memory.buffer)
  }
  return exports
}

/** For tests: with false, `load` declines every block (the JavaScript decoder does them all). */
export const setEnabledForTesting = (on: boolean): void => {
  enabled = on
}

/**
 * Copies the payload `src[from, to)` of a block of `length` bytes into the arena: the view its
 * output will fill (nothing decoded yet), or undefined when it does not fit.
 */
export const load = (src: Uint8Array, from: number, to: number, length: number): Buffer | undefined => {
  if (!enabled || to - from > MAX_ARENA_BLOCK || length > MAX_ARENA_BLOCK) return undefined
  const wasm = instance()
  memory.set(src.subarray(from, to), INPUT)
  inputLength = to - from
  consumed = 0
  outputLength = length
  return Buffer.from(wasm.memory.buffer, OUTPUT, length)
}

/**
 * Decodes whole sequences of the loaded block from output position `decoded` (what earlier calls
 * decoded) until at least `need` bytes are there or the input ends: the new position, or -1 when
 * the input is damaged.
 */
export const decodeUntil = (decoded: number, need: number): number => {
  const end = exports!.decode(INPUT + consumed, INPUT + inputLength, OUTPUT, OUTPUT + decoded, OUTPUT + outputLength, OUTPUT + need)
  if (end < 0) return -1
  consumed = exports!.inputEnd.value - INPUT
  return end - OUTPUT
}

/** Whether the loaded block's input is all decoded. */
export const inputDone = (): boolean => consumed === inputLength
