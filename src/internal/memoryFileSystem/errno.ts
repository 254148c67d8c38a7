/**
 * Errno codes as `@effect/platform` errors, the way `@effect/platform-node` reports them: a Node
 * errno exception (`code`, `syscall`, message `"ENOENT: no such file or directory, open 'x'"`)
 * becomes a `SystemError` whose reason comes from the same table platform-node uses, whose
 * description is the exception's message and whose cause is the exception. The in-memory
 * filesystem raises the same errors as Node so that code behaves alike on every backend.
 */
import { SystemError, type SystemErrorReason } from "@effect/platform/Error"

/** The errno codes the in-memory filesystem raises, with libc's text. */
export const errnoText = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  ENOTDIR: "not a directory",
  EISDIR: "illegal operation on a directory",
  ENOTEMPTY: "directory not empty",
  EINVAL: "invalid argument",
  EPERM: "operation not permitted",
  EBADF: "bad file descriptor",
  EBUSY: "resource busy or locked",
  ENOSPC: "no space left on device",
  EIO: "i/o error"
} as const

export type Errno = keyof typeof errnoText

/** The reason platform-node gives each code, plus EBADF -> BadResource (platform-node: Unknown). */
export const reasonOfCode = (code: string | undefined): SystemErrorReason => {
  switch (code) {
    case "ENOENT":
      return "NotFound"
    case "EACCES":
      return "PermissionDenied"
    case "EEXIST":
      return "AlreadyExists"
    case "EISDIR":
    case "ENOTDIR":
    case "ELOOP":
    case "EBADF":
      return "BadResource"
    case "EBUSY":
      return "Busy"
    default:
      return "Unknown"
  }
}

/** The `SystemError` platform-node builds from a Node errno exception. */
export const fromErrnoException = (
  method: string,
  err: NodeJS.ErrnoException,
  pathOrDescriptor: string | number
): SystemError =>
  new SystemError({
    reason: reasonOfCode(err.code),
    module: "FileSystem",
    method,
    pathOrDescriptor,
    syscall: err.syscall,
    description: err.message,
    cause: err
  })

/**
 * A Node-like errno error for `method`, with Node's message: `"CODE: text, syscall 'path'"`, or
 * `"CODE: text, syscall 'path' -> 'dest'"` for two-path calls, or `"CODE: text, syscall"` for
 * descriptor calls. `pathOrDescriptor` is what the caller passed (a path or a descriptor number).
 */
export const errnoError = (
  code: Errno,
  method: string,
  syscall: string,
  pathOrDescriptor: string | number,
  dest?: string
): SystemError => {
  const where = typeof pathOrDescriptor === "string"
    ? dest === undefined ? ` '${pathOrDescriptor}'` : ` '${pathOrDescriptor}' -> '${dest}'`
    : ""
  const exception = new Error(`${code}: ${errnoText[code]}, ${syscall}${where}`) as Error & {
    code: string
    syscall: string
    path?: string
    dest?: string
  }
  exception.code = code
  exception.syscall = syscall
  if (typeof pathOrDescriptor === "string") exception.path = pathOrDescriptor
  if (dest !== undefined) exception.dest = dest
  return fromErrnoException(method, exception, pathOrDescriptor)
}
