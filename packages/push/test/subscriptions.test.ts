import { createECDH, randomBytes } from 'node:crypto'
import { createKeys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, uniquePrefix } from '@herald/test-utils'
import { targetPolicy } from '@herald/webhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_ENDPOINT_LENGTH, PushSubscriptions, subscriptionProblem } from '../src/subscriptions'

const browser = (endpoint = `https://push.example.com/send/${randomBytes(8).toString('hex')}`) => ({
  endpoint,
  keys: {
    p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  },
})

describe('subscriptionProblem', () => {
  const policy = targetPolicy({ allowPrivate: false, allowHttp: true, cidrs: '' })
  it('accepts a browser subscription and refuses bad endpoints and keys', () => {
    const ok = browser()
    expect(subscriptionProblem(policy, ok)).toBeNull()
    expect(subscriptionProblem(policy, { ...ok, endpoint: 'http://push.example.com/x' })).toBe('endpoint must be https')
    expect(subscriptionProblem(policy, { ...ok, endpoint: 'https://10.0.0.1/x' })).toBe(
      'endpoint targets a refused address',
    )
    expect(
      subscriptionProblem(policy, { ...ok, endpoint: `https://a.example/${'x'.repeat(MAX_ENDPOINT_LENGTH)}` }),
    ).toMatch(/longer than/)
    expect(subscriptionProblem(policy, { ...ok, keys: { ...ok.keys, auth: 'AAAA' } })).toBe(
      'keys.auth must be 16 bytes',
    )
    expect(subscriptionProblem(policy, { ...ok, keys: { ...ok.keys, p256dh: 'not base64!' } })).toBe(
      'keys must be base64url',
    )
    const offCurve = Buffer.alloc(65, 7)
    offCurve[0] = 4
    expect(subscriptionProblem(policy, { ...ok, keys: { ...ok.keys, p256dh: offCurve.toString('base64url') } })).toBe(
      'keys.p256dh is not a point of P-256',
    )
  })
})

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('PushSubscriptions on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  it('keeps up to the bound per user, replaces an endpoint registered again, removes by endpoint or id', async () => {
    const keys = createKeys(uniquePrefix('push'), 4)
    const store = new PushSubscriptions(redis, keys, 2)
    const a = browser()
    const b = browser()
    expect(await store.add('u_1', a, 1)).toBe('added')
    expect(await store.add('u_1', b, 2)).toBe('added')
    expect(await store.add('u_1', browser(), 3)).toBe('full')
    expect(await store.add('u_2', browser(), 3)).toBe('added')
    const renewed = { ...a, keys: browser().keys }
    expect(await store.add('u_1', renewed, 4)).toBe('replaced')
    const list = await store.list('u_1')
    expect(list.map((s) => s.endpoint)).toEqual([b.endpoint, a.endpoint])
    expect(list[1]?.keys).toEqual(renewed.keys)
    expect(await redis.exists(keys.pushSubscriptions('u_1'))).toBe(1)
    expect(await store.remove('u_1', a.endpoint)).toBe(true)
    expect(await store.remove('u_1', a.endpoint)).toBe(false)
    expect(await store.removeId('u_1', (list[0] as { id: string }).id)).toBe(true)
    expect(await store.list('u_1')).toEqual([])
    // the last one gone, the key is gone: the delivery script's EXISTS says no subscription
    expect(await redis.exists(keys.pushSubscriptions('u_1'))).toBe(0)
  })

  it('keeps each partition’s set of subscribed users: in with the first subscription, out with the last', async () => {
    const keys = createKeys(uniquePrefix('push'), 4)
    const store = new PushSubscriptions(redis, keys, 5)
    const users = Array.from({ length: 12 }, (_, i) => `s_${i}`)
    const first = browser()
    for (const u of users) await store.add(u, u === 's_0' ? first : browser(), 1)
    await store.add('s_0', browser(), 2)
    const subscribers = async () => {
      const all: string[] = []
      for (const p of keys.allPartitions()) for await (const page of store.subscriberPagesIn(p, 5)) all.push(...page)
      return all.sort()
    }
    expect(await subscribers()).toEqual([...users].sort())
    await store.remove('s_0', first.endpoint)
    expect(await subscribers()).toContain('s_0')
    for (const s of await store.list('s_0')) await store.removeId('s_0', s.id)
    expect(await subscribers()).toEqual(users.slice(1).sort())
  })

  it('adds the users who subscribed before the sets existed (an upgrade), once per partition', async () => {
    const keys = createKeys(uniquePrefix('push'), 4)
    const store = new PushSubscriptions(redis, keys, 5)
    // as earlier releases kept it: the user's hash only
    for (const u of ['o_1', 'o_2']) await redis.hset(keys.pushSubscriptions(u), 'sub', '{}')
    const pagesOf = async function* (p: number) {
      yield ['o_1', 'o_2', 'o_3'].filter((u) => keys.partitionOf(u) === p)
    }
    expect(await store.indexSubscribers(pagesOf)).toBe(2)
    for (const u of ['o_1', 'o_2']) expect(await redis.sismember(keys.pushSubscribers(keys.partitionOf(u)), u)).toBe(1)
    await redis.hset(keys.pushSubscriptions('o_3'), 'sub', '{}')
    expect(await store.indexSubscribers(pagesOf)).toBe(0)
  })
})
