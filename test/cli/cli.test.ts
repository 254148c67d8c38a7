/**
 * The `stratadb` command end to end: each command run as a child process on databases this test
 * builds with the Db layer (stratadb's Node file system, a temporary directory), checking stdout,
 * stderr and the exit code.
 *
 * Commands that open a database take its LOCK, so each run gets a directory of its own: one base
 * database is built, then copied with `checkpoint` once per run, and the runs go in parallel
 * (a few at a time). The command is bundled once (support.ts) so that a child starts fast.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { bundleCli, entriesOf, repo, type Run, runBundle, runSource, tempDir, withNodeDb } from "./support.js"

const temp = tempDir("stratadb-cli-")
let bundle = ""
const base = join(temp.path, "base")
const n = (i: number) => `n:${String(i).padStart(6, "0")}`

/** Runs `jobs` at most `width` at a time. */
const pool = async <A>(jobs: ReadonlyArray<() => Promise<A>>, width = 3): Promise<Array<A>> => {
  const results = new Array<A>(jobs.length)
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      results[i] = await jobs[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker))
  return results
}

/** Copies of the base database, one per name, made with checkpoint in one open. */
const copies = async (names: ReadonlyArray<string>): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  await withNodeDb({ directory: base, createIfMissing: false, backgroundCompaction: false }, (db) =>
    Effect.forEach(names, (name) => Effect.tap(db.checkpoint(join(temp.path, name)), (r) => Effect.sync(() => (out[name] = r.directory)))))
  return out
}

const stratadb = (...args: Array<string>) => runBundle(bundle, args)

/** A failure: exit code `code`, nothing on stdout, exactly one line on stderr matching `line`. */
const assertFailure = (run: Run, code: number, line: RegExp, what: string) => {
  assert.strictEqual(run.code, code, `${what}: exit code (stderr: ${run.stderr})`)
  assert.strictEqual(run.stdout, "", `${what}: stdout`)
  const lines = run.stderr.split("\n")
  assert.strictEqual(lines.length, 2, `${what}: one line on stderr, got ${JSON.stringify(run.stderr)}`)
  assert.strictEqual(lines[1], "")
  assert.match(lines[0]!, line, what)
}

const assertSuccess = (run: Run, what: string) => {
  assert.strictEqual(run.code, 0, `${what}: exit code (stderr: ${run.stderr})`)
  assert.strictEqual(run.stderr, "", `${what}: stderr (no progress without a terminal)`)
}

const baseEntries: Array<readonly [string, string]> = []

beforeAll(async () => {
  bundle = await bundleCli(temp.path)
  // The base: a few named keys, a binary key and value, and 3,000 numbered keys in several L0
  // tables (no background compaction), with some deleted.
  await withNodeDb({ directory: base, writeBufferSize: 64 * 1024, blockSize: 1024, backgroundCompaction: false }, (db) =>
    Effect.gen(function* () {
      yield* db.put("fruit:apple", "red")
      yield* db.put("fruit:banana", "yellow")
      yield* db.put("fruit:cherry", "dark red")
      yield* db.put("veg:kale", "green")
      yield* db.put(new Uint8Array([0x00, 0xff, 0x10]), new Uint8Array([0xde, 0xad, 0xbe, 0xef]))
      for (let i = 0; i < 3000; i++) yield* db.put(n(i), `value-${i}`.padEnd(80, "."))
      for (let i = 0; i < 3000; i += 10) yield* db.delete(n(i))
      yield* db.flush
      baseEntries.push(...(yield* entriesOf(db)))
    }))
}, 120_000)

afterAll(() => temp.cleanup())

describe("stratadb command", () => {
  it("--help: the root lists every command (the offline tools too); each database command's help describes it; the sources' entry runs too", async () => {
    const commands = ["get", "put", "delete", "scan", "stats", "compact", "approximate-size", "checkpoint", "backup"]
    const [root, source, ...each] = await pool([
      () => stratadb("--help"),
      () => runSource(["--help"]),
      ...commands.map((c) => () => stratadb(c, "--help"))
    ])
    for (const [what, run] of [["bundle", root!], ["sources", source!]] as const) {
      assertSuccess(run, `${what} --help`)
      for (const c of [...commands, "verify", "repair", "dump-table", "dump-log", "manifest"]) {
        assert.include(run.stdout, `- ${c} `, `${what}: --help lists ${c}`)
      }
    }
    const describes: Record<string, RegExp> = {
      get: /Print the value of a key/,
      put: /Set a key to a value/,
      delete: /Delete a key/,
      scan: /Print the entries in key order/,
      stats: /stats page/,
      compact: /Compact the tables/,
      "approximate-size": /approximate bytes on disk/,
      checkpoint: /consistent copy/,
      backup: /every table copied/
    }
    commands.forEach((c, i) => {
      const run = each[i]!
      assertSuccess(run, `${c} --help`)
      assert.match(run.stdout, describes[c]!, `${c} --help`)
      assert.include(run.stdout, "<dir>", `${c} --help shows its arguments`)
    })
    assert.include(each[3]!.stdout, "--keys-only")
    assert.include(each[0]!.stdout, "--key-encoding")
  })

  it("get, scan, stats and approximate-size read; encodings text, hex and base64", async () => {
    const names = ["g1", "g2", "g3", "g4", "s1", "s2", "s3", "s4", "s5", "st1", "st2", "a1", "a2"]
    const dirs = await copies(names)
    const tableBytes = await withNodeDb({ directory: dirs.a1!, createIfMissing: false, backgroundCompaction: false }, (db) =>
      Effect.map(db.stats, (s) => s.levels.reduce((sum, l) => sum + l.bytes, 0)))
    const runs = await pool([
      () => stratadb("get", dirs.g1!, "fruit:apple"),
      () => stratadb("get", dirs.g2!, "00ff10", "--encoding", "hex"),
      () => stratadb("get", "--key-encoding", "hex", "--value-encoding", "base64", dirs.g3!, "00ff10"),
      () => stratadb("get", dirs.g4!, "nope"),
      () => stratadb("scan", dirs.s1!, "--prefix", "fruit:"),
      () => stratadb("scan", dirs.s2!, "--from", "fruit:b", "--to", "fruit:z", "--reverse"),
      () => stratadb("scan", dirs.s3!, "--prefix", "n:", "--limit", "3", "--keys-only"),
      () => stratadb("scan", dirs.s4!, "--to", Buffer.from("fruit:b").toString("hex"), "--encoding", "hex"),
      () => stratadb("scan", dirs.s5!),
      () => stratadb("stats", dirs.st1!),
      () => stratadb("stats", dirs.st2!, "--json"),
      () => stratadb("approximate-size", dirs.a1!),
      () => stratadb("approximate-size", dirs.a2!, "--from", n(1000), "--to", n(2000))
    ])
    const [get1, get2, get3, get4, scan1, scan2, scan3, scan4, scan5, stats1, stats2, size1, size2] = runs as [Run, ...Array<Run>]
    for (const [i, run] of runs.entries()) if (i !== 3) assertSuccess(run!, names[i]!)

    assert.strictEqual(get1.stdout, "red\n")
    assert.strictEqual(get2!.stdout, "deadbeef\n")
    assert.strictEqual(get3!.stdout, "3q2+7w==\n")
    assertFailure(get4!, 1, /^stratadb get: key not found: nope$/, "get of a missing key")

    assert.strictEqual(scan1!.stdout, "fruit:apple\tred\nfruit:banana\tyellow\nfruit:cherry\tdark red\n")
    assert.strictEqual(scan2!.stdout, "fruit:cherry\tdark red\nfruit:banana\tyellow\n")
    assert.strictEqual(scan3!.stdout, `${n(1)}\n${n(2)}\n${n(3)}\n`, "n:000000 is deleted")
    assert.strictEqual(
      scan4!.stdout,
      `00ff10\tdeadbeef\n${Buffer.from("fruit:apple").toString("hex")}\t${Buffer.from("red").toString("hex")}\n`
    )
    const all = scan5!.stdout.split("\n").slice(0, -1)
    assert.strictEqual(all.length, baseEntries.length)
    assert.deepStrictEqual(all.slice(-3), baseEntries.slice(-3).map(([k, v]) => `${k}\t${v}`))

    assert.match(stats1!.stdout, /^\*\* stratadb stats \(since open\) \*\*\n/)
    assert.match(stats1!.stdout, /\nL0 +\d+ /)
    const json = JSON.parse(stats2!.stdout) as { levels: Array<{ tables: number }> }
    assert.isAbove(json.levels[0]!.tables, 1)

    assert.strictEqual(size1!.stdout, `${tableBytes}\n`, "the whole key space: every table")
    const third = Number(size2!.stdout)
    assert.isTrue(Number.isInteger(third) && third > tableBytes * 0.2 && third < tableBytes * 0.5, `a third of the keys: ${third} of ${tableBytes}`)
  })

  it("put, delete, compact, checkpoint and backup write; the results open with the expected data", async () => {
    const dirs = await copies(["w", "c", "cp", "bk"])
    const fresh = join(temp.path, "fresh")
    const [write, compact, checkpoint, backup, created, notCreated] = await pool([
      async () => {
        // Sequential on one directory: each takes the LOCK.
        const runs = [
          await stratadb("put", dirs.w!, "fruit:date", "brown"),
          await stratadb("put", dirs.w!, "--encoding", "base64", "aGk=", "dGhlcmU="),
          await stratadb("delete", dirs.w!, "fruit:apple"),
          await stratadb("delete", dirs.w!, "--key-encoding", "hex", "00ff10")
        ]
        return runs
      },
      async () => [await stratadb("compact", dirs.c!)],
      async () => [await stratadb("checkpoint", dirs.cp!, join(temp.path, "cp-target"))],
      async () => [await stratadb("backup", dirs.bk!, join(temp.path, "bk-target"))],
      async () => [await stratadb("put", fresh, "first", "key", "--create")],
      async () => [await stratadb("put", join(temp.path, "missing"), "k", "v")]
    ])
    for (const run of write!) {
      assertSuccess(run, "put/delete")
      assert.strictEqual(run.stdout, "")
    }
    const open = (directory: string) =>
      withNodeDb({ directory, createIfMissing: false, backgroundCompaction: false }, (db) =>
        Effect.zip(entriesOf(db), Effect.map(db.stats, (s) => s.levels.map((l) => l.tables))))

    const [written] = await open(dirs.w!)
    const expected = new Map(baseEntries)
    expected.set("fruit:date", "brown")
    expected.set("hi", "there")
    expected.delete("fruit:apple")
    expected.delete("\u0000\ufffd\u0010")
    assert.deepStrictEqual(new Map(written), expected)

    assertSuccess(compact![0]!, "compact")
    assert.match(compact![0]!.stdout, /^compacted .*: \d+ compactions?, .* read, .* written; tables \d+ -> 1, .*\n$/)
    const [compacted, levels] = await open(dirs.c!)
    assert.deepStrictEqual(compacted, baseEntries)
    assert.strictEqual(levels[0], 0, "L0 is empty after a full compaction")

    assertSuccess(checkpoint![0]!, "checkpoint")
    assert.match(checkpoint![0]!.stdout, /^checkpoint of .* in .*cp-target: \d+ tables, .* \(\d+ linked, 0 copied\), up to sequence \d+\n$/)
    assert.deepStrictEqual((await open(join(temp.path, "cp-target")))[0], baseEntries)
    assertSuccess(backup![0]!, "backup")
    assert.match(backup![0]!.stdout, /^backup of .* in .*bk-target: \d+ tables, .* \(0 linked, \d+ copied\)/)
    assert.deepStrictEqual((await open(join(temp.path, "bk-target")))[0], baseEntries)

    assertSuccess(created![0]!, "put --create")
    assert.deepStrictEqual((await open(fresh))[0], [["first", "key"]])
    assertFailure(notCreated![0]!, 1, /^stratadb put: .*missing does not exist \(--create makes a new database\)$/, "put without --create")
    assert.isFalse(existsSync(join(temp.path, "missing")), "nothing created")
  })

  it("bad arguments: exit code 2 and one line; a failing command: exit code 1 and one line", async () => {
    const dirs = await copies(["bad"])
    const runs = await pool([
      () => stratadb(),
      () => stratadb("get"),
      () => stratadb("frobnicate"),
      () => stratadb("scan", dirs.bad!, "--limit", "many"),
      () => stratadb("scan", dirs.bad!, "--limit", "0"),
      () => stratadb("get", dirs.bad!, "zz", "--key-encoding", "hex"),
      () => stratadb("get", dirs.bad!, "k", "--encoding", "rot13"),
      () => stratadb("get", dirs.bad!, "k", "extra"),
      () => stratadb("get", join(temp.path, "nothing-here"), "k"),
      () => stratadb("checkpoint", dirs.bad!, base)
    ])
    const expected: Array<[number, RegExp]> = [
      [2, /^stratadb: a command is required/],
      [2, /^stratadb get: Missing argument <dir>$/],
      [2, /^stratadb: Invalid subcommand .*'get'/],
      [2, /^stratadb scan: 'many' is not a integer$/],
      [2, /^stratadb scan: --limit must be at least 1, got 0$/],
      [2, /^stratadb get: the key is not hex/],
      [2, /^stratadb get: .*text, hex, base64/],
      [2, /^stratadb get: Received unknown argument: 'extra'$/],
      [1, /^stratadb get: .*nothing-here does not exist$/],
      [1, /^stratadb checkpoint: the target .*base exists and is not empty$/]
    ]
    runs.forEach((run, i) => assertFailure(run, expected[i]![0], expected[i]![1], `case ${i}`))
  })

  it("a directory another process holds: a clear line and exit code 1", async () => {
    const dirs = await copies(["held"])
    const holder = spawn(process.execPath, ["--conditions=stratadb-source", "--import", "tsx", "test/fixtures/lockHolder.ts", dirs.held!, "60000"], {
      cwd: repo,
      stdio: ["pipe", "pipe", "inherit"]
    })
    try {
      await new Promise<void>((resolve, reject) => {
        holder.on("error", reject)
        holder.stdout.once("data", () => resolve())
      })
      holder.stdin.write(`${Date.now()}\n`)
      // The holder marks the directory once it holds the LOCK.
      while (!existsSync(join(dirs.held!, "HOLDER"))) await new Promise((r) => setTimeout(r, 20))
      const [get, compact] = await Promise.all([stratadb("get", dirs.held!, "fruit:apple"), stratadb("compact", dirs.held!)])
      const line = new RegExp(`^stratadb (get|compact): .*held is in use by another process: its LOCK is held by process ${holder.pid}$`)
      assertFailure(get, 1, line, "get")
      assertFailure(compact, 1, line, "compact")
    } finally {
      holder.kill("SIGKILL")
    }
  })
})
