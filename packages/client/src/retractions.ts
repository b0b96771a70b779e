import { LruSet } from './lru'
import type { RetractEvent } from './types'

/** setTimeout's longest delay (a signed 32-bit number of ms, ~24.8 days): a later expiry is waited for in steps of it */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

export interface RetractionsOptions {
  /** how many pending expiries are kept; beyond it the latest-expiring are forgotten */
  capacity: number
  /** how many retracted or expired ids are remembered so that none is announced twice */
  memory: number
  emit(event: RetractEvent): void
  /** @default Date.now */
  now?: () => number
}

/**
 * What the client tells the app to take off the screen: messages the sender took back (a
 * `retract` frame) and messages whose `expiresAt` passed. The expiries wait in one list sorted
 * by time under one timer for the earliest, so a thousand messages cost one timer. Bounded:
 * past `capacity` the latest-expiring entries are dropped (the server drops those messages at
 * their time anyway, so a later inbox page no longer lists them); `clear()` cancels the timer.
 */
export class Retractions {
  /** pending expiries, earliest first */
  private queue: { id: string; at: number }[] = []
  private readonly pending = new Map<string, number>()
  private readonly gone: LruSet
  private timer: ReturnType<typeof setTimeout> | undefined
  /** the expiry time the current timer waits for */
  private armedFor: number | undefined
  private readonly now: () => number

  constructor(private readonly opts: RetractionsOptions) {
    this.gone = new LruSet(opts.memory)
    this.now = opts.now ?? Date.now
  }

  /** A message the app was handed: announce it as expired when its `expiresAt` passes (at once, but not synchronously, when it already has). */
  track(message: { id: string; expiresAt?: string | undefined }): void {
    if (message.expiresAt === undefined || this.gone.has(message.id)) return
    const at = Date.parse(message.expiresAt)
    if (Number.isNaN(at) || this.pending.get(message.id) === at) return
    this.remove(message.id)
    let lo = 0
    let hi = this.queue.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.queue[mid] as { at: number }).at <= at) lo = mid + 1
      else hi = mid
    }
    this.queue.splice(lo, 0, { id: message.id, at })
    this.pending.set(message.id, at)
    if (this.queue.length > this.opts.capacity) {
      const latest = this.queue.pop()
      if (latest) this.pending.delete(latest.id)
    }
    this.arm()
  }

  /** The sender took these back: announce the ones not announced yet. */
  retracted(ids: readonly string[]): void {
    for (const id of ids) this.remove(id)
    this.announce(ids, 'retracted')
    this.arm()
  }

  /** Cancels the timer and forgets every pending expiry (stop, session end). */
  clear(): void {
    clearTimeout(this.timer)
    this.timer = this.armedFor = undefined
    this.queue = []
    this.pending.clear()
  }

  /** how many expiries wait */
  get size(): number {
    return this.queue.length
  }

  private remove(id: string): void {
    if (!this.pending.delete(id)) return
    const at = this.queue.findIndex((e) => e.id === id)
    if (at >= 0) this.queue.splice(at, 1)
  }

  private announce(ids: readonly string[], reason: RetractEvent['reason']): void {
    const fresh = [...new Set(ids)].filter((id) => this.gone.add(id))
    if (fresh.length > 0) this.opts.emit({ ids: fresh, reason })
  }

  private arm(): void {
    const next = this.queue[0]
    if (next?.at === this.armedFor && this.timer !== undefined) return
    clearTimeout(this.timer)
    this.timer = this.armedFor = undefined
    if (!next) return
    this.armedFor = next.at
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, next.at - this.now()), MAX_TIMER_DELAY))
  }

  private fire(): void {
    this.timer = this.armedFor = undefined
    const now = this.now()
    let due = 0
    while (due < this.queue.length && (this.queue[due] as { at: number }).at <= now) due++
    const expired = this.queue.splice(0, due).map((e) => e.id)
    for (const id of expired) this.pending.delete(id)
    this.announce(expired, 'expired')
    this.arm()
  }
}
