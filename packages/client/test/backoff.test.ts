import { describe, expect, it } from 'vitest'
import { backoff } from '../src/backoff'
import { cursorAfter } from '../src/cursor'
import { LruSet } from '../src/lru'

describe('backoff(step, min, max) with full jitter', () => {
  it('stays within [min, min·2^step] and never above max, for every step', () => {
    for (let step = 0; step <= 60; step++) {
      const low = backoff(step, 500, 20_000, () => 0)
      const high = backoff(step, 500, 20_000, () => 0.999_999_999)
      expect(low).toBe(500)
      expect(high).toBe(Math.min(20_000, 500 + 500 * 2 ** Math.min(step, 31)))
      for (let i = 0; i < 50; i++) {
        const d = backoff(step, 500, 20_000)
        expect(d).toBeGreaterThanOrEqual(500)
        expect(d).toBeLessThanOrEqual(20_000)
      }
    }
  })

  it('doubles its window each step until the cap', () => {
    const top = (s: number) => backoff(s, 100, 5000, () => 0.999_999_999)
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([200, 300, 500, 900, 1700, 3300, 5000, 5000])
  })

  it('spreads clients over the whole window (jitter), not onto one instant', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoff(5, 100, 10_000)))
    expect(delays.size).toBeGreaterThan(100)
  })
})

describe('LruSet', () => {
  it('reports duplicates and forgets the oldest key past its capacity', () => {
    const s = new LruSet(3)
    expect(['a', 'b', 'c'].map((k) => s.add(k))).toEqual([true, true, true])
    expect(s.add('a')).toBe(false) // a is now the most recent
    expect(s.add('d')).toBe(true) // evicts b
    expect(s.size).toBe(3)
    expect(s.has('b')).toBe(false)
    expect(s.has('a')).toBe(true)
  })
})

describe('cursorAfter', () => {
  it('compares decimal cursors as numbers, beyond 2^53', () => {
    expect(cursorAfter('1700000000000000002', '1700000000000000001')).toBe(true)
    expect(cursorAfter('99', '100')).toBe(false)
    expect(cursorAfter('5', undefined)).toBe(true)
    expect(cursorAfter('5', '5')).toBe(false)
  })
})
