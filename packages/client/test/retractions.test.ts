import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_TIMER_DELAY, Retractions } from '../src/retractions'
import type { RetractEvent } from '../src/types'

/** The expiry clock alone, on fake timers (Date.now is faked with them). */
let events: RetractEvent[]
let r: Retractions
const make = (capacity = 1000, memory = 2000) => {
  r = new Retractions({ capacity, memory, emit: (e) => events.push(e) })
  return r
}
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-11-28T12:00:00.000Z') })
  events = []
})
afterEach(() => {
  r?.clear()
  vi.useRealTimers()
})

describe('expiry', () => {
  it('announces each message when its expiresAt passes, in time order, with one timer for all of them', () => {
    make()
    for (let i = 0; i < 500; i++) r.track({ id: `m-${i}`, expiresAt: inMs(1000 + (i % 5) * 1000) })
    r.track({ id: 'no-expiry' })
    expect(vi.getTimerCount()).toBe(1)
    expect(r.size).toBe(500)
    vi.advanceTimersByTime(999)
    expect(events).toEqual([])
    vi.advanceTimersByTime(1)
    expect(events).toHaveLength(1)
    expect(events[0]?.reason).toBe('expired')
    expect(events[0]?.ids).toHaveLength(100)
    expect(events[0]?.ids.every((id) => Number(id.slice(2)) % 5 === 0)).toBe(true)
    vi.advanceTimersByTime(4000)
    expect(events.map((e) => e.ids.length)).toEqual([100, 100, 100, 100, 100])
    expect(new Set(events.flatMap((e) => e.ids)).size).toBe(500)
    expect(vi.getTimerCount()).toBe(0)
    expect(r.size).toBe(0)
  })

  it('a message already past its expiresAt is announced at once, but not synchronously', () => {
    make()
    r.track({ id: 'late', expiresAt: inMs(-5000) })
    expect(events).toEqual([])
    vi.advanceTimersByTime(0)
    expect(events).toEqual([{ ids: ['late'], reason: 'expired' }])
  })

  it('waits past setTimeout’s 2^31-1 ms limit in steps (an expiry 30 days ahead does not fire at once)', () => {
    make()
    r.track({ id: 'far', expiresAt: inMs(30 * 86_400_000) })
    vi.advanceTimersByTime(MAX_TIMER_DELAY)
    expect(events).toEqual([])
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(30 * 86_400_000 - MAX_TIMER_DELAY - 1)
    expect(events).toEqual([])
    vi.advanceTimersByTime(1)
    expect(events).toEqual([{ ids: ['far'], reason: 'expired' }])
  })

  it('keeps at most `capacity` pending expiries, dropping the latest-expiring', () => {
    make(3)
    r.track({ id: 'c', expiresAt: inMs(3000) })
    r.track({ id: 'd', expiresAt: inMs(4000) })
    r.track({ id: 'a', expiresAt: inMs(1000) })
    r.track({ id: 'e', expiresAt: inMs(5000) })
    r.track({ id: 'b', expiresAt: inMs(2000) })
    expect(r.size).toBe(3)
    vi.advanceTimersByTime(10_000)
    expect(events.flatMap((e) => e.ids)).toEqual(['a', 'b', 'c'])
  })

  it('moves a message whose expiresAt changed, and ignores one that cannot be read', () => {
    make()
    r.track({ id: 'm', expiresAt: inMs(1000) })
    r.track({ id: 'm', expiresAt: inMs(3000) })
    r.track({ id: 'bad', expiresAt: 'tomorrow' })
    expect(r.size).toBe(1)
    vi.advanceTimersByTime(2000)
    expect(events).toEqual([])
    vi.advanceTimersByTime(1000)
    expect(events).toEqual([{ ids: ['m'], reason: 'expired' }])
  })

  it('clear() cancels the timer and forgets every pending expiry', () => {
    make()
    r.track({ id: 'm', expiresAt: inMs(1000) })
    r.clear()
    expect(vi.getTimerCount()).toBe(0)
    expect(r.size).toBe(0)
    vi.advanceTimersByTime(5000)
    expect(events).toEqual([])
  })
})

describe('retractions', () => {
  it('announces retracted ids once, and a retracted message does not expire later', () => {
    make()
    r.track({ id: 'm-1', expiresAt: inMs(1000) })
    r.retracted(['m-1', 'm-2', 'm-2'])
    expect(events).toEqual([{ ids: ['m-1', 'm-2'], reason: 'retracted' }])
    expect(vi.getTimerCount()).toBe(0)
    r.retracted(['m-2'])
    vi.advanceTimersByTime(5000)
    expect(events).toHaveLength(1)
  })

  it('an expired id is not announced again: not retracted, and not watched when handed out again', () => {
    make()
    r.track({ id: 'm-1', expiresAt: inMs(1000) })
    vi.advanceTimersByTime(1000)
    r.retracted(['m-1', 'm-3'])
    r.track({ id: 'm-1', expiresAt: inMs(-1) })
    vi.advanceTimersByTime(1000)
    expect(events).toEqual([
      { ids: ['m-1'], reason: 'expired' },
      { ids: ['m-3'], reason: 'retracted' },
    ])
  })
})
