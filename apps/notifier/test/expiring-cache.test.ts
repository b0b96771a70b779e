import { describe, expect, it } from 'vitest'
import { ExpiringCache } from '../src/domain/expiring-cache'

describe('ExpiringCache (webhook subscribers, receipt hooks)', () => {
  it('loads a key once per period, again once it expired', async () => {
    let now = 1000
    let loads = 0
    const cache = new ExpiringCache<string>(500, 10, () => now)
    const load = async () => `v${++loads}`
    expect(await cache.get('a', load)).toBe('v1')
    now += 499
    expect(await cache.get('a', load)).toBe('v1')
    now += 1
    expect(await cache.get('a', load)).toBe('v2')
    expect(await cache.get('b', load)).toBe('v3')
  })

  it('keeps nothing with a period of 0, and is cleared by a flood of distinct keys', async () => {
    let loads = 0
    const none = new ExpiringCache<number>(0)
    await none.get('a', async () => ++loads)
    await none.get('a', async () => ++loads)
    expect(loads).toBe(2)
    const small = new ExpiringCache<number>(60_000, 3)
    for (const k of ['a', 'b', 'c', 'd']) await small.get(k, async () => ++loads)
    // 'a' was dropped when 'd' came: loaded again
    const before = loads
    await small.get('d', async () => ++loads)
    await small.get('a', async () => ++loads)
    expect(loads).toBe(before + 1)
  })
})
