/**
 * Runs abstract-level's own test suite against `StrataLevel` (`abstractLevel.tape.ts`, tape, in a
 * child Node process with tsx) and requires every assertion to pass: exit code 0, no `not ok`
 * line, `# fail` absent or 0. The counts are printed.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const repository = fileURLToPath(new URL("../..", import.meta.url))

const runTape = (): Promise<{ readonly code: number | null; readonly output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/level/abstractLevel.tape.ts"], {
      cwd: repository,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const chunks: Array<Buffer> = []
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output: Buffer.concat(chunks).toString("utf8") }))
  })

it("abstract-level's test suite passes on StrataLevel (and on a sublevel of it)", async () => {
  const { code, output } = await runTape()
  const count = (label: string) => new RegExp(`^# ${label}\\s+(\\d+)$`, "m").exec(output)?.[1]
  const tests = count("tests")
  const pass = count("pass")
  const fail = count("fail")
  console.log(`abstract-level suite: # tests ${tests ?? "?"}, # pass ${pass ?? "?"}, # fail ${fail ?? 0}`)
  // The failing assertions, each with the name of its test (the last `# ` line before it).
  const failures: Array<string> = []
  let current = ""
  for (const line of output.split("\n")) {
    if (line.startsWith("# ")) current = line.slice(2)
    else if (line.startsWith("not ok")) failures.push(`${current}: ${line}`)
  }
  if (failures.length > 0) console.log(failures.join("\n"))
  expect(tests, "the suite reported its count").toBeDefined()
  expect(failures).toEqual([])
  expect(fail === undefined || fail === "0").toBe(true)
  expect(code).toBe(0)
}, 300_000)
