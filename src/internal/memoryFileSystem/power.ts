/**
 * The power of the simulated machine, for sweeps that cut it at every file-system call: it counts
 * the calls, can be set to go off when the call numbered `call` begins, and stays off (every call
 * fails) until it is restarted.
 */
import type { CrashAtOptions, CrashOptions } from "../../MemoryFileSystem.js"

export class Power {
  /** File-system calls so far, the call that begins now included. */
  calls = 0
  /** True from an armed crash until `restart`. */
  off = false
  private armed: CrashAtOptions | undefined = undefined

  /** Arms a crash at the call numbered `options.call` (the next call, if that one has passed). */
  crashAt(options: CrashAtOptions): void {
    this.armed = options
  }

  /** Ends the outage and disarms a crash not yet fired. */
  restart(): void {
    this.off = false
    this.armed = undefined
  }

  /** A call begins: counts it. When it is the armed call, the power goes off: returns how to crash. */
  tick(): CrashOptions | undefined {
    this.calls++
    const armed = this.armed
    if (armed === undefined || this.calls < armed.call) return undefined
    this.armed = undefined
    this.off = true
    return armed
  }
}
