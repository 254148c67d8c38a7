/**
 * `DbOptions` decoded by one Effect Schema: defaults filled in, every rule kept, and a bad option
 * an `InvalidArgument` whose description names the option's path and the value given.
 */
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual } from "@effect/vitest/utils"
import { Effect, Either, Schema } from "effect"
import { defaultOptions, DbOptionsSchema } from "../../src/index.js"
import { type DbOptions, resolve } from "../../src/Options.js"

/** The description `resolve` fails with, or undefined when it succeeds. */
const refusal = (options: unknown) =>
  Effect.map(Effect.either(resolve(options as DbOptions)), (r) => {
    if (Either.isRight(r)) return undefined
    assert.strictEqual(r.left._tag, "stratadb/InvalidArgument")
    assert.strictEqual(r.left.method, "open")
    return r.left.description
  })

describe("options", () => {
  it.effect("defaults are the schema's: absent and undefined options get them, given ones are kept", () =>
    Effect.gen(function* () {
      deepStrictEqual(
        { ...defaultOptions },
        {
          writeBufferSize: 4 * 1024 * 1024,
          maxImmutableMemtables: 2,
          blockSize: 4 * 1024,
          blockRestartInterval: 16,
          bloomBitsPerKey: 10,
          blockCacheSize: 8 * 1024 * 1024,
          maxOpenTables: 1000,
          maxKeySize: 64 * 1024,
          maxValueSize: 64 * 1024 * 1024,
          compression: "lz4",
          compressionPerLevel: [],
          compaction: "leveled",
          level0CompactionTrigger: 4,
          level0SlowdownTrigger: 8,
          level0StopTrigger: 12,
          maxBytesForLevelBase: 16 * 1024 * 1024,
          levelSizeMultiplier: 10,
          targetFileSize: 2 * 1024 * 1024,
          numLevels: 7,
          tieredSizeRatio: 2,
          tieredMinMergeWidth: 4,
          backgroundCompaction: true,
          seekCompaction: true,
          walRecoveryMode: "tolerateTornTail",
          createIfMissing: true,
          errorIfExists: false,
          flushOnClose: true,
          memoryBudget: 0
        }
      )
      deepStrictEqual(yield* resolve({ directory: "/d" }), { directory: "/d", ...defaultOptions })
      deepStrictEqual(yield* resolve({ directory: "/d", blockSize: undefined }), { directory: "/d", ...defaultOptions })
      const given = { directory: "/d", blockSize: 256, compaction: "tiered", backgroundCompaction: false } as const
      deepStrictEqual(yield* resolve(given), { ...defaultOptions, ...given })
      // The exported schema decodes the same way.
      deepStrictEqual(Schema.decodeUnknownSync(DbOptionsSchema)(given), { ...defaultOptions, ...given })
    })
  )

  it.effect("a bad option names its path, the rule and the value given", () =>
    Effect.gen(function* () {
      const cases: Array<[unknown, string]> = [
        [{ directory: "/x", writeBufferSize: 12 }, "writeBufferSize: expected an integer in [4096, 1073741824], got 12"],
        [{ directory: "/x", writeBufferSize: 1.5 }, "writeBufferSize: expected an integer in [4096, 1073741824], got 1.5"],
        [{ directory: "/x", blockSize: "4k" }, 'blockSize: expected an integer in [256, 1048576], got "4k"'],
        [{ directory: "/x", bloomBitsPerKey: Number.NaN }, "bloomBitsPerKey: expected an integer in [0, 64], got NaN"],
        [{ directory: "/x", numLevels: 21 }, "numLevels: expected an integer in [2, 20], got 21"],
        [{ directory: "/x", maxOpenTables: null }, "maxOpenTables: expected an integer in [1, 1000000], got null"],
        [{ directory: "/x", compaction: "random" }, 'compaction: expected "leveled" or "tiered", got "random"'],
        [
          { directory: "/x", walRecoveryMode: "skip" },
          'walRecoveryMode: expected "tolerateTornTail", "absoluteConsistency" or "pointInTime", got "skip"'
        ],
        [{ directory: "/x", backgroundCompaction: "yes" }, 'backgroundCompaction: expected a boolean, got "yes"'],
        [{ directory: "/x", seekCompaction: "no" }, 'seekCompaction: expected a boolean, got "no"'],
        [{ directory: "/x", createIfMissing: 1 }, "createIfMissing: expected a boolean, got 1"],
        [{ directory: "" }, 'directory: expected a non-empty string, got ""'],
        [{ directory: 7 }, "directory: expected a non-empty string, got 7"],
        [{}, "directory: expected a non-empty string, got nothing"],
        [{ directory: "/x", noSuchOption: true }, "noSuchOption: unknown option"],
        [
          { directory: "/x", level0SlowdownTrigger: 2, level0CompactionTrigger: 4 },
          "need level0CompactionTrigger <= level0SlowdownTrigger <= level0StopTrigger, got 4, 2, 12"
        ],
        [null, "options must be a plain object"],
        [[], "options must be a plain object"]
      ]
      for (const [options, description] of cases) {
        assert.strictEqual(yield* refusal(options), description)
      }
      // Every bad option at once, each with its path.
      assert.strictEqual(
        yield* refusal({ directory: "/x", typo: 1, blockSize: 1, errorIfExists: "no" }),
        'typo: unknown option; blockSize: expected an integer in [256, 1048576], got 1; errorIfExists: expected a boolean, got "no"'
      )
    })
  )

  it.effect("the bounds of every range are accepted, one past them refused", () =>
    Effect.gen(function* () {
      const ranges: Array<[keyof DbOptions, number, number]> = [
        ["writeBufferSize", 4 * 1024, 1024 * 1024 * 1024],
        ["maxImmutableMemtables", 1, 64],
        ["blockSize", 256, 1024 * 1024],
        ["blockRestartInterval", 1, 1024],
        ["bloomBitsPerKey", 0, 64],
        ["blockCacheSize", 0, 64 * 1024 * 1024 * 1024],
        ["maxOpenTables", 1, 1_000_000],
        ["maxKeySize", 1, 1024 * 1024],
        ["maxValueSize", 0, 1024 * 1024 * 1024],
        ["maxBytesForLevelBase", 1024, 2 ** 50],
        ["levelSizeMultiplier", 2, 1000],
        ["targetFileSize", 1024, 2 ** 40],
        ["numLevels", 2, 20],
        ["tieredSizeRatio", 1, 1000],
        ["tieredMinMergeWidth", 2, 1000],
        ["memoryBudget", 0, 2 ** 50]
      ]
      for (const [name, min, max] of ranges) {
        for (const ok of [min, max]) assert.isUndefined(yield* refusal({ directory: "/x", [name]: ok }), `${name} ${ok}`)
        for (const bad of [min - 1, max + 1]) {
          assert.strictEqual(yield* refusal({ directory: "/x", [name]: bad }), `${name}: expected an integer in [${min}, ${max}], got ${bad}`)
        }
      }
      // The level-0 triggers: each in [1, 1000], and ordered.
      assert.isUndefined(yield* refusal({ directory: "/x", level0CompactionTrigger: 1000, level0SlowdownTrigger: 1000, level0StopTrigger: 1000 }))
      assert.isDefined(yield* refusal({ directory: "/x", level0StopTrigger: 7 }))
    })
  )

  it.effect("a hostile options object: values are described without running their code, an own __proto__ is an unknown option", () =>
    Effect.gen(function* () {
      const trap = () => {
        throw new Error("trapped")
      }
      const proxy = new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, has: trap })
      const valueWithToString = { toString: trap, valueOf: trap, [Symbol.toPrimitive]: trap }
      assert.strictEqual(
        yield* refusal({ directory: "/x", writeBufferSize: proxy }),
        "writeBufferSize: expected an integer in [4096, 1073741824], got object"
      )
      assert.strictEqual(yield* refusal({ directory: valueWithToString }), "directory: expected a non-empty string, got object")
      // An own `__proto__` (JSON.parse makes one) is an unknown option, not a prototype.
      assert.strictEqual(yield* refusal(JSON.parse('{"directory":"/x","__proto__":{"blockSize":1}}')), "__proto__: unknown option")
      assert.strictEqual(yield* refusal({ get directory(): string { return trap() } }), "reading the options threw: trapped")
    })
  )
})
