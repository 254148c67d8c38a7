/**
 * How the command line reads and prints keys and values: `text` (UTF-8), `hex` or `base64`,
 * chosen per side with `--key-encoding` / `--value-encoding`, or for both with `--encoding`
 * (a side's own option wins). A malformed hex or base64 argument is a usage error.
 */
import { Options } from "@effect/cli"
import { Buffer } from "node:buffer"
import { Option } from "effect"
import { UsageError } from "./errors.js"

export const ENCODINGS = ["text", "hex", "base64"] as const
export type Encoding = (typeof ENCODINGS)[number]

export interface Encodings {
  readonly key: Encoding
  readonly value: Encoding
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/

/** The bytes an argument stands for in `encoding`; `what` names it in the error. */
export const parseBytes = (input: string, encoding: Encoding, what: string): Uint8Array | UsageError => {
  switch (encoding) {
    case "text":
      return new Uint8Array(Buffer.from(input, "utf8"))
    case "hex":
      if (!HEX.test(input)) return new UsageError({ message: `${what} is not hex (pairs of 0-9a-f): ${JSON.stringify(input)}` })
      return new Uint8Array(Buffer.from(input, "hex"))
    case "base64":
      if (!BASE64.test(input)) return new UsageError({ message: `${what} is not base64: ${JSON.stringify(input)}` })
      return new Uint8Array(Buffer.from(input, "base64"))
  }
}

/** `bytes` printed in `encoding` (text: the UTF-8 decoding, invalid sequences as U+FFFD). */
export const printBytes = (bytes: Uint8Array, encoding: Encoding): string => {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return encoding === "text" ? b.toString("utf8") : b.toString(encoding)
}

const encodingOption = (name: string, description: string) =>
  Options.choice(name, ENCODINGS).pipe(Options.withDescription(description), Options.optional)

/** `--encoding`, `--key-encoding`, `--value-encoding`, resolved to one encoding per side (default text). */
export const encodingOptions = Options.all({
  encoding: encodingOption("encoding", "Encoding of keys and values on the command line and in the output: text (UTF-8), hex or base64 (default text)."),
  keyEncoding: encodingOption("key-encoding", "Encoding of keys (overrides --encoding)."),
  valueEncoding: encodingOption("value-encoding", "Encoding of values (overrides --encoding).")
}).pipe(
  Options.map(({ encoding, keyEncoding, valueEncoding }): Encodings => {
    const both = Option.getOrElse(encoding, (): Encoding => "text")
    return { key: Option.getOrElse(keyEncoding, () => both), value: Option.getOrElse(valueEncoding, () => both) }
  })
)
