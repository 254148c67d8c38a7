import { Effect } from "effect"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { conformanceSuite } from "./conformanceSuite.js"

let counter = 0
conformanceSuite("MemoryFileSystem", MemoryFileSystem.layer, Effect.sync(() => `/db/${counter++}`))
