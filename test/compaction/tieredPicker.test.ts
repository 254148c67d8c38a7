import { assert, describe, it } from "@effect/vitest"
import { FastCheck, Option } from "effect"
import { pickCompaction } from "../../src/internal/compaction/pick.js"
import type { CompactionConfig, CompactionTask } from "../../src/internal/compaction/task.js"
import { pickTiered, tieredMaxRuns } from "../../src/internal/compaction/tieredPicker.js"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"
import { applyEdit, empty, type Version } from "../../src/internal/version/version.js"

const config: CompactionConfig = {
  compaction: "tiered",
  level0CompactionTrigger: 4,
  maxBytesForLevelBase: 1000,
  levelSizeMultiplier: 10,
  targetFileSize: 100,
  numLevels: 4,
  tieredSizeRatio: 2,
  tieredMinMergeWidth: 4
}

interface Run {
  readonly size: number
  readonly lo?: string
  readonly hi?: string
}

/**
 * A version whose L0 holds the runs given newest first; run i gets file number 100 + i and a
 * sequence range that decreases with i, so L0's order is the order given.
 */
const runs = (list: ReadonlyArray<Run>, deeper: ReadonlyArray<{ level: number; lo: string; hi: string }> = []): Version => {
  const n = list.length
  const files = list.map((r, i): FileMeta => {
    const minSeq = (n - i) * 1000
    return {
      number: 100 + i,
      size: r.size,
      rawSize: r.size,
      smallestKey: r.lo ?? "a",
      smallestSeq: minSeq + 999,
      largestKey: r.hi ?? "z",
      largestSeq: minSeq,
      entries: 1,
      tombstones: 0,
      minSeq,
      maxSeq: minSeq + 999
    }
  })
  const deep = deeper.map((d, i) => ({
    level: d.level,
    meta: { ...files[0]!, number: 900 + i, smallestKey: d.lo, largestKey: d.hi, minSeq: 1, maxSeq: 2 }
  }))
  const version = applyEdit(empty(config.numLevels), {
    newFiles: [...files.map((meta) => ({ level: 0, meta })), ...deep]
  })
  assert.deepStrictEqual(
    version.levels[0]!.map((f) => f.number),
    files.map((f) => f.number),
    "L0 keeps the given order"
  )
  return version
}

/** The indices (newest first) of a task's runs. */
const indices = (task: CompactionTask): Array<number> => task.inputs.map((f) => f.number - 100)

const pick = (version: Version): Option.Option<CompactionTask> => pickTiered(version, config)

describe("pickTiered", () => {
  it("waits for the merge width", () => {
    assert.isTrue(Option.isNone(pick(runs([{ size: 100 }, { size: 100 }, { size: 100 }]))))
  })

  it("merges the adjacent group whose sizes lie within the ratio, back into L0", () => {
    const version = runs([{ size: 10 }, { size: 100 }, { size: 110 }, { size: 120 }, { size: 130 }, { size: 1000 }])
    const task = Option.getOrThrow(pick(version))
    assert.deepStrictEqual(indices(task), [1, 2, 3, 4])
    assert.strictEqual(task.reason, "tiered")
    assert.strictEqual(task.level, 0)
    assert.strictEqual(task.outputLevel, 0)
    assert.strictEqual(task.nextInputs.length, 0)
    assert.strictEqual(task.maxOutputFileSize, Number.POSITIVE_INFINITY)
    assert.isFalse(task.trivialMove)
    assert.isFalse(task.bottommost, "the oldest run overlaps the merged range")
  })

  it("prefers the newest group and grows it as far as the ratio allows", () => {
    const version = runs([
      { size: 10 },
      { size: 12 },
      { size: 15 },
      { size: 19 },
      { size: 20 },
      { size: 100 },
      { size: 110 },
      { size: 120 },
      { size: 130 },
      { size: 100_000 }
    ])
    assert.deepStrictEqual(indices(Option.getOrThrow(pick(version))), [0, 1, 2, 3, 4])
  })

  it("never merges runs that are not adjacent", () => {
    // Four runs of 100 exist, but run 1 (10 bytes) separates the first from the other three.
    const version = runs([{ size: 100 }, { size: 10 }, { size: 100 }, { size: 100 }, { size: 100 }, { size: 5000 }])
    assert.isTrue(Option.isNone(pick(version)))
  })

  it("any pick takes a contiguous slice of runs", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.array(FastCheck.integer({ min: 1, max: 5000 }), { maxLength: 20 }), (sizes) => {
        const version = runs(sizes.map((size) => ({ size })))
        const task = pick(version)
        if (Option.isNone(task)) return
        const picked = indices(task.value)
        assert.isAtLeast(picked.length, 2)
        for (let i = 1; i < picked.length; i++) assert.strictEqual(picked[i], picked[0]! + i)
      }),
      { numRuns: 300 }
    )
  })

  it("merges everything when the newer runs outgrow the oldest (space amplification)", () => {
    const task = Option.getOrThrow(pick(runs([{ size: 500 }, { size: 50 }, { size: 5 }, { size: 200 }])))
    assert.deepStrictEqual(indices(task), [0, 1, 2, 3])
    assert.isTrue(task.bottommost)
    // 555 bytes over an oldest run of 300: below 200%, and no size-ratio group.
    assert.isTrue(Option.isNone(pick(runs([{ size: 500 }, { size: 50 }, { size: 5 }, { size: 300 }]))))
  })

  it("bounds the run count by merging the cheapest adjacent window", () => {
    const geometric = [1, 3, 9, 27, 81, 243, 729, 2187, 6561]
    assert.strictEqual(tieredMaxRuns(config), 8)
    assert.isTrue(Option.isNone(pick(runs(geometric.slice(1).map((size) => ({ size }))))))
    assert.deepStrictEqual(indices(Option.getOrThrow(pick(runs(geometric.map((size) => ({ size })))))), [0, 1, 2, 3])
    const reversed = [...geometric].reverse().map((size) => ({ size }))
    // Newest largest: the space rule fires first (the newer runs dwarf the oldest).
    assert.strictEqual(Option.getOrThrow(pick(runs(reversed))).inputs.length, 9)
  })

  it("is bottommost exactly when no older run and no deeper table overlaps the merged range", () => {
    const group = [
      { size: 100, lo: "d", hi: "f" },
      { size: 100, lo: "e", hi: "h" },
      { size: 100, lo: "k", hi: "m" },
      { size: 100, lo: "g", hi: "j" }
    ]
    const disjointOldest = Option.getOrThrow(pick(runs([...group, { size: 100_000, lo: "n", hi: "z" }])))
    assert.deepStrictEqual(indices(disjointOldest), [0, 1, 2, 3])
    assert.isTrue(disjointOldest.bottommost)
    assert.isFalse(Option.getOrThrow(pick(runs([...group, { size: 100_000, lo: "m", hi: "z" }]))).bottommost)
    assert.isFalse(
      Option.getOrThrow(pick(runs([...group, { size: 100_000, lo: "x", hi: "z" }], [{ level: 3, lo: "a", hi: "d" }])))
        .bottommost
    )
  })

  it("pickCompaction dispatches on the strategy", () => {
    const version = runs([{ size: 100 }, { size: 100 }, { size: 100 }, { size: 100 }, { size: 100_000 }])
    assert.strictEqual(Option.getOrThrow(pickCompaction(version, config)).outputLevel, 0)
    assert.strictEqual(Option.getOrThrow(pickCompaction(version, { ...config, compaction: "leveled" })).outputLevel, 1)
  })
})
