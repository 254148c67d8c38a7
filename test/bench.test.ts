/**
 * The benchmark harness's pieces (no speed is asserted anywhere): the histogram against sorted
 * samples, the workloads through the in-process Map engine and classic-level (including a
 * wrong value being caught), the command line, and the JSON and SVG writers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "../bench/config.js"
import type { Engine } from "../bench/engine.js"
import { engine as memoryEngine } from "../bench/engines/memory.js"
import { loadEngine } from "../bench/engines/index.js"
import { bucketBounds, Histogram, relativePrecision } from "../bench/histogram.js"
import { dbKey, dbValue, DB_KEY_SIZE, DB_VALUE_SIZE } from "../bench/keys.js"
import { Progress } from "../bench/progress.js"
import { fileStamp, writeResults } from "../bench/report/files.js"
import { escapeXml, renderSvg } from "../bench/report/svg.js"
import { comparisonBlock, engineBlock } from "../bench/report/text.js"
import type { EngineResult, RunResult } from "../bench/results.js"
import { runEngine } from "../bench/runEngine.js"
import { dbBench, dbBenchPhases } from "../bench/workloads/dbbench.js"
import { keylite } from "../bench/workloads/keylite.js"
import type { BenchConfig } from "../bench/config.js"

const tempDir = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `bench-test-${label}-`))

const quietContext = (engine: string) => ({
  engine,
  budgetMs: 60_000,
  progress: new Progress(engine, 60_000, () => {})
})

/** The percentile by definition: the rank-th smallest sample, rank = ceil(p/100 * count). */
const exactPercentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!

describe("Histogram", () => {
  const sample = fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 0, max: 100_000 }),
    fc.integer({ min: 0, max: 2 ** 40 })
  )

  it.prop("percentiles match sorted samples within the bucket precision", [fc.array(sample, { minLength: 1, maxLength: 400 })], ([values]) => {
    const h = new Histogram()
    for (const v of values) h.record(v)
    const sorted = [...values].sort((a, b) => a - b)
    for (const p of [0, 1, 25, 50, 90, 99, 99.9, 100]) {
      const truth = exactPercentile(sorted, p)
      const got = h.percentile(p)
      assert.isAtLeast(got, truth, `p${p}`)
      assert.isAtMost(got, truth < 256 ? truth : truth * (1 + relativePrecision), `p${p}`)
    }
    assert.strictEqual(h.count, values.length)
    assert.strictEqual(h.min, sorted[0])
    assert.strictEqual(h.max, sorted[sorted.length - 1])
    assert.closeTo(h.mean, values.reduce((a, b) => a + b, 0) / values.length, 1e-6 * h.max + 1e-9)
  })

  it.prop("merging equals recording everything in one", [fc.array(sample), fc.array(sample)], ([a, b]) => {
    const left = new Histogram()
    const right = new Histogram()
    const all = new Histogram()
    for (const v of a) (left.record(v), all.record(v))
    for (const v of b) (right.record(v), all.record(v))
    left.merge(right)
    assert.deepStrictEqual(left.summary(), all.summary())
  })

  it.prop("a bucket holds its value and is at most 1/128 wide", [sample], ([v]) => {
    const [low, high] = bucketBounds(v)
    assert.isAtMost(low, v)
    assert.isAtLeast(high, v)
    assert.isAtMost(high - low + 1, Math.max(1, low * relativePrecision))
  })

  it("small values are exact and an empty histogram reports zeros", () => {
    const h = new Histogram()
    assert.deepStrictEqual(h.summary(), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 })
    for (let v = 1; v <= 100; v++) h.record(v)
    assert.strictEqual(h.percentile(50), 50)
    assert.strictEqual(h.percentile(90), 90)
    assert.strictEqual(h.percentile(99.9), 100)
  })
})

describe("keys", () => {
  it("db_bench keys are 16 zero-padded digits, values 100 bytes that depend on key and generation", () => {
    assert.strictEqual(dbKey(42).toString("latin1"), "0000000000000042")
    assert.strictEqual(dbKey(9_999_999_999_999_999 - 1).length, DB_KEY_SIZE)
    assert.strictEqual(dbValue(7, 0).length, DB_VALUE_SIZE)
    assert.isTrue(dbValue(7, 0).equals(dbValue(7, 0)))
    assert.isFalse(dbValue(7, 0).equals(dbValue(7, 1)))
    assert.isFalse(dbValue(7, 0).equals(dbValue(8, 0)))
  })
})

/** The memory engine, except that `get` of keys 0..9 returns a wrong value. */
const lyingEngine: Engine = {
  ...memoryEngine,
  name: "liar",
  open: (directory) =>
    Effect.map(memoryEngine.open(directory), (handle) => ({
      ...handle,
      get: (key: Buffer) =>
        key.compare(dbKey(10)) < 0 ? Effect.succeed(Buffer.alloc(DB_VALUE_SIZE, 120)) : handle.get(key)
    }))
}

const checkDbBench = (engine: Engine, n: number) =>
  Effect.gen(function* () {
    const dir = tempDir(engine.name)
    const result = yield* dbBench(engine, quietContext(engine.name), {
      n,
      seed: 1,
      freshDirectory: (label) => fs.mkdtempSync(path.join(dir, `${label}-`))
    }).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))))
    assert.deepStrictEqual(result.phases.map((p) => p.name), [...dbBenchPhases])
    for (const p of result.phases) {
      assert.isFalse(p.capped, p.name)
      assert.strictEqual(p.ops, p.name === "deleterandom" ? Math.floor(n / 2) : n, p.name)
      assert.isAbove(p.opsPerSec, 0, p.name)
      assert.isAtMost(p.latency.p50, p.latency.p99, p.name)
      assert.isAtMost(p.latency.p99, p.latency.p999, p.name)
    }
    return result
  })

describe("workloads", () => {
  it.effect("db_bench runs every phase on the Map engine, each value checked", () =>
    Effect.gen(function* () {
      const result = yield* checkDbBench(memoryEngine, 500)
      assert.strictEqual(result.n, 500)
      assert.isAbove(result.reopenMs, 0)
      assert.isAbove(result.closeMs, 0)
    })
  )

  it.effect("db_bench runs every phase on stratadb, with write amplification from its stats", () =>
    Effect.gen(function* () {
      const engine = yield* loadEngine("stratadb")
      const result = yield* checkDbBench(engine, 2000)
      assert.isAbove(result.disk.bytes, 0)
      assert.isAbove(result.writeAmplification ?? 0, 1)
    })
  )

  it.effect("db_bench runs every phase on classic-level and measures its directory", () =>
    Effect.gen(function* () {
      const engine = yield* loadEngine("classic-level")
      const result = yield* checkDbBench(engine, 300)
      assert.isAbove(result.disk.bytes, 0)
      assert.isAbove(result.disk.files, 0)
    })
  )

  it.effect("a wrong value read back fails the run with a VerificationError", () =>
    Effect.gen(function* () {
      const dir = tempDir("liar")
      const outcome = yield* dbBench(lyingEngine, quietContext("liar"), {
        n: 50,
        seed: 1,
        freshDirectory: (label) => fs.mkdtempSync(path.join(dir, `${label}-`))
      }).pipe(Effect.either)
      fs.rmSync(dir, { recursive: true, force: true })
      assert.isTrue(Either.isLeft(outcome))
      if (Either.isLeft(outcome)) {
        assert.strictEqual(outcome.left._tag, "VerificationError")
        assert.include(outcome.left.message, "readrandom: wrong result: key ")
      }
    })
  )

  it.effect("keylite-loaded reads hit and checks every value; plain keylite runs all three roles", () =>
    Effect.gen(function* () {
      const dir = tempDir("keylite")
      const loaded = yield* keylite(memoryEngine, quietContext("memory"), {
        directory: path.join(dir, "a"),
        windowSeconds: 0.05,
        load: 300,
        seed: 3
      })
      assert.strictEqual(loaded.loaded, 300)
      assert.isAbove(loaded.reads.ops, 0)
      assert.strictEqual(loaded.reads.hits, loaded.reads.ops)
      assert.strictEqual(loaded.verified, loaded.reads.ops)
      const plain = yield* keylite(memoryEngine, quietContext("memory"), {
        directory: path.join(dir, "b"),
        windowSeconds: 0.05,
        load: 0,
        seed: 3
      })
      assert.isAbove(plain.writes.ops, 0)
      assert.isAbove(plain.deletes.ops, 0)
      assert.strictEqual(plain.verified, 0)
      assert.strictEqual(plain.writes.latency.count, plain.writes.ops)
      fs.rmSync(dir, { recursive: true, force: true })
    })
  )
})

describe("command line", () => {
  it("resolves defaults, --quick and explicit flags", () => {
    const full = parseArgs([])
    assert.isTrue(Either.isRight(full))
    const config = Either.getOrThrow(full)!
    assert.strictEqual(config.n, 1_000_000)
    assert.deepStrictEqual(config.engines, ["stratadb", "classic-level", "rocksdb", "lmdb"])
    const quick = Either.getOrThrow(parseArgs(["--quick", "--n", "5000", "--engines=lmdb,rocksdb", "--workloads", "dbbench"]))!
    assert.isTrue(quick.quick)
    assert.strictEqual(quick.n, 5000)
    assert.deepStrictEqual(quick.engines, ["lmdb", "rocksdb"])
    assert.deepStrictEqual(quick.workloads, ["dbbench"])
    assert.isBelow(quick.windowSeconds, config.windowSeconds)
  })

  it("rejects unknown engines, flags and bad numbers", () => {
    assert.isTrue(Either.isLeft(parseArgs(["--engines", "sqlite"])))
    assert.isTrue(Either.isLeft(parseArgs(["--fast"])))
    assert.isTrue(Either.isLeft(parseArgs(["--n", "ten"])))
    assert.isTrue(Either.isLeft(parseArgs(["--n"])))
    assert.isTrue(Either.isRight(parseArgs(["--help"])))
  })
})

/** A small XML well-formedness check: tags nest and close, text holds no raw `<` or bare `&`. */
const checkWellFormed = (xml: string): void => {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "")
  const stack: Array<string> = []
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g
  let m: RegExpExecArray | null
  let roots = 0
  while ((m = token.exec(body)) !== null) {
    if (m[6] !== undefined) throw new Error(`stray < at ${m.index}: ${body.slice(m.index, m.index + 40)}`)
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`bare & in ${m[5]}`)
      if (stack.length === 0 && m[5].trim() !== "") throw new Error(`text outside the root: ${m[5]}`)
      continue
    }
    const [, closing, name, attributes, selfClosing] = m
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(attributes ?? "")) throw new Error(`bare & in attributes of ${name}`)
    if (closing === "/") {
      const open = stack.pop()
      if (open !== name) throw new Error(`</${name}> closes <${open}>`)
    } else if (selfClosing !== "/") {
      if (stack.length === 0) roots++
      stack.push(name!)
    } else if (stack.length === 0) roots++
  }
  if (stack.length !== 0) throw new Error(`unclosed: ${stack.join(", ")}`)
  if (roots !== 1) throw new Error(`${roots} root elements`)
}

describe("report writers", () => {
  it("the well-formedness check itself rejects broken XML", () => {
    assert.throws(() => checkWellFormed("<svg><g></svg>"))
    assert.throws(() => checkWellFormed("<svg><text>a < b</text></svg>"))
    assert.throws(() => checkWellFormed("<svg><text>R&D</text></svg>"))
    checkWellFormed(`<svg a="1"><text>${escapeXml("R&D <x>")}</text><rect/></svg>`)
  })

  it.effect("JSON round-trips and the SVG is well-formed with a bar per engine and phase", () =>
    Effect.gen(function* () {
      const base = tempDir("run")
      const config: BenchConfig = {
        ...Either.getOrThrow(parseArgs(["--quick"]))!,
        n: 200,
        windowSeconds: 0.03,
        load: 200,
        outDir: path.join(base, "out")
      }
      const real = yield* runEngine({ ...config, engines: ["memory"] }, "memory", base, () => {})
      assert.isUndefined(real.error)
      // A second engine with a name that needs escaping, and a failed one.
      const odd: EngineResult = { ...real, engine: "a&b <odd>" }
      const failed: EngineResult = { engine: "broken", description: "x", durability: "?", api: "?", error: "boom", wallSeconds: 0 }
      const run: RunResult = {
        version: 1,
        startedAt: "2025-01-02T03:04:05.678Z",
        wallSeconds: 1,
        machine: { cpuModel: "cpu", cpus: 2, memoryBytes: 1, platform: "linux", release: "6", arch: "x64", node: "v20" },
        config,
        engines: [real, odd, failed]
      }
      const files = writeResults(run, config.outDir)
      assert.strictEqual(path.basename(files.json), `${fileStamp(run.startedAt)}.json`)
      assert.strictEqual(fileStamp(run.startedAt), "2025-01-02T03-04-05Z")
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(files.latestJson, "utf8")), JSON.parse(JSON.stringify(run)))
      assert.strictEqual(fs.readFileSync(files.json, "utf8"), fs.readFileSync(files.latestJson, "utf8"))
      const svg = fs.readFileSync(files.latestSvg, "utf8")
      assert.strictEqual(svg, fs.readFileSync(files.svg, "utf8"))
      assert.strictEqual(svg, renderSvg(run))
      checkWellFormed(svg)
      for (const engine of ["memory", escapeXml("a&b <odd>")]) {
        for (const phase of dbBenchPhases) {
          assert.include(svg, `<title>${engine} ${phase}: `, `${engine} ${phase}`)
        }
      }
      const text = comparisonBlock(run) + engineBlock(real) + engineBlock(failed)
      assert.include(text, "FAILED broken: boom")
      assert.include(text, "Writes: ")
      fs.rmSync(base, { recursive: true, force: true })
    })
  )
})
