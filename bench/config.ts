/**
 * The command line: `npm start -- [--quick] [--n N] [--engines a,b] [--workloads x,y] [--out DIR]
 * [--phase-seconds S] [--window S] [--load N] [--scale-n N] [--seed N]`, and the settings it
 * resolves to.
 */
import { Either } from "effect"
import { defaultEngines, engineNames } from "./engines/index.js"
import { UsageError } from "./errors.js"

export const workloadNames = ["keylite", "keylite-loaded", "dbbench", "scale"] as const
export type WorkloadName = (typeof workloadNames)[number]

/** What runs without `--workloads`: scale is left out, it takes long (10M keys per engine). */
export const defaultWorkloads: ReadonlyArray<WorkloadName> = ["keylite", "keylite-loaded", "dbbench"]

export interface BenchConfig {
  readonly quick: boolean
  /** db_bench keys. */
  readonly n: number
  readonly engines: ReadonlyArray<string>
  readonly workloads: ReadonlyArray<WorkloadName>
  readonly outDir: string
  /** Where each workload's database is copied, closed, before its temporary directory goes (`--keep`). */
  readonly keepDir?: string | undefined
  /** Time budget of one db_bench phase (a phase stops there and reports what it did). */
  readonly phaseSeconds: number
  /** The keylite window. */
  readonly windowSeconds: number
  /** Entries loaded before the keylite-loaded window. */
  readonly load: number
  /** Keys the scale workload fills. */
  readonly scaleN: number
  /** Random reads the scale workload runs after its reopen (not a flag: 200,000; --quick 20,000). */
  readonly scaleReads: number
  /** Seconds between progress lines. */
  readonly progressSeconds: number
  readonly seed: number
}

export const usage = `Usage: npm start -- [options]

Runs the benchmark on temporary directories and compares stratadb with LevelDB, RocksDB and LMDB.

  --quick              small sizes and short windows (a smoke run, under a minute)
  --n N                db_bench keys (default 1000000; --quick 20000)
  --engines LIST       comma-separated, from: ${engineNames.join(", ")}
                       (default ${defaultEngines.join(",")}; memory is a harness self-test, stratadb-level stratadb through its level bridge, stratadb-inline with background work on the calling thread, stratadb-uncompressed with compression \"none\", stratadb-nometrics without metrics, stratadb-options with the JSON options in STRATADB_BENCH_OPTIONS)
  --workloads LIST     comma-separated, from: ${workloadNames.join(", ")}
                       (default ${defaultWorkloads.join(",")}; scale is long, so only when named)
  --out DIR            where the JSON and SVG go (default bench-results)
  --keep DIR           copy each workload's database, once closed, into DIR/<engine>-<workload>
                       (to inspect it, e.g. stratadb stats / verify)
  --phase-seconds S    time budget of one db_bench phase (default 20; --quick 1.5)
  --window S           keylite window (default 10; --quick 1.5)
  --load N             entries loaded before the keylite-loaded window (default 2000000; --quick 50000)
  --scale-n N          keys the scale workload fills before its reopen and reads (default 10000000; --quick 200000)
  --seed N             random seed (default 42)
  --help               this text`

const quickDefaults = { n: 20_000, phaseSeconds: 1.5, windowSeconds: 1.5, load: 50_000, scaleN: 200_000, scaleReads: 20_000 }
const fullDefaults = { n: 1_000_000, phaseSeconds: 20, windowSeconds: 10, load: 2_000_000, scaleN: 10_000_000, scaleReads: 200_000 }

const bad = (description: string) => Either.left(new UsageError({ description: `${description}\n\n${usage}` }))

/** `Right(undefined)` means `--help`. */
export const parseArgs = (argv: ReadonlyArray<string>): Either.Either<BenchConfig | undefined, UsageError> => {
  const values = new Map<string, string>()
  let quick = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--help" || arg === "-h") return Either.right(undefined)
    if (arg === "--quick") {
      quick = true
      continue
    }
    if (!arg.startsWith("--")) return bad(`unexpected argument ${arg}`)
    const eq = arg.indexOf("=")
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2)
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (!["n", "engines", "workloads", "out", "keep", "phase-seconds", "window", "load", "scale-n", "seed"].includes(name)) {
      return bad(`unknown option --${name}`)
    }
    if (value === undefined) return bad(`--${name} needs a value`)
    values.set(name, value)
  }
  const defaults = quick ? quickDefaults : fullDefaults
  const number = (name: string, fallback: number, min: number, integer: boolean): number | string => {
    const text = values.get(name)
    if (text === undefined) return fallback
    const v = Number(text.replace(/_/g, ""))
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      return `--${name} must be ${integer ? "an integer" : "a number"} >= ${min}, got ${text}`
    }
    return v
  }
  const n = number("n", defaults.n, 2, true)
  const phaseSeconds = number("phase-seconds", defaults.phaseSeconds, 0.01, false)
  const windowSeconds = number("window", defaults.windowSeconds, 0.01, false)
  const load = number("load", defaults.load, 2, true)
  const scaleN = number("scale-n", defaults.scaleN, 2, true)
  const seed = number("seed", 42, 0, true)
  for (const v of [n, phaseSeconds, windowSeconds, load, scaleN, seed]) if (typeof v === "string") return bad(v)
  const list = (name: string, known: ReadonlyArray<string>, fallback: ReadonlyArray<string>) => {
    const text = values.get(name)
    if (text === undefined) return [...fallback]
    const items = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    const unknown = items.filter((s) => !known.includes(s))
    if (unknown.length > 0 || items.length === 0) return `--${name}: unknown ${unknown.join(", ") || "(empty)"}; known: ${known.join(", ")}`
    return [...new Set(items)]
  }
  const engines = list("engines", engineNames, defaultEngines)
  if (typeof engines === "string") return bad(engines)
  const workloads = list("workloads", workloadNames, defaultWorkloads)
  if (typeof workloads === "string") return bad(workloads)
  return Either.right({
    quick,
    n: n as number,
    engines,
    workloads: workloads as Array<WorkloadName>,
    outDir: values.get("out") ?? "bench-results",
    keepDir: values.get("keep"),
    phaseSeconds: phaseSeconds as number,
    windowSeconds: windowSeconds as number,
    load: load as number,
    scaleN: scaleN as number,
    scaleReads: defaults.scaleReads,
    progressSeconds: 3,
    seed: seed as number
  })
}
