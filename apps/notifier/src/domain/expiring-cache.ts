/**
 * Values kept for `ttlMs` after they were loaded: one look-up per key and period, whatever the
 * traffic. Bounded: a flood of distinct keys clears it rather than growing it without end.
 * A `ttlMs` of 0 keeps nothing (every get loads).
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>()

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key)
    if (hit && hit.until > this.clock()) return hit.value
    const value = await load()
    if (this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.clear()
      this.entries.set(key, { value, until: this.clock() + this.ttlMs })
    }
    return value
  }
}
