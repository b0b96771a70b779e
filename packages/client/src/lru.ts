/** A set that remembers at most `capacity` keys, forgetting the least recently added first. */
export class LruSet {
  private readonly keys = new Map<string, true>()

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key)
  }

  /** Adds `key`; returns false when it was already there (a duplicate). */
  add(key: string): boolean {
    if (this.keys.has(key)) {
      this.keys.delete(key)
      this.keys.set(key, true)
      return false
    }
    this.keys.set(key, true)
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next()
      if (!oldest.done) this.keys.delete(oldest.value)
    }
    return true
  }

  get size(): number {
    return this.keys.size
  }
}
