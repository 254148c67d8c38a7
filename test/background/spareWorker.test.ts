/**
 * The process's spare worker slot (internal/background/spareWorker.ts): one spare at a time (the newest), taken
 * only by a database of the same spawn, released when no one takes it within `SPARE_IDLE_MS`.
 * The worker executor's use of it (what it keeps, what a database takes) is in workerExecutor.test.ts.
 */
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { keepSpare, releaseSpare, SPARE_IDLE_MS, takeSpare } from "../../src/internal/background/spareWorker.js"

describe("spare worker", () => {
  afterEach(() => {
    releaseSpare()
    vi.useRealTimers()
  })

  it("keeps one spare, for its spawn only; a newer spare replaces it, and the older is released", () => {
    const released: Array<string> = []
    keepSpare("spawn-a", "w1", () => released.push("w1"))
    assert.strictEqual(takeSpare("spawn-b"), undefined)
    keepSpare("spawn-b", "w2", () => released.push("w2"))
    assert.deepStrictEqual(released, ["w1"])
    assert.strictEqual(takeSpare("spawn-a"), undefined)
    assert.strictEqual(takeSpare("spawn-b"), "w2")
    assert.strictEqual(takeSpare("spawn-b"), undefined)
    assert.deepStrictEqual(released, ["w1"])
  })

  it("releases a spare nobody took within SPARE_IDLE_MS, and not one that was taken", () => {
    vi.useFakeTimers()
    const released: Array<string> = []
    keepSpare("spawn", "w1", () => released.push("w1"))
    vi.advanceTimersByTime(SPARE_IDLE_MS - 1)
    assert.deepStrictEqual(released, [])
    vi.advanceTimersByTime(1)
    assert.deepStrictEqual(released, ["w1"])
    assert.strictEqual(takeSpare("spawn"), undefined)
    keepSpare("spawn", "w2", () => released.push("w2"))
    assert.strictEqual(takeSpare("spawn"), "w2")
    vi.advanceTimersByTime(2 * SPARE_IDLE_MS)
    assert.deepStrictEqual(released, ["w1"])
  })
})
