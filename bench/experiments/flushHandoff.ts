/**
 * An experiment (not the engine): what a flush's hand-off to the worker costs. Today the database's
 * thread copies the frozen memtable's batch payloads end to end into one buffer it moves to the
 * worker (`packMemtable`), and the worker decodes and sorts them
 * (`forEachSorted`). The alternative: send only the log's name, and let the worker rebuild the run
 * from the memtable's own log (read, decode, insert, sort). This measures both on
 * one thread, for a memtable of `writeBufferSize` (4 MiB) of db_bench puts, median of 9 rounds.
 *
 * Run: `node --import tsx bench/experiments/flushHandoff.ts`
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import { Memtable } from "../../src/internal/memtable/memtable.js"
import { encodeBatch, setSequence } from "../../src/internal/wal/batchCodec.js"
import { KIND_PUT } from "../../src/internal/key/internalKey.js"
import { LogWriter } from "../../src/internal/record/logWriter.js"
import { readLog } from "../../src/internal/record/logReader.js"
import { packMemtable, forEachSorted } from "../../src/internal/background/packedRun.js"
import { dbKey, fillDbValue } from "../keys.js"
const WRITE_BUFFER = 4 * 1024 * 1024
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!
const packMs: number[] = [], rebuildMs: number[] = [], sortedMs: number[] = []
let entries = 0
for (let round = 0; round < 9; round++) {
  const m = new Memtable(1)
  const w = new LogWriter(0)
  const frames: Uint8Array[] = []
  const v = Buffer.alloc(100)
  let seq = 1
  for (let i = 0; m.approximateBytes < WRITE_BUFFER; i++) {
    const k = (i * 7919 + round) % 10000000
    const b = encodeBatch([{ kind: KIND_PUT, key: dbKey(k).toString("latin1"), value: fillDbValue(k, 0, v), valueLength: 100 }])
    setSequence(b.payload, seq)
    m.addBatch(b, seq)
    frames.push(w.frame(b.payload))
    seq++
  }
  entries = m.entries
  const file = `/tmp/flushcost-${round}.log`
  fs.writeFileSync(file, Buffer.concat(frames))
  let t = performance.now()
  const run = Effect.runSync(packMemtable(m))
  packMs.push(performance.now() - t)
  t = performance.now()
  let n = 0
  forEachSorted(run, [], () => { n++ })
  sortedMs.push(performance.now() - t)
  // The worker's rebuild from the log: read, decode, into a Map memtable, then the sorted walk.
  t = performance.now()
  const read = readLog(fs.readFileSync(file))
  const rebuilt = new Memtable(1)
  for (const payload of read.records) rebuilt.addRecord(payload)
  const r2 = Effect.runSync(packMemtable(rebuilt))
  forEachSorted(r2, [], () => {})
  rebuildMs.push(performance.now() - t)
  fs.rmSync(file)
}
console.log(`memtable of ${WRITE_BUFFER / 1048576} MiB (${entries} entries): main thread packs in ${median(packMs).toFixed(1)} ms (median of 9); ` +
  `the worker sorts the packed run in ${median(sortedMs).toFixed(1)} ms; rebuilding the same run from the log (read, decode, insert, sort) costs the worker ${median(rebuildMs).toFixed(1)} ms`)
