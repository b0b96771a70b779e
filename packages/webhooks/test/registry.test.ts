import type { WebhookDelivery } from '@herald/contracts'
import { createKeys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, uniquePrefix } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebhookRegistry } from '../src/registry'

const attempt = (ok: boolean, n = 1): WebhookDelivery => ({
  messageId: `msg_${n}`,
  type: 'message.read',
  attempt: n,
  at: new Date().toISOString(),
  ok,
  durationMs: 3,
  ...(ok ? { status: 200 } : { error: 'HTTP 500', status: 500 }),
})

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())
  const registry = () => new WebhookRegistry(redis, createKeys(uniquePrefix('webhooks'), 4))
  const body = { url: 'https://a.example.com/h', events: ['message.read' as const, 'event.failed' as const] }

  it('registers endpoints per caller, up to the bound, and shows the secret only at creation', async () => {
    const r = registry()
    const a = await r.create('billing', body, 2)
    expect(a).toMatchObject({ url: body.url, events: body.events, status: 'enabled', failureStreak: 0 })
    expect(a?.secret).toMatch(/^whsec_/)
    expect(await r.create('billing', { ...body, description: 'two' }, 2)).not.toBeNull()
    expect(await r.create('billing', body, 2)).toBeNull()
    expect(await r.create('shop', body, 2)).not.toBeNull()
    const list = await r.list('billing')
    expect(list).toHaveLength(2)
    expect(list.every((v) => !('secret' in v))).toBe(true)
    expect(await r.get('billing', a?.id as string)).toMatchObject({ id: a?.id })
    expect(await r.get('shop', a?.id as string)).toBeNull()
    expect(await r.delete('shop', a?.id as string)).toBe(false)
    expect(await r.delete('billing', a?.id as string)).toBe(true)
    expect(await r.list('billing')).toHaveLength(1)
    expect(await r.target(a?.id as string)).toBeNull()
    expect(await r.get('billing', 'bad id')).toBeNull()
  })

  it('finds the caller’s enabled subscribers of an event type', async () => {
    const r = registry()
    const a = await r.create('billing', body, 5)
    await r.create('billing', { ...body, events: ['user.online'] }, 5)
    await r.create('shop', body, 5)
    expect(await r.subscribers('billing', 'message.read')).toEqual([a?.id])
    expect(await r.subscribers('billing', 'message.delivered')).toEqual([])
    const presence = await r.create('shop', { ...body, events: ['user.online'] }, 5)
    expect(new Set(await r.subscribers(null, 'user.online'))).toEqual(
      new Set([presence?.id, (await r.list('billing')).find((v) => v.events.includes('user.online'))?.id]),
    )
    await r.delete('shop', presence?.id as string)
    expect(await r.subscribers(null, 'user.online')).toHaveLength(1)
  })

  it('logs attempts newest first, capped, and disables after a failure streak', async () => {
    const r = registry()
    const a = (await r.create('billing', body, 5)) as { id: string }
    const opts = { logMax: 3, disableAfter: 3 }
    expect(await r.record(a.id, attempt(false, 1), opts)).toBe('failed')
    expect(await r.record(a.id, attempt(false, 2), opts)).toBe('failed')
    expect(await r.record(a.id, attempt(true, 3), opts)).toBe('ok')
    expect((await r.get('billing', a.id))?.failureStreak).toBe(0)
    expect(await r.record(a.id, attempt(false, 4), opts)).toBe('failed')
    expect(await r.record(a.id, attempt(false, 5), opts)).toBe('failed')
    expect(await r.record(a.id, attempt(false, 6), opts)).toBe('disabled')
    const view = await r.get('billing', a.id)
    expect(view).toMatchObject({ status: 'disabled', failureStreak: 3 })
    expect(view?.disabledAt).toBeDefined()
    expect(await r.subscribers('billing', 'message.read')).toEqual([])
    const log = await r.deliveries('billing', a.id, 10)
    expect(log?.map((d) => d.attempt)).toEqual([6, 5, 4])
    expect(await r.deliveries('shop', a.id, 10)).toBeNull()
    expect(await r.enable('shop', a.id)).toBeNull()
    const again = await r.enable('billing', a.id)
    expect(again).toMatchObject({ status: 'enabled', failureStreak: 0 })
    expect(again?.disabledAt).toBeUndefined()
    expect(await r.subscribers('billing', 'message.read')).toEqual([a.id])
    await r.delete('billing', a.id)
    expect(await r.record(a.id, attempt(false, 7), opts)).toBe('gone')
  })
})
