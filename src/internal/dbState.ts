/**
 * What one open database's parts share, each concern in a module of its own (`state/`):
 *
 * - `sequences`: the sequence numbers handed out and visible, and the ones readers hold;
 * - `lifecycle`: open or closed, the first background failure (`fail`), and the signal that wakes
 *   whoever waits on background progress;
 * - `work`: the signal that wakes the background fiber;
 * - `slice`: when a run of foreground work yields the thread;
 * - `counters`: what `stats` reports that no service keeps itself;
 * - `seeks`: the seeks point reads charge tables, and the table due for compaction by them.
 */
import { Context } from "effect"
import { Counters } from "./state/counters.js"
import { ForegroundSlice } from "./state/foregroundSlice.js"
import { Lifecycle } from "./state/lifecycle.js"
import { SeekCharges } from "./state/seekCharges.js"
import { Sequences } from "./state/sequences.js"
import { WorkSignal } from "./state/workSignal.js"

export class DbState {
  readonly sequences = new Sequences()
  readonly lifecycle = new Lifecycle()
  readonly work = new WorkSignal()
  readonly slice = new ForegroundSlice()
  readonly counters = new Counters()
  readonly seeks = new SeekCharges()
}

/** The state as a service, so each part's layer can take it from the context. */
export class DbStateTag extends Context.Tag("stratadb/DbState")<DbStateTag, DbState>() {}
