import { createKeys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, uniquePrefix } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UserStore } from '../src/store'

const PHONE = '+8613800138000'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  const setup = () => {
    const keys = createKeys(uniquePrefix('users'), 8)
    return { keys, users: new UserStore(redis, keys) }
  }

  it('makes exactly one user when many first logins for one phone race', async () => {
    const { keys, users } = setup()
    const results = await Promise.all(Array.from({ length: 20 }, () => users.findOrCreate(PHONE, 'n')))
    const ids = new Set(results.map((r) => r.user.id))
    expect(ids.size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    const [id] = [...ids] as [string]
    expect(await redis.get(keys.phoneUser(PHONE))).toBe(id)
    const pages: string[][] = []
    for await (const page of users.idPagesIn(keys.partitionOf(id), 100)) pages.push(page)
    expect(pages).toEqual([[id]])
    expect(await users.get(id)).toMatchObject({ id, phone: PHONE, nickname: 'n' })
  })

  it('walks a partition of 1,200 users in pages: every user at least once, no page far above its size', async () => {
    const { keys, users } = setup()
    const ids = Array.from({ length: 1200 }, (_, i) => `u_${String(i).padStart(16, '0')}`)
    await redis.sadd(keys.partitionUsers(3), ...ids)
    const pages: string[][] = []
    for await (const page of users.idPagesIn(3, 100)) pages.push(page)
    expect(new Set(pages.flat())).toEqual(new Set(ids))
    expect(pages.length).toBeGreaterThan(5)
    // COUNT is a hint: a page may run over, never to the whole set
    expect(Math.max(...pages.map((p) => p.length))).toBeLessThan(400)
    const empty: string[][] = []
    for await (const page of users.idPagesIn(4, 100)) empty.push(page)
    expect(empty).toEqual([])
  })

  it('completes a first login that stopped between its two steps (phone claimed, no record yet)', async () => {
    const { keys, users } = setup()
    await redis.set(keys.phoneUser(PHONE), 'u_00000000000000aa')
    const { user, created } = await users.findOrCreate(PHONE, 'late')
    expect(user).toMatchObject({ id: 'u_00000000000000aa', phone: PHONE, nickname: 'late' })
    expect(created).toBe(true)
    expect((await users.findOrCreate(PHONE, 'other')).created).toBe(false)
  })

  it('renames an existing user only, and reads nicknames for the notifier', async () => {
    const { users } = setup()
    const { user } = await users.findOrCreate(PHONE, 'n')
    expect(await users.rename(user.id, 'Ann')).toMatchObject({ nickname: 'Ann' })
    expect(await users.nickname(user.id)).toBe('Ann')
    expect(await users.rename('u_missing', 'x')).toBeNull()
    expect(await users.nickname('u_missing')).toBeNull()
  })
})
