/**
 * Node's Buffer has fast latin1/utf8 slice and write methods that @types/node does not declare
 * (they back `toString` and `write`). They are used on hot paths where the extra argument
 * checks of the public methods show in profiles.
 */
declare module "buffer" {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string
    latin1Write(string: string, offset?: number, length?: number): number
    utf8Slice(start?: number, end?: number): string
    utf8Write(string: string, offset?: number, length?: number): number
  }
}
export {}
