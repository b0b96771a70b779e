/**
 * Exponential backoff with full jitter (as in centrifuge-js): a delay drawn uniformly from
 * `[min, min + min·2^step]`, never above `max`. Jitter spreads the reconnects of many
 * clients after a gateway dies, so the survivors are not hit by one synchronized wave.
 *
 * @param step 0 for the first retry, +1 for each failure in a row
 * @param random a source in [0, 1), injectable for tests
 */
export function backoff(step: number, min: number, max: number, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(0, step), 31)
  const spread = Math.min(max, min * 2 ** exp)
  return Math.min(max, min + Math.floor(random() * (spread + 1)))
}
