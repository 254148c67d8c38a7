/**
 * Which directory entries survive power loss. A directory's entries are durable as of its last
 * sync (`File.sync` on a handle of the directory). Every change of entries since (a create, link,
 * mkdir, rename or remove) is a pending metadata operation of the directory, numbered in the order
 * the operations were made; a rename across two directories is one operation, pending in both.
 *
 * Power loss puts every directory back to its durable entries and replays on top the pending
 * operations that `survives` keeps (a journaled file system commits metadata in order, so the
 * caller keeps a prefix). Only directories that changed since their last sync are tracked: the
 * first change copies the entries aside as the durable ones, a sync forgets them.
 */
import type { DirectoryNode, Node } from "./tree.js"

/** One operation's change in one directory: `name` now names `node` (or nothing, when undefined). */
export type EntryChange = readonly [dir: DirectoryNode, name: string, node: Node | undefined]

interface Pending {
  readonly op: number
  readonly name: string
  readonly node: Node | undefined
}

interface Changed {
  /** The entries as of the directory's last sync. */
  readonly durable: ReadonlyMap<string, Node>
  /** The changes since, in order. */
  readonly pending: Array<Pending>
}

export class DirectoryJournal {
  private nextOp = 0
  private readonly changed = new Map<DirectoryNode, Changed>()

  /** Makes one metadata operation: applies `changes` to the live entries, pending until synced. */
  apply(...changes: ReadonlyArray<EntryChange>): void {
    const op = this.nextOp++
    for (const [dir, name, node] of changes) {
      let entry = this.changed.get(dir)
      if (entry === undefined) {
        entry = { durable: new Map(dir.entries), pending: [] }
        this.changed.set(dir, entry)
      }
      entry.pending.push({ op, name, node })
      if (node === undefined) dir.entries.delete(name)
      else dir.entries.set(name, node)
    }
  }

  /** fsync of a directory: its entries now are durable. */
  sync(dir: DirectoryNode): void {
    this.changed.delete(dir)
  }

  /** The numbers of the pending operations, in the order they were made. */
  pendingOperations(): Array<number> {
    const ops = new Set<number>()
    for (const { pending } of this.changed.values()) for (const { op } of pending) ops.add(op)
    return [...ops].sort((a, b) => a - b)
  }

  /**
   * Power loss: each directory reachable from `root` afterwards gets its durable entries back,
   * then the changes of the pending operations `survives` keeps. A directory is reached once:
   * an entry that would reach one a second time (a cycle or a second parent, possible when only
   * one side of directory renames was synced) is dropped. Afterwards every entry is durable.
   */
  crash(root: DirectoryNode, survives: (op: number) => boolean): void {
    const seen = new Set<DirectoryNode>()
    const restore = (dir: DirectoryNode): void => {
      seen.add(dir)
      const entry = this.changed.get(dir)
      if (entry !== undefined) {
        dir.entries.clear()
        for (const [name, node] of entry.durable) dir.entries.set(name, node)
        for (const { name, node, op } of entry.pending) {
          if (!survives(op)) continue
          if (node === undefined) dir.entries.delete(name)
          else dir.entries.set(name, node)
        }
      }
      for (const [name, node] of [...dir.entries]) {
        if (node._tag !== "Directory") continue
        if (seen.has(node)) dir.entries.delete(name)
        else restore(node)
      }
    }
    restore(root)
    this.changed.clear()
  }
}
