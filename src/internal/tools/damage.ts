/**
 * Damage the offline tools find: an item of their reports (a file, an offset, what is wrong),
 * never a thrown defect. A command that found damage fails with the first item as a `Corruption`
 * (the CLI maps it to a non-zero exit), after printing the whole report.
 */
import { Effect } from "effect"
import { Corruption } from "../../errors.js"

export interface Damage {
  /** The file's name (or path, for a file given by path). */
  readonly file: string
  /** The file offset of the damaged block, fragment or record (0 when it is the whole file). */
  readonly offset: number
  readonly description: string
}

export const damage = (file: string, offset: number, description: string): Damage => ({ file, offset, description })

/** The damage a `Corruption` describes. */
export const fromCorruption = (c: Corruption): Damage => ({ file: c.file, offset: c.offset, description: c.description })

/** One line per item. */
export const renderDamage = (items: ReadonlyArray<Damage>): Array<string> =>
  items.map((d) => `  DAMAGE ${d.file} @${d.offset}: ${d.description}`)

/**
 * Succeeds when `items` is empty; else fails with a `Corruption` naming the first item and how
 * many there are (what a command returns once it has printed its report).
 */
export const failOnDamage = (items: ReadonlyArray<Damage>): Effect.Effect<void, Corruption> => {
  const first = items[0]
  if (first === undefined) return Effect.void
  const more = items.length > 1 ? ` (and ${items.length - 1} more problems)` : ""
  return Effect.fail(new Corruption({ file: first.file, offset: first.offset, description: `${first.description}${more}` }))
}
