import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { levelScores, levelTargetBytes, pickLeveled } from "../../src/internal/compaction/leveledPicker.js"
import { initialCompactionState, pickCompaction, recordEdit } from "../../src/internal/compaction/pick.js"
import { applyTask, type CompactionConfig, type CompactionTask, taskEdit } from "../../src/internal/compaction/task.js"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"
import { applyEdit, empty, type Version } from "../../src/internal/version/version.js"

const config: CompactionConfig = {
  compaction: "leveled",
  level0CompactionTrigger: 4,
  maxBytesForLevelBase: 1000,
  levelSizeMultiplier: 10,
  targetFileSize: 100,
  numLevels: 5,
  tieredSizeRatio: 2,
  tieredMinMergeWidth: 4
}

interface Spec {
  readonly n: number
  readonly level: number
  readonly lo: string
  readonly hi: string
  readonly size?: number
  /** Sequence range; defaults to [n * 10, n * 10 + 9]. */
  readonly seq?: readonly [number, number]
  /** Internal sequences of the boundary keys, when they matter. */
  readonly loSeq?: number
  readonly hiSeq?: number
}

const meta = (s: Spec): FileMeta => {
  const [minSeq, maxSeq] = s.seq ?? [s.n * 10, s.n * 10 + 9]
  return {
    number: s.n,
    size: s.size ?? 100,
    rawSize: s.size ?? 100,
    smallestKey: s.lo,
    smallestSeq: s.loSeq ?? maxSeq,
    largestKey: s.hi,
    largestSeq: s.hiSeq ?? minSeq,
    entries: 10,
    tombstones: 0,
    minSeq,
    maxSeq
  }
}

const build = (specs: ReadonlyArray<Spec>): Version =>
  applyEdit(empty(config.numLevels), { newFiles: specs.map((s) => ({ level: s.level, meta: meta(s) })) })

const numbers = (files: ReadonlyArray<FileMeta>): Array<number> => files.map((f) => f.number).sort((a, b) => a - b)

const pick = (version: Version, c: CompactionConfig = config): CompactionTask => {
  const task = pickLeveled(version, c)
  assert.isTrue(Option.isSome(task), "expected a task")
  return Option.getOrThrow(task)
}

describe("levelScores", () => {
  it("L0 scores files over the trigger, Ln bytes over its target, the last level nothing", () => {
    const version = build([
      { n: 1, level: 0, lo: "a", hi: "b" },
      { n: 2, level: 0, lo: "a", hi: "b" },
      { n: 3, level: 0, lo: "a", hi: "b" },
      { n: 4, level: 1, lo: "a", hi: "b", size: 1500 },
      { n: 5, level: 2, lo: "a", hi: "b", size: 5000 },
      { n: 6, level: 3, lo: "a", hi: "b", size: 250_000 },
      { n: 7, level: 4, lo: "a", hi: "b", size: 99_999_999 }
    ])
    assert.deepStrictEqual(levelScores(version, config), [0.75, 1.5, 0.5, 2.5, 0])
    assert.strictEqual(levelTargetBytes(config, 1), 1000)
    assert.strictEqual(levelTargetBytes(config, 3), 100_000)
  })
})

describe("pickLeveled", () => {
  it("picks nothing below the L0 trigger with every level under its target", () => {
    const version = build([
      { n: 1, level: 0, lo: "a", hi: "c" },
      { n: 2, level: 0, lo: "b", hi: "d" },
      { n: 3, level: 0, lo: "c", hi: "e" },
      { n: 4, level: 1, lo: "a", hi: "z", size: 999 },
      { n: 5, level: 2, lo: "a", hi: "z", size: 9999 },
      { n: 6, level: 4, lo: "a", hi: "z", size: 10_000_000 }
    ])
    assert.isTrue(Option.isNone(pickLeveled(version, config)))
  })

  it("at the L0 trigger takes the transitively overlapping L0 files and the L1 files they overlap", () => {
    const version = build([
      { n: 1, level: 0, lo: "b", hi: "d" }, // oldest: the seed
      { n: 2, level: 0, lo: "c", hi: "f" }, // overlaps 1
      { n: 3, level: 0, lo: "e", hi: "g" }, // overlaps 2 only: transitively in
      { n: 4, level: 0, lo: "x", hi: "z" }, // overlaps nothing
      { n: 10, level: 1, lo: "a", hi: "b" },
      { n: 11, level: 1, lo: "g", hi: "h" },
      { n: 12, level: 1, lo: "i", hi: "k" },
      { n: 13, level: 1, lo: "y", hi: "y" }
    ])
    const task = pick(version)
    assert.strictEqual(task.reason, "level0")
    assert.strictEqual(task.level, 0)
    assert.strictEqual(task.outputLevel, 1)
    assert.deepStrictEqual(numbers(task.inputs), [1, 2, 3])
    assert.deepStrictEqual(numbers(task.nextInputs), [10, 11])
    assert.strictEqual(task.smallestKey, "a")
    assert.strictEqual(task.largestKey, "h")
    assert.isFalse(task.trivialMove)
    assert.isTrue(task.bottommost)
  })

  it("takes every L0 file when all of them overlap", () => {
    const version = build([
      { n: 1, level: 0, lo: "a", hi: "m" },
      { n: 2, level: 0, lo: "k", hi: "z" },
      { n: 3, level: 0, lo: "c", hi: "d" },
      { n: 4, level: 0, lo: "y", hi: "z" }
    ])
    const task = pick(version)
    assert.deepStrictEqual(numbers(task.inputs), [1, 2, 3, 4])
    assert.deepStrictEqual(numbers(task.nextInputs), [])
  })

  it("picks the level with the highest score first", () => {
    const base = [
      { n: 1, level: 0, lo: "a", hi: "b" },
      { n: 2, level: 0, lo: "a", hi: "b" },
      { n: 3, level: 0, lo: "a", hi: "b" },
      { n: 4, level: 0, lo: "a", hi: "b" }, // L0 score 1
      { n: 5, level: 1, lo: "c", hi: "d", size: 3000 }, // L1 score 3
      { n: 6, level: 3, lo: "a", hi: "z", size: 10 }
    ]
    assert.strictEqual(pick(build([...base, { n: 7, level: 2, lo: "a", hi: "z", size: 15_000 }])).level, 1)
    assert.strictEqual(pick(build([...base, { n: 7, level: 2, lo: "a", hi: "z", size: 40_000 }])).level, 2)
    assert.strictEqual(pick(build(base.filter((s) => s.level === 0))).level, 0)
  })

  it("a level exactly at its target is compacted", () => {
    const task = pick(build([{ n: 1, level: 1, lo: "a", hi: "b", size: 1000 }]))
    assert.strictEqual(task.level, 1)
    assert.strictEqual(task.reason, "size")
  })

  it("rotates Ln picks with the compact pointer", () => {
    const version = build([
      { n: 1, level: 1, lo: "a", hi: "b", size: 500 },
      { n: 2, level: 1, lo: "c", hi: "d", size: 500 },
      { n: 3, level: 1, lo: "e", hi: "f", size: 500 }
    ])
    let state = initialCompactionState
    const picked: Array<number> = []
    for (let i = 0; i < 4; i++) {
      const task = Option.getOrThrow(pickCompaction(version, config, state))
      assert.strictEqual(task.inputs.length, 1)
      assert.deepStrictEqual(task.compactPointer, {
        level: 1,
        key: task.inputs[0]!.largestKey,
        seq: task.inputs[0]!.largestSeq
      })
      picked.push(task.inputs[0]!.number)
      state = recordEdit(state, taskEdit(task, []))
    }
    assert.deepStrictEqual(picked, [1, 2, 3, 1])
  })

  it("takes the neighbour sharing a boundary user key", () => {
    // (m, 9) sorts before (m, 5): file 1 ends with the newer version of m, file 2 starts with the older.
    const version = build([
      { n: 1, level: 1, lo: "a", hi: "m", size: 600, hiSeq: 9 },
      { n: 2, level: 1, lo: "m", hi: "t", size: 600, loSeq: 5 },
      { n: 3, level: 1, lo: "u", hi: "z", size: 600 }
    ])
    const task = pick(version)
    assert.deepStrictEqual(numbers(task.inputs), [1, 2])
  })

  it("grows the inputs when that pulls in no more of the output level, within the byte limit", () => {
    const specs = (l2Size: number): Array<Spec> => [
      { n: 1, level: 1, lo: "a", hi: "b", size: 100 },
      { n: 2, level: 1, lo: "c", hi: "d", size: 100 },
      { n: 3, level: 1, lo: "p", hi: "q", size: 900 },
      { n: 4, level: 2, lo: "a", hi: "e", size: l2Size }
    ]
    // The pointer after file 1 makes file 2 the seed; file 4 of L2 also covers file 1.
    const state = recordEdit(initialCompactionState, { compactPointers: [{ level: 1, key: "b", seq: 10 }] })
    const grown = Option.getOrThrow(pickCompaction(build(specs(200)), config, state))
    assert.deepStrictEqual(numbers(grown.inputs), [1, 2])
    assert.deepStrictEqual(numbers(grown.nextInputs), [4])
    const capped = Option.getOrThrow(pickCompaction(build(specs(2500)), config, state))
    assert.deepStrictEqual(numbers(capped.inputs), [2])
  })

  it("detects a trivial move, unless the file overlaps too much of the grandparent level", () => {
    const alone = build([
      { n: 1, level: 1, lo: "a", hi: "b", size: 2000 },
      { n: 2, level: 2, lo: "c", hi: "d", size: 100 },
      { n: 3, level: 3, lo: "a", hi: "z", size: 1000 }
    ])
    const move = pick(alone)
    assert.isTrue(move.trivialMove)
    assert.strictEqual(move.inputs.length, 1)
    assert.strictEqual(move.nextInputs.length, 0)
    assert.deepStrictEqual(numbers(move.grandparents), [3])

    const heavy = build([
      { n: 1, level: 1, lo: "a", hi: "b", size: 2000 },
      { n: 3, level: 3, lo: "a", hi: "z", size: 1001 }
    ])
    assert.isFalse(pick(heavy).trivialMove)

    const overlapping = build([
      { n: 1, level: 1, lo: "a", hi: "b", size: 2000 },
      { n: 2, level: 2, lo: "b", hi: "d", size: 100 }
    ])
    const merge = pick(overlapping)
    assert.isFalse(merge.trivialMove)
    assert.deepStrictEqual(numbers(merge.nextInputs), [2])

    const l0 = build([
      { n: 1, level: 0, lo: "a", hi: "b" },
      { n: 2, level: 0, lo: "d", hi: "e" },
      { n: 3, level: 0, lo: "g", hi: "h" },
      { n: 4, level: 0, lo: "j", hi: "k" }
    ])
    const l0Move = pick(l0)
    assert.isTrue(l0Move.trivialMove)
    assert.deepStrictEqual(numbers(l0Move.inputs), [1])
  })

  it("computes bottommost from the levels below the output level", () => {
    const specs = (deep: Spec): Array<Spec> => [
      { n: 1, level: 1, lo: "d", hi: "f", size: 2000 },
      { n: 2, level: 2, lo: "c", hi: "g", size: 100 },
      deep
    ]
    assert.isFalse(pick(build(specs({ n: 3, level: 3, lo: "g", hi: "h" }))).bottommost)
    assert.isFalse(pick(build(specs({ n: 3, level: 4, lo: "a", hi: "c" }))).bottommost)
    assert.isTrue(pick(build(specs({ n: 3, level: 3, lo: "h", hi: "z" }))).bottommost)
    // Files in the input level or above do not matter.
    assert.isTrue(pick(build(specs({ n: 3, level: 0, lo: "a", hi: "z" }))).bottommost)
  })
})

/** L1 file 1 over L2 files 2 and 3 (not 4), merged into outputs 20 and 21. */
const mergeOfL1File = () => {
  const version = build([
    { n: 1, level: 1, lo: "a", hi: "f", size: 2000 },
    { n: 2, level: 2, lo: "a", hi: "c" },
    { n: 3, level: 2, lo: "d", hi: "g" },
    { n: 4, level: 2, lo: "x", hi: "z" }
  ])
  const outputs = [meta({ n: 20, level: 2, lo: "a", hi: "d" }), meta({ n: 21, level: 2, lo: "e", hi: "g" })]
  return { version, task: pick(version), outputs }
}

describe("taskEdit", () => {
  it("deletes the inputs from their levels, adds the outputs and records the pointer", () => {
    const { outputs, task, version } = mergeOfL1File()
    const edit = taskEdit(task, outputs, { lastSequence: 99, deletedFiles: [{ level: 0, number: 77 }] })
    assert.deepStrictEqual(edit.deletedFiles, [
      { level: 1, number: 1 },
      { level: 2, number: 2 },
      { level: 2, number: 3 },
      { level: 0, number: 77 }
    ])
    assert.deepStrictEqual(edit.compactPointers, [{ level: 1, key: "f", seq: 10 }])
    assert.strictEqual(edit.lastSequence, 99)
    const after = applyEdit(version, edit)
    assert.deepStrictEqual(
      after.levels.map((files) => files.map((f) => f.number)),
      [[], [], [20, 21, 4], [], []]
    )
  })
})

describe("applyTask", () => {
  it("returns the next version and the tables it retires; a trivial move retires none", () => {
    const { outputs, task, version } = mergeOfL1File()
    const merged = applyTask(version, task, outputs)
    assert.deepStrictEqual(merged.version.levels.map((files) => numbers(files)), [[], [], [4, 20, 21], [], []])
    assert.deepStrictEqual(numbers(merged.obsolete), [1, 2, 3])
    assert.deepStrictEqual(applyEdit(version, merged.edit), merged.version)

    const alone = build([
      { n: 1, level: 1, lo: "a", hi: "b", size: 2000 },
      { n: 2, level: 2, lo: "c", hi: "d", size: 100 }
    ])
    const move = pick(alone)
    assert.isTrue(move.trivialMove)
    const moved = applyTask(alone, move, [])
    assert.deepStrictEqual(moved.version.levels.map((files) => numbers(files)), [[], [], [1, 2], [], []])
    assert.deepStrictEqual(moved.obsolete, [])
  })
})

describe("seek compaction", () => {
  const layout = () =>
    build([
      { n: 1, level: 0, lo: "a", hi: "z", size: 10 },
      { n: 2, level: 1, lo: "a", hi: "m", size: 300 },
      { n: 3, level: 1, lo: "n", hi: "z", size: 300 },
      { n: 4, level: 2, lo: "a", hi: "z", size: 5000 },
      { n: 5, level: 4, lo: "a", hi: "z", size: 100_000 }
    ])
  const fileOf = (version: Version, n: number): FileMeta => version.levels.flat().find((f) => f.number === n)!

  it("with every level under its target, the table due by seeks goes into the level below", () => {
    const version = layout()
    assert.isTrue(Option.isNone(pickLeveled(version, config)), "nothing to do by size")
    const task = Option.getOrThrow(pickLeveled(version, config, [], fileOf(version, 2)))
    assert.strictEqual(task.reason, "seek")
    assert.strictEqual(task.level, 1)
    assert.strictEqual(task.outputLevel, 2)
    assert.deepStrictEqual(numbers(task.inputs), [2])
    assert.deepStrictEqual(numbers(task.nextInputs), [4])
    assert.isUndefined(task.compactPointer, "a seek compaction does not move the round-robin pointer")
    const l0 = Option.getOrThrow(pickCompaction(version, config, { compactPointers: [], dueBySeeks: fileOf(version, 1) }))
    assert.strictEqual(l0.reason, "seek")
    assert.deepStrictEqual([l0.level, l0.outputLevel], [0, 1])
    assert.deepStrictEqual(numbers(l0.nextInputs), [2, 3])
  })

  it("size compactions come first; a table not in the version, or in the last level, is passed over", () => {
    const version = layout()
    const busy = applyEdit(version, { newFiles: [{ level: 1, meta: meta({ n: 6, level: 1, lo: "zz", hi: "zzz", size: 1000 }) }] })
    assert.strictEqual(Option.getOrThrow(pickLeveled(busy, config, [], fileOf(busy, 2))).reason, "size")
    assert.isTrue(Option.isNone(pickLeveled(version, config, [], meta({ n: 2, level: 1, lo: "a", hi: "m", size: 300 }))), "a copy is another table")
    assert.isTrue(Option.isNone(pickLeveled(version, config, [], fileOf(version, 5))), "the last level has nowhere to go")
    assert.isTrue(Option.isNone(pickCompaction(version, { ...config, compaction: "tiered" }, { compactPointers: [], dueBySeeks: fileOf(version, 1) })))
  })
})
