/** Bytes a directory tree holds: the sum of file sizes, and the space allocated for them. */
import * as fs from "node:fs"
import * as path from "node:path"

export interface DiskUsage {
  /** Sum of file sizes (what `ls -l` shows). */
  readonly bytes: number
  /** Blocks allocated (what `du` shows); differs for sparse or preallocated files. */
  readonly allocatedBytes: number
  readonly files: number
}

export const diskUsage = (directory: string): DiskUsage => {
  let bytes = 0
  let allocatedBytes = 0
  let files = 0
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else {
        const st = fs.statSync(full)
        bytes += st.size
        allocatedBytes += st.blocks * 512
        files++
      }
    }
  }
  if (fs.existsSync(directory)) walk(directory)
  return { bytes, allocatedBytes, files }
}
