/**
 * Binary search over a sorted array: the index of the first element >= `value` (`array.length`
 * when there is none). Works for strings (latin1 keys) and numbers (sequences).
 */
export const lowerBound = <T extends string | number>(array: ReadonlyArray<T>, value: T): number => {
  let lo = 0
  let hi = array.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (array[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
