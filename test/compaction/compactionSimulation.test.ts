import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { levelTargetBytes } from "../../src/internal/compaction/leveledPicker.js"
import { nextManualTask, startManualCompaction } from "../../src/internal/compaction/manualRange.js"
import { type CompactionState, initialCompactionState, pickCompaction, recordEdit } from "../../src/internal/compaction/pick.js"
import {
  compactUntilIdle,
  initialSimState,
  type SimEvent,
  type SimFlush,
  simKey,
  simReport,
  simulate,
  simulateFlush,
  simulateManual,
  type SimState
} from "./compactionSimulator.js"
import { type CompactionConfig, type CompactionTask, taskEdit } from "../../src/internal/compaction/task.js"
import { tieredMaxRuns } from "../../src/internal/compaction/tieredPicker.js"
import { seededRandom } from "../../src/internal/seededRandom.js"
import type { FileMeta } from "../../src/internal/version/fileMeta.js"
import { applyEdit, empty, levelBytes, rangesOverlap, type Version } from "../../src/internal/version/version.js"

/** A small deterministic PRNG (mulberry32). */
const prng = seededRandom

const KEYSPACE = 1_000_000

const randomFlushes = (count: number, seed: number): Array<SimFlush> => {
  const random = prng(seed)
  const flushes: Array<SimFlush> = []
  for (let i = 0; i < count; i++) {
    const width = 1000 + Math.floor(random() * 200_000)
    const smallest = Math.floor(random() * (KEYSPACE - width))
    flushes.push({ size: 80 + Math.floor(random() * 41), smallest, largest: smallest + width })
  }
  return flushes
}

const leveled: CompactionConfig = {
  compaction: "leveled",
  level0CompactionTrigger: 4,
  maxBytesForLevelBase: 2000,
  levelSizeMultiplier: 10,
  targetFileSize: 200,
  numLevels: 5,
  tieredSizeRatio: 2,
  tieredMinMergeWidth: 4
}

const tiered: CompactionConfig = { ...leveled, compaction: "tiered" }

const totalBytes = (version: Version): number => {
  let total = 0
  for (const files of version.levels) total += levelBytes(files)
  return total
}

/** Levels 1+ sorted by key and disjoint: each file ends before the next starts. */
const assertSortedDisjoint = (version: Version): void => {
  for (let level = 1; level < version.levels.length; level++) {
    const files = version.levels[level]!
    for (let i = 1; i < files.length; i++) {
      if (!(files[i - 1]!.largestKey < files[i]!.smallestKey)) assert.fail(`L${level} files ${i - 1} and ${i} overlap`)
    }
  }
}

/** Every pair of files of each level 1+ is disjoint. */
const assertNoOverlappingPair = (version: Version): void => {
  for (let level = 1; level < version.levels.length; level++) {
    const files = version.levels[level]!
    for (let i = 0; i < files.length; i++) {
      for (let j = i + 1; j < files.length; j++) {
        const a = files[i]!
        const b = files[j]!
        if (rangesOverlap(a.smallestKey, a.largestKey, b.smallestKey, b.largestKey)) assert.fail(`L${level} overlap`)
      }
    }
  }
}

describe("leveled simulation", () => {
  it("2,000 flushes: levels within target once idle, L1+ never overlap, bytes conserved", () => {
    let events = 0
    const observe = (event: SimEvent): void => {
      events++
      const { state } = event
      assert.strictEqual(totalBytes(state.version), state.flushedBytes - state.droppedBytes, "bytes conserved")
      assertSortedDisjoint(state.version)
      if (event._tag === "task" && event.task.trivialMove) {
        assert.strictEqual(event.task.inputs.length, 1)
        assert.strictEqual(event.task.nextInputs.length, 0)
      }
    }
    let state = initialSimState(leveled)
    for (const flush of randomFlushes(2000, 1)) {
      state = simulateFlush(state, flush, { dropFraction: 0.1, observe })
      state = compactUntilIdle(state, leveled, { dropFraction: 0.1, observe })
      // Idle: every level but the last within its target.
      assert.isBelow(state.version.levels[0]!.length, leveled.level0CompactionTrigger)
      for (let level = 1; level < leveled.numLevels - 1; level++) {
        assert.isBelow(levelBytes(state.version.levels[level]!), levelTargetBytes(leveled, level))
      }
    }
    const report = simReport(state, leveled)
    assertNoOverlappingPair(state.version)
    for (const l of report.levels) assert.isBelow(l.score, 1)
    assert.strictEqual(report.totalBytes, report.flushedBytes - report.droppedBytes)
    assert.isAtMost(report.maxLevel0Files, leveled.level0CompactionTrigger)
    assert.isAbove(report.compactions, 100)
    assert.isAbove(report.trivialMoves, 0)
    assert.isAbove(report.levels[3]!.bytes, 0, "data reached L3")
    assert.isAbove(report.writeAmplification, 1)
    assert.isAbove(events, 2000)
  })
})

describe("tiered simulation", () => {
  it("2,000 flushes: the run count stays bounded, runs stay in L0, bytes conserved", () => {
    const bound = tieredMaxRuns(tiered)
    let maxSeen = 0
    const observe = (event: SimEvent): void => {
      const { state } = event
      const l0 = state.version.levels[0]!
      maxSeen = Math.max(maxSeen, l0.length)
      assert.strictEqual(totalBytes(state.version), state.flushedBytes - state.droppedBytes, "bytes conserved")
      for (let level = 1; level < state.version.levels.length; level++) {
        assert.strictEqual(state.version.levels[level]!.length, 0)
      }
      // Runs keep disjoint sequence ranges, newest first.
      for (let i = 1; i < l0.length; i++) assert.isTrue(l0[i - 1]!.minSeq > l0[i]!.maxSeq, "run order")
      if (event._tag === "task") assert.strictEqual(event.task.outputLevel, 0)
    }
    const report = simulate(tiered, randomFlushes(2000, 2), { dropFraction: 0.2, observe })
    assert.isAtMost(report.levels[0]!.files, bound)
    assert.isAtMost(maxSeen, bound + 1)
    assert.strictEqual(report.totalBytes, report.flushedBytes - report.droppedBytes)
    assert.isAbove(report.compactions, 100)
    assert.isAbove(report.writeAmplification, 1)
  })
})

describe("manual range (simulator)", () => {
  const filesOverlapping = (version: Version, lo: string, hi: string): Array<{ level: number; file: FileMeta }> =>
    version.levels.flatMap((files, level) =>
      files.filter((f) => rangesOverlap(f.smallestKey, f.largestKey, lo, hi)).map((file) => ({ level, file }))
    )

  for (const config of [leveled, tiered]) {
    it(`${config.compaction}: afterwards every file overlapping the range sits in one level`, () => {
      let state: SimState = initialSimState(config)
      for (const flush of randomFlushes(300, 3)) {
        state = simulateFlush(state, { ...flush, tombstones: 1 })
        state = compactUntilIdle(state, config)
      }
      // Leave a few flushes uncompacted so L0 holds tables too.
      for (const flush of randomFlushes(3, 4)) state = simulateFlush(state, { ...flush, tombstones: 1 })
      const [lo, hi] = [300_000, 400_000]
      const before = filesOverlapping(state.version, simKey(lo), simKey(hi))
      if (config.compaction === "leveled") {
        assert.isAbove(new Set(before.map((x) => x.level)).size, 1, "the range starts spread over levels")
      } else {
        assert.isAbove(before.length, 1, "the range starts spread over runs")
      }

      const { state: after, tasks } = simulateManual(state, config, lo, hi, { dropFraction: 0.1 })
      assert.isAbove(tasks.length, 0)
      assert.isTrue(tasks[tasks.length - 1]!.bottommost)
      const overlapping = filesOverlapping(after.version, simKey(lo), simKey(hi))
      assert.isAbove(overlapping.length, 0)
      assert.strictEqual(new Set(overlapping.map((x) => x.level)).size, 1)
      if (config.compaction === "tiered") assert.strictEqual(overlapping.length, 1, "one run")
      for (const { file } of overlapping) assert.strictEqual(file.tombstones, 0)
      assertNoOverlappingPair(after.version)
      assert.strictEqual(totalBytes(after.version), after.flushedBytes - after.droppedBytes)

      const all = simulateManual(after, config)
      const levels = new Set(all.state.version.levels.flatMap((files, level) => files.map(() => level)))
      assert.strictEqual(levels.size, 1)
      if (config.compaction === "tiered") assert.strictEqual(all.state.version.levels[0]!.length, 1)
    })
  }
})

// ---- an exact model: real keys and versions, checked through reads ----

interface Entry {
  readonly seq: number
  readonly deleted: boolean
}

const ENTRY_BYTES = 10

/** Files' contents by file number, and the truth (latest write per key). */
interface Model {
  version: Version
  compaction: CompactionState
  nextFile: number
  nextSeq: number
  readonly contents: Map<number, Map<string, Entry>>
  readonly truth: Map<string, Entry>
}

const modelKey = (n: number): string => `k${String(n).padStart(4, "0")}`

const tableOf = (model: Model, entries: ReadonlyArray<readonly [string, Entry]>): FileMeta => {
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))
  let minSeq = Number.MAX_SAFE_INTEGER
  let maxSeq = 0
  let tombstones = 0
  for (const [, e] of sorted) {
    minSeq = Math.min(minSeq, e.seq)
    maxSeq = Math.max(maxSeq, e.seq)
    if (e.deleted) tombstones++
  }
  const number = model.nextFile++
  model.contents.set(number, new Map(sorted))
  return {
    number,
    size: sorted.length * ENTRY_BYTES,
    rawSize: sorted.length * ENTRY_BYTES,
    smallestKey: sorted[0]![0],
    smallestSeq: sorted[0]![1].seq,
    largestKey: sorted[sorted.length - 1]![0],
    largestSeq: sorted[sorted.length - 1]![1].seq,
    entries: sorted.length,
    tombstones,
    minSeq,
    maxSeq
  }
}

/** Merges a task's inputs for real: newest version per key, tombstones dropped when bottommost. */
const runTask = (model: Model, task: CompactionTask): void => {
  let outputs: Array<FileMeta> = []
  if (task.trivialMove) {
    outputs = [...task.inputs]
  } else {
    const merged = new Map<string, Entry>()
    for (const f of [...task.inputs, ...task.nextInputs]) {
      for (const [key, e] of model.contents.get(f.number)!) {
        const seen = merged.get(key)
        if (seen === undefined || e.seq > seen.seq) merged.set(key, e)
      }
    }
    const kept = [...merged].filter(([, e]) => !(task.bottommost && e.deleted)).sort((a, b) => (a[0] < b[0] ? -1 : 1))
    const perTable = Number.isFinite(task.maxOutputFileSize)
      ? Math.max(1, Math.floor(task.maxOutputFileSize / ENTRY_BYTES))
      : kept.length
    for (let i = 0; i < kept.length; i += perTable) outputs.push(tableOf(model, kept.slice(i, i + perTable)))
  }
  const edit = taskEdit(task, outputs)
  model.version = applyEdit(model.version, edit)
  model.compaction = recordEdit(model.compaction, edit)
}

/** A point read as the engine does it: L0 newest first, then one table per level. */
const read = (model: Model, key: string): Entry | undefined => {
  for (const f of model.version.levels[0]!) {
    if (key < f.smallestKey || key > f.largestKey) continue
    const e = model.contents.get(f.number)!.get(key)
    if (e !== undefined) return e
  }
  for (let level = 1; level < model.version.levels.length; level++) {
    // Sorted and disjoint: the first file whose largest key is >= key is the only candidate.
    const files = model.version.levels[level]!
    let lo = 0
    let hi = files.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (files[mid]!.largestKey < key) lo = mid + 1
      else hi = mid
    }
    const f = files[lo]
    if (f === undefined || key < f.smallestKey) continue
    const e = model.contents.get(f.number)!.get(key)
    if (e !== undefined) return e
  }
  return undefined
}

/** Every key reads its latest write (a deleted key: its tombstone or nothing). Plain checks: it runs often. */
const assertReads = (model: Model): void => {
  for (const [key, expected] of model.truth) {
    const got = read(model, key)
    const ok = expected.deleted
      ? got === undefined || (got.deleted && got.seq === expected.seq)
      : got !== undefined && !got.deleted && got.seq === expected.seq
    if (!ok) assert.fail(`${key}: expected ${JSON.stringify(expected)}, read ${JSON.stringify(got)}`)
  }
}

const runModel = (config: CompactionConfig, seed: number): Model => {
  const random = prng(seed)
  const model: Model = {
    version: empty(config.numLevels),
    compaction: initialCompactionState,
    nextFile: 1,
    nextSeq: 1,
    contents: new Map(),
    truth: new Map()
  }
  for (let flush = 0; flush < 300; flush++) {
    // A batch of writes over a window of keys (sometimes narrow, sometimes the whole space).
    const width = random() < 0.2 ? 1000 : 20 + Math.floor(random() * 150)
    const start = Math.floor(random() * (1000 - Math.min(width, 999)))
    const batch = new Map<string, Entry>()
    for (let i = 0; i < 25; i++) {
      const key = modelKey(start + Math.floor(random() * Math.min(width, 1000 - start)))
      const entry = { seq: model.nextSeq++, deleted: random() < 0.25 }
      batch.set(key, entry)
      model.truth.set(key, entry)
    }
    model.version = applyEdit(model.version, { newFiles: [{ level: 0, meta: tableOf(model, [...batch]) }] })
    for (let steps = 0; ; steps++) {
      assert.isBelow(steps, 10_000, "compaction settles")
      const task = pickCompaction(model.version, config, model.compaction)
      if (Option.isNone(task)) break
      runTask(model, task.value)
      assertSortedDisjoint(model.version)
      assertReads(model)
    }
  }
  return model
}

const runManual = (model: Model, config: CompactionConfig, lo?: string, hi?: string): void => {
  let manual = startManualCompaction(lo, hi)
  for (let steps = 0; ; steps++) {
    assert.isBelow(steps, 10_000, "manual compaction finishes")
    const step = nextManualTask(model.version, config, manual)
    manual = step.manual
    if (Option.isNone(step.task)) return
    runTask(model, step.task.value)
    assertSortedDisjoint(model.version)
    assertReads(model)
  }
}

describe("policy model (real keys, versions and tombstones)", () => {
  const modelLeveled: CompactionConfig = {
    ...leveled,
    maxBytesForLevelBase: 400,
    levelSizeMultiplier: 4,
    targetFileSize: 100
  }
  for (const config of [modelLeveled, { ...modelLeveled, compaction: "tiered" as const }]) {
    it(`${config.compaction}: every read returns the latest write after every task`, () => {
      for (const seed of [11, 12]) {
        const model = runModel(config, seed)
        const lo = modelKey(200)
        const hi = modelKey(399)
        runManual(model, config, lo, hi)
        const inRange = model.version.levels.flatMap((files, level) =>
          files.filter((f) => rangesOverlap(f.smallestKey, f.largestKey, lo, hi)).map((f) => ({ level, f }))
        )
        assert.strictEqual(new Set(inRange.map((x) => x.level)).size, 1)
        for (const { f } of inRange) assert.strictEqual(f.tombstones, 0, "tombstones in range dropped")
        runManual(model, config)
        let tombstones = 0
        for (const files of model.version.levels) for (const f of files) tombstones += f.tombstones
        assert.strictEqual(tombstones, 0)
        let live = 0
        for (const e of model.truth.values()) if (!e.deleted) live++
        let stored = 0
        for (const files of model.version.levels) for (const f of files) stored += f.entries
        assert.strictEqual(stored, live, "only the live keys remain after a full manual compaction")
      }
    })
  }
})
