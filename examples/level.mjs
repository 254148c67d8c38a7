// stratadb where classic-level was: the abstract-level API from plain Node, no Effect in sight.
import { StrataLevel } from "stratadb/level"
import { pathToFileURL } from "node:url"

export async function main(location) {
  const db = new StrataLevel(location, { valueEncoding: "json" })
  await db.put("user:ada", { born: 1815 })
  await db.batch([
    { type: "put", key: "user:grace", value: { born: 1906 } },
    { type: "put", key: "user:alan", value: { born: 1912 } },
    { type: "del", key: "user:nobody" }
  ])

  // Reads see a snapshot: this one keeps seeing Alan after he is deleted.
  const snapshot = db.snapshot()
  await db.del("user:alan")
  const then = await db.get("user:alan", { snapshot })
  await snapshot.close()

  // Range iteration, read in chunks; seek without reopening.
  const users = await db.iterator({ gte: "user:", lt: "user;" }).all()
  const keys = db.keys({ gte: "user:" })
  keys.seek("user:b")
  const fromB = await keys.next()
  await keys.close()

  // Sublevels, as with any abstract-level database.
  const books = db.sublevel("books", { valueEncoding: "utf8" })
  await books.put("1843", "Notes on the Analytical Engine")

  await db.close()
  return { then, users, fromB, book: await reopen(location) }
}

async function reopen(location) {
  const db = new StrataLevel(location)
  const book = await db.sublevel("books").get("1843")
  await db.close()
  return book
}

// Run as a script: `node --conditions=stratadb-source --import tsx examples/level.mjs [directory]`
// in this repository (`npm run example:level`), or plain `node` where stratadb is installed.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await main(process.argv[2] ?? `./.tmp/level-example-${Date.now()}`))
}
