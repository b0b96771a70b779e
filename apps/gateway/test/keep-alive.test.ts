import { describe, expect, it } from 'vitest'
import { PING_SLICES, pingSlicesFor } from '../src/keep-alive'

describe('pingSlicesFor', () => {
  it('uses as few slices as keep a turn at the limit, each dividing the interval’s ticks', () => {
    const cases: [number, number, number][] = [
      [0, 2000, 1],
      [2000, 2000, 1],
      [2001, 2000, 2],
      [4000, 2000, 2],
      [4001, 2000, 5],
      [10_000, 2000, 5],
      [10_001, 2000, 10],
      [20_000, 2000, 10],
      [20, 2, 10],
      [20, 0, 10],
    ]
    for (const [sockets, perTurn, slices] of cases) {
      expect(pingSlicesFor(sockets, perTurn)).toBe(slices)
      expect(PING_SLICES % slices).toBe(0)
    }
  })
})
