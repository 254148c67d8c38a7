/**
 * What `stats` reports that no service keeps by itself: bytes and work done since open, and what
 * the open's recovery found. Each counter has one writer (named beside it).
 */
import type { RecoveryStats } from "../../Stats.js"

/** Adds `n` to `counts[level]` (a level not counted yet starts at 0). */
export const addAtLevel = (counts: Array<number>, level: number, n: number): void => {
  while (counts.length <= level) counts.push(0)
  counts[level]! += n
}

export class Counters {
  /** Bytes of keys and values the user wrote (writer). */
  userBytesWritten = 0
  /** Flushes done and the bytes they wrote (flush). */
  flushes = 0
  flushBytesWritten = 0
  /** Compactions done, bytes read and written (compaction job). */
  compactions = 0
  /** Of them, those point reads' seeks asked for (compactor). */
  seekCompactions = 0
  compactionBytesRead = 0
  compactionBytesWritten = 0
  /**
   * Per level, bytes of tables written into it (flushes into L0, compaction outputs into their
   * output level) and bytes of its tables compactions took as inputs (compactor).
   */
  readonly levelBytesWritten: Array<number> = []
  readonly levelBytesRead: Array<number> = []
  /** Time writers waited, and writes slowed down (writer). */
  stallMicros = 0
  slowdowns = 0
  /** Writes (or commit groups) that waited for a flush or a compaction (writer). */
  writeStops = 0
  /** Puts and deletes applied, alone or in batches (writer). */
  puts = 0
  deletes = 0
  /** Tables a bloom filter let through that held no visible version of the key (point read). */
  bloomFalsePositives = 0
  /** Point reads, and the tables they searched (point read). */
  gets = 0
  tableReads = 0
  /** What the open found in the WALs it replayed (recovery). */
  recovery: RecoveryStats = {
    walRecoveryMode: "tolerateTornTail",
    logsReplayed: 0,
    recordsReplayed: 0,
    tornTails: [],
    damage: [],
    droppedLogs: [],
    movedToLost: []
  }
}
