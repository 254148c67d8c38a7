/**
 * The process's spare background worker: the idle thread of a database that closed, kept for the
 * next database the process opens (as LevelDB's `Env` keeps its background thread for every
 * database of the process). Loading the worker's modules takes 0.3 to 2 s, during which a new
 * database flushes on its own thread; a program that opens databases one after another (tests, a
 * tool, a benchmark, a server reopening a store) pays it once.
 *
 * A thread is kept only when nothing of its database can still run on it: no job in flight and
 * none ever interrupted (an interrupted job may still be removing the table it was writing, and
 * the next database could be the same directory). The worker executor decides that
 * (workerExecutor.ts); this module holds the one spare (the newest: a database closing with an
 * idle worker releases the spare kept before it). A spare not taken within
 * `SPARE_IDLE_MS` is released (its thread closed); it never keeps the process alive.
 */

/** How long a spare waits for a database to take it before its thread is closed. */
export const SPARE_IDLE_MS = 10_000

interface Kept {
  /** Who may take it: the spawn function its thread came from (a custom spawn gets its own). */
  readonly key: unknown
  readonly value: unknown
  readonly release: () => void
  readonly timer: ReturnType<typeof setTimeout>
}

let kept: Kept | undefined = undefined

/**
 * Keeps `value` as the spare for databases whose spawn is `key`, in place of the spare kept before
 * (released: the worker of the database closed last is the likelier to serve the next one).
 * `release` closes it when no one took it in time.
 */
export const keepSpare = (key: unknown, value: unknown, release: () => void): void => {
  releaseSpare()
  const timer = setTimeout(() => {
    if (kept?.value !== value) return
    kept = undefined
    release()
  }, SPARE_IDLE_MS)
  timer.unref()
  kept = { key, value, release, timer }
}

/** The spare kept for `key`, taken (no one else gets it), or undefined. */
export const takeSpare = <A>(key: unknown): A | undefined => {
  if (kept === undefined || kept.key !== key) return undefined
  const taken = kept
  kept = undefined
  clearTimeout(taken.timer)
  return taken.value as A
}

/** Closes the spare now, if one is kept. */
export const releaseSpare = (): void => {
  const k = kept
  kept = undefined
  if (k === undefined) return
  clearTimeout(k.timer)
  k.release()
}
