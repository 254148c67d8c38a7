/**
 * LevelDB's shortest separator on user keys, for index entries: a short key `s` with
 * `a < s < b`, or undefined when incrementing one byte of `a` cannot give one.
 */

/**
 * With `p` the first position where `a` and `b` differ (inside both), `a[0..p] + (a[p] + 1)`
 * when `a[p] < 0xff` and `a[p] + 1 < b[p]`; otherwise undefined (keep `a` itself).
 */
export const shortestSeparator = (a: string, b: string): string | undefined => {
  const n = a.length < b.length ? a.length : b.length
  let p = 0
  while (p < n && a.charCodeAt(p) === b.charCodeAt(p)) p++
  if (p >= n) return undefined // one is a prefix of the other
  const c = a.charCodeAt(p)
  if (c >= 0xff || c + 1 >= b.charCodeAt(p)) return undefined
  const s = a.slice(0, p) + String.fromCharCode(c + 1)
  return s.length < a.length ? s : undefined
}
