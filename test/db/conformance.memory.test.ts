import { Effect } from "effect"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import { conformanceSuite } from "./conformanceSuite.js"
import { readApiSuite } from "./readApiSuite.js"

let counter = 0
conformanceSuite("MemoryFileSystem", MemoryFileSystem.layer, Effect.sync(() => `/db/${counter++}`))

let readApiCounter = 0
readApiSuite("MemoryFileSystem", MemoryFileSystem.layer, Effect.sync(() => `/read-api/${readApiCounter++}`), true)
