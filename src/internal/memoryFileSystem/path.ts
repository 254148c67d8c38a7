/**
 * Paths of the in-memory filesystem: POSIX, absolute from "/", the working directory being "/".
 * A path is resolved to its list of names ("/a/./b/../c" -> ["a", "c"]); ".." at the root stays
 * at the root, as in POSIX.
 */

/** The names from the root to `path`, with ".", ".." and empty names resolved. */
export const segments = (path: string): Array<string> => {
  const out: Array<string> = []
  for (const name of path.split("/")) {
    if (name === "" || name === ".") continue
    if (name === "..") out.pop()
    else out.push(name)
  }
  return out
}

/** The normalized absolute form of `path` ("a//b/" -> "/a/b"). */
export const normalize = (path: string): string => "/" + segments(path).join("/")

/** The absolute path of a list of names. */
export const join = (names: ReadonlyArray<string>): string => "/" + names.join("/")
