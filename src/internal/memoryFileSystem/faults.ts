/**
 * Injected I/O faults: each fault names an operation kind, optionally a path predicate, the errno to
 * fail with, how many matching calls to let pass first (`after`) and how many to fail (`times`,
 * default forever). Faults are consulted in the order they were added; the first one that fires
 * decides the call. A fault of kind `any` is checked once per call, when the call begins (see
 * `MemoryState.begin`); the other kinds where the call does that kind of operation.
 */
import type { Fault, FaultError, FaultOp } from "../../MemoryFileSystem.js"
import { normalize } from "./path.js"

interface ArmedFault {
  readonly op: FaultOp
  readonly error: FaultError
  readonly matches: (path: string) => boolean
  remaining: number
  skip: number
}

const matcher = (path: Fault["path"]): ((path: string) => boolean) => {
  if (path === undefined) return () => true
  if (typeof path === "string") {
    const wanted = normalize(path)
    return (p) => p === wanted
  }
  if (path instanceof RegExp) {
    return (p) => {
      path.lastIndex = 0
      return path.test(p)
    }
  }
  return path
}

export class Faults {
  private armed: Array<ArmedFault> = []

  add(fault: Fault): void {
    this.armed.push({
      op: fault.op,
      error: fault.error,
      matches: matcher(fault.path),
      remaining: fault.times ?? Infinity,
      skip: fault.after ?? 0
    })
  }

  clear(): void {
    this.armed = []
  }

  /**
   * The errno a call of kind `op` on `path` (and `otherPath`, for rename) fails with, if any
   * fault fires; counts the call against the faults it matches.
   */
  check(op: FaultOp, path: string, otherPath?: string): FaultError | undefined {
    if (this.armed.length === 0) return undefined
    for (const fault of this.armed) {
      if (fault.op !== op || fault.remaining <= 0) continue
      if (!fault.matches(path) && (otherPath === undefined || !fault.matches(otherPath))) continue
      if (fault.skip > 0) {
        fault.skip--
        continue
      }
      fault.remaining--
      return fault.error
    }
    return undefined
  }
}
