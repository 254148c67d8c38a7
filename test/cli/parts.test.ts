/**
 * The command line's parts, in process: the key and value encodings, the progress line (drawn
 * on a terminal only, throttled, erased at the end), the compaction estimate behind compact's bar,
 * and the one line each failure becomes.
 */
import { assert, describe, it } from "@effect/vitest"
import { ValidationError, HelpDoc } from "@effect/cli"
import { Effect } from "effect"
import { DbLocked, InvalidArgument } from "../../src/errors.js"
import { estimateCompactionBytes } from "../../src/internal/cli/dbCommands.js"
import { parseBytes, printBytes } from "../../src/internal/cli/encoding.js"
import { CommandFailed, UsageError } from "../../src/internal/cli/errors.js"
import { describeFailure } from "../../src/internal/cli/main.js"
import * as Progress from "../../src/internal/cli/progress.js"

describe("encodings", () => {
  it("text, hex and base64 round-trip any bytes; malformed hex and base64 are usage errors", () => {
    const bytes = new Uint8Array([0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x0a])
    for (const encoding of ["hex", "base64"] as const) {
      const printed = printBytes(bytes, encoding)
      assert.deepStrictEqual(parseBytes(printed, encoding, "k"), bytes, encoding)
    }
    assert.strictEqual(printBytes(bytes, "hex"), "00017f80feff0a")
    assert.strictEqual(printBytes(new TextEncoder().encode("héllo"), "text"), "héllo")
    assert.deepStrictEqual(parseBytes("héllo", "text", "k"), new TextEncoder().encode("héllo"))
    assert.deepStrictEqual(parseBytes("", "hex", "k"), new Uint8Array(0))
    assert.deepStrictEqual(parseBytes("AAEC", "base64", "k"), new Uint8Array([0, 1, 2]))
    assert.deepStrictEqual(parseBytes("AAE", "base64", "k"), new Uint8Array([0, 1]), "unpadded")
    for (const [input, encoding] of [["abc", "hex"], ["zz", "hex"], ["a b", "base64"], ["A", "base64"], ["AA=A", "base64"]] as const) {
      const r = parseBytes(input, encoding, "the key")
      assert.instanceOf(r, UsageError, `${input} as ${encoding}`)
      assert.match((r as UsageError).message, new RegExp(`^the key is not ${encoding}`))
    }
  })
})

describe("progress", () => {
  const fakeStream = (isTTY: boolean) => {
    const writes: Array<string> = []
    return { writes, stream: { isTTY, columns: 60, write: (s: string) => writes.push(s) } }
  }

  it("draws a bar within the width, or a spinner without a total", () => {
    const line = Progress.renderLine("compacting", 45, 100, "3 compactions", 60)
    assert.match(line, /^compacting \[#+-+\]  45% 3 compactions$/)
    assert.isAtMost(line.length, 60)
    assert.match(Progress.renderLine("x", 200, 100, "", 60), /\[#+\] 100%$/, "clamped")
    assert.strictEqual(Progress.renderLine("working", 3, undefined, "3 done", 60, 1), "working / 3 done")
    assert.isAtMost(Progress.renderLine("label", 1, 2, "d".repeat(200), 40).length, 40)
    assert.strictEqual(Progress.formatBytes(512), "512 B")
    assert.strictEqual(Progress.formatBytes(1536), "1.5 KiB")
    assert.strictEqual(Progress.formatBytes(3 * 1024 * 1024), "3.0 MiB")
  })

  it.effect("on a terminal: throttled redraws in place, the completed state drawn, the line erased at the end", () =>
    Effect.gen(function* () {
      const { stream, writes } = fakeStream(true)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const p = yield* Progress.make("copying", stream)
          yield* p.update(1, 10, "a")
          yield* p.update(2, 10, "b") // within 100 ms of the first: skipped
          yield* p.update(10, 10, "done") // complete: always drawn
        })
      )
      assert.strictEqual(writes.length, 3)
      assert.match(writes[0]!, /^\r\x1b\[Kcopying \[#+-+\]  10% a$/)
      assert.match(writes[1]!, /100% done$/)
      assert.strictEqual(writes[2], "\r\x1b[K")
    }))

  it.effect("not on a terminal: nothing at all", () =>
    Effect.gen(function* () {
      const { stream, writes } = fakeStream(false)
      yield* Effect.scoped(Effect.flatMap(Progress.make("copying", stream), (p) => p.update(10, 10, "done")))
      assert.deepStrictEqual(writes, [])
    }))
})

describe("compact's estimate", () => {
  it("adds up what each step of a manual compaction reads, scaled by the range's share", () => {
    // L0 10, L1 20, L2 100: L0+L1 (30), then L0..L1 come down into L2 (30 + 100).
    assert.strictEqual(estimateCompactionBytes([10, 20, 100, 0], 1), 30 + 130)
    assert.strictEqual(estimateCompactionBytes([10, 20, 100, 0], 0.5), 80)
    // Only L0: it goes into L1.
    assert.strictEqual(estimateCompactionBytes([10, 0, 0], 1), 10)
    assert.strictEqual(estimateCompactionBytes([0, 0, 0], 1), 0)
  })
})

describe("failures", () => {
  it("each becomes one line and an exit code: 2 for usage, 1 for the rest", () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [ValidationError.missingValue(HelpDoc.p("Missing argument <dir>\n  more")), 2, /^Missing argument <dir> more$/],
      [new UsageError({ message: "bad hex" }), 2, /^bad hex$/],
      [new CommandFailed({ message: "key not found: k" }), 1, /^key not found: k$/],
      [new DbLocked({ directory: "/d", description: "held by process 42" }), 1, /^\/d is in use by another process: its LOCK is held by process 42$/],
      [new DbLocked({ directory: "/d", description: "the lock changed hands too often" }), 1, /^\/d is in use by another process \(the lock changed hands too often\)$/],
      [new InvalidArgument({ method: "checkpoint", description: "the target /t exists and is not empty" }), 1, /^the target \/t exists and is not empty$/],
      [new Error("boom\nwith a stack"), 1, /^boom with a stack$/]
    ]
    for (const [error, code, message] of cases) {
      const d = describeFailure(error)
      assert.strictEqual(d.code, code, String(error))
      assert.match(d.message, message)
    }
  })
})
