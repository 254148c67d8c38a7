/**
 * What Node throws or passes to a callback, as a `PlatformError`, like platform-node: an errno
 * exception is a `SystemError` (reason from the shared errno table), anything else (argument
 * validation) a `BadArgument`.
 */
import { BadArgument, type PlatformError } from "@effect/platform/Error"
import { fromErrnoException } from "../memoryFileSystem/errno.js"

export const nodeError = (method: string, error: unknown, pathOrDescriptor: string | number): PlatformError => {
  const e = error as NodeJS.ErrnoException | null
  if (e !== null && typeof e === "object" && typeof e.errno === "number" && typeof e.syscall === "string") {
    return fromErrnoException(method, e, pathOrDescriptor)
  }
  return new BadArgument({ module: "FileSystem", method, cause: error })
}
