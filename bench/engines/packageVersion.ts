/** The installed version of an npm package, read from its package.json ("?" when not found). */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"

const require = createRequire(import.meta.url)

export const packageVersion = (name: string): string => {
  try {
    let dir = path.dirname(require.resolve(name))
    for (;;) {
      const file = path.join(dir, "package.json")
      if (fs.existsSync(file)) {
        const json = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string }
        if (json.name === name) return json.version ?? "?"
      }
      const parent = path.dirname(dir)
      if (parent === dir) return "?"
      dir = parent
    }
  } catch {
    return "?"
  }
}
