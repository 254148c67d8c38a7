/**
 * The tools on @effect/platform-node's file system (whose handles have no positional read, so
 * tables are read through effects), and the commands run through @effect/cli with what
 * NodeContext provides: output, exit on damage.
 */
import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { FileSystem } from "@effect/platform/FileSystem"
import { assert, describe, it, vi } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { toolCommands } from "../../src/internal/cli/toolCommands.js"
import { repair } from "../../src/internal/tools/repair.js"
import { dumpTable } from "../../src/internal/tools/tableDump.js"
import { verify } from "../../src/internal/tools/verify.js"
import { withDb } from "../support.js"
import { allEntries, assertHolds, buildFlushed, leveledOptions, modelOf, walEntries } from "./fixture.js"

const tempDir = Effect.flatMap(FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "stratadb-tools-" }))

const cli = Command.run(Command.make("stratadb").pipe(Command.withSubcommands([...toolCommands])), { name: "stratadb", version: "0" })

/** Runs the command line, returning its exit and what it printed on stdout. */
const runCli = (...args: Array<string>) =>
  Effect.gen(function* () {
    let out = ""
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString()
      return true
    })
    const exit = yield* Effect.exit(cli(["node", "stratadb", ...args])).pipe(Effect.ensuring(Effect.sync(() => spy.mockRestore())))
    return { exit, out }
  })

const flipByte = (path: string, offset: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem
    const bytes = yield* fs.readFile(path)
    bytes[offset]! ^= 0xff
    yield* fs.writeFile(path, bytes)
  })

describe("on the Node file system", () => {
  it.scoped("dump-table, verify and repair read tables through effects", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const dir = `${yield* tempDir}/db`
      yield* buildFlushed(dir)
      const { entries, history } = yield* allEntries(dir)
      const wal = yield* walEntries(dir, (yield* fs.readDirectory(dir)).filter((n) => n.endsWith(".log")))
      const first = history.state.levels.flat()[0]!
      const path = `${dir}/${String(first.number).padStart(6, "0")}.sst`
      const dump = yield* dumpTable(path, { verify: true })
      assert.isTrue(dump.ok)
      assert.strictEqual(dump.entries.length, first.entries)
      assert.isTrue((yield* verify(dir)).ok)
      yield* flipByte(path, dump.index[0]!.offset + 4)
      const damaged = yield* verify(dir)
      assert.deepStrictEqual(damaged.damage.map((d) => d.offset), [dump.index[0]!.offset])
      const report = yield* repair(dir)
      assert.strictEqual(report.tables.find((t) => path.endsWith(t.file))!.outcome, "rewritten")
      assert.isTrue((yield* verify(dir)).ok)
      const expected = modelOf([...entries.filter((e) => !(e.file === path && e.block === 0)), ...wal])
      yield* withDb({ ...leveledOptions(dir), backgroundCompaction: false }, (db) => assertHolds(db, expected))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("the commands print their reports and fail with Corruption on damage", () =>
    Effect.gen(function* () {
      const dir = `${yield* tempDir}/db`
      yield* buildFlushed(dir)
      const fs = yield* FileSystem
      const names = yield* fs.readDirectory(dir)
      const table = `${dir}/${names.filter((n) => n.endsWith(".sst")).sort()[0]!}`
      const log = `${dir}/${names.find((n) => n.endsWith(".log"))!}`

      const ok = yield* runCli("verify", dir)
      assert.isTrue(Exit.isSuccess(ok.exit), ok.out)
      assert.match(ok.out, /OK\n$/)

      const dumped = yield* runCli("dump-table", table, "--verify", "--limit", "2")
      assert.isTrue(Exit.isSuccess(dumped.exit))
      assert.include(dumped.out, "entries: 2 listed (more not shown)")
      const hex = yield* runCli("dump-table", "--encoding", "hex", table)
      assert.include(hex.out, Buffer.from("k0000").toString("hex"))

      const wal = yield* runCli("dump-log", log)
      assert.include(wal.out, "put k0000 @")
      assert.include(wal.out, "=> wal0")
      const history = yield* runCli("manifest", dir)
      assert.include(history.out, "final version:")

      yield* flipByte(table, 20)
      const bad = yield* runCli("verify", dir)
      assert.isTrue(Exit.isFailure(bad.exit))
      if (Exit.isFailure(bad.exit)) assert.include(String(bad.exit.cause), "stratadb/Corruption")
      assert.include(bad.out, "DAMAGED")
      const badDump = yield* runCli("dump-table", table, "--verify")
      assert.isTrue(Exit.isFailure(badDump.exit))

      const repaired = yield* runCli("repair", dir)
      assert.isTrue(Exit.isSuccess(repaired.exit), repaired.out)
      assert.include(repaired.out, "rewritten")
      assert.isTrue(Exit.isSuccess((yield* runCli("verify", dir)).exit))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a repaired database on the Node file system holds what was written", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem
      const dir = `${yield* tempDir}/db`
      const model = yield* buildFlushed(dir)
      yield* fs.remove(`${dir}/CURRENT`)
      yield* repair(dir)
      yield* withDb({ ...leveledOptions(dir), backgroundCompaction: false }, (db) => assertHolds(db, model))
    }).pipe(Effect.provide(NodeContext.layer)))
})
