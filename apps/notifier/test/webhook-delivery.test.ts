import { Inbox } from '@herald/inbox'
import { PresenceWriter } from '@herald/presence'
import { createRedis, keysFor } from '@herald/service-kit'
import { waitFor } from '@herald/test-utils'
import { startReceiver } from '@herald/test-utils/webhook-receiver'
import { WebhookRegistry } from '@herald/webhooks'
import { Registry } from 'prom-client'
import { Type } from 'typebox'
import { afterEach, describe, expect, it } from 'vitest'
import { createCatalog, EVENT_TYPES } from '../src/catalog'
import { defineEvent } from '../src/catalog/types'
import type { NotifierConfig } from '../src/config'
import { createWebhooksQueue, WebhookDispatcher } from '../src/webhooks/dispatch'
import { registerWebhookMetrics } from '../src/webhooks/metrics'
import { CachedSubscribers } from '../src/webhooks/subscribers'
import { startWebhookWorker } from '../src/webhooks/worker'
import { type Harness, harness } from './helpers'

/** An event type whose handler always throws: every event of it fails for good. */
const broken = defineEvent({
  type: 'test.broken',
  description: 'always fails',
  schema: Type.Object({ userId: Type.String() }),
  example: { userId: 'u1' },
  handle() {
    throw new Error('no carrier answers')
  },
})

const LOCAL: Partial<NotifierConfig> = {
  WEBHOOK_ALLOW_PRIVATE: true,
  WEBHOOK_ALLOW_HTTP: true,
  WEBHOOK_BACKOFF_MS: 20,
  WEBHOOK_SUBSCRIBERS_CACHE_MS: 0,
  JOB_ATTEMPTS: 1,
}

let h: Harness
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
  await h?.close()
})

async function setup(
  overrides: Partial<NotifierConfig> = {},
  answer?: (n: number) => number,
  events: string[] = ['event.failed'],
) {
  h = await harness({ ...LOCAL, ...overrides }, { catalog: createCatalog([...EVENT_TYPES, broken]) })
  let secret = ''
  const rx = await startReceiver({ secret: () => secret, ...(answer ? { answer } : {}) })
  closers.push(() => rx.close())
  const as = (sub: string) => ({
    authorization: `Bearer ${h.token('webhooks:write events:write messages:write', { sub })}`,
  })
  const created = await h.app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: as('billing'),
    payload: { url: rx.url, events },
  })
  expect(created.statusCode).toBe(201)
  const endpoint = created.json() as { id: string; secret: string }
  secret = endpoint.secret
  h.startWorker()
  const conn = createRedis(h.config.REDIS_URL, 'worker', 'test-webhooks')
  const webhooks = startWebhookWorker(h.config, { redis: conn })
  const metrics = new Registry()
  registerWebhookMetrics(metrics, webhooks.worker)
  closers.push(async () => {
    await webhooks.close()
    await conn.quit()
  })
  const fail = (id: string, sub = 'billing') =>
    h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: as(sub),
      payload: { id, type: 'test.broken', data: { userId: 'u1' } },
    })
  const view = async () => (await h.app.inject({ url: `/v1/webhooks/${endpoint.id}`, headers: as('billing') })).json()
  const log = async () =>
    (await h.app.inject({ url: `/v1/webhooks/${endpoint.id}/deliveries`, headers: as('billing') })).json().items
  const send = async (sub: string) => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: as(sub),
      payload: { to: { userIds: ['u1'] }, title: 'Invoice paid', body: '€42' },
    })
    if (!res.json().ids) throw new Error(res.body)
    return res.json().ids[0] as string
  }
  return { rx, endpoint, fail, view, log, send, metrics }
}

describe('webhook deliveries', () => {
  it('sends event.failed to the caller’s endpoint, signed; the receiver verifies it', async () => {
    const { rx, fail, log } = await setup()
    await fail('order-1')
    await waitFor(() => rx.received.length === 1)
    const got = rx.received[0]
    expect(got?.verified).toMatchObject({
      type: 'event.failed',
      data: { eventId: 'order-1', type: 'test.broken', error: 'no carrier answers', attempts: 1 },
    })
    expect(got?.headers['webhook-id']).toMatch(/^msg_/)
    expect(got?.headers['content-type']).toBe('application/json')
    const entries = await waitFor(async () => {
      const l = await log()
      return l.length === 1 ? l : null
    })
    expect(entries[0]).toMatchObject({ type: 'event.failed', attempt: 1, ok: true, status: 200 })
  })

  it('sends nothing about another system’s events', async () => {
    const { rx, fail } = await setup()
    await fail('shop-1', 'shop')
    await fail('order-2')
    await waitFor(() => rx.received.length === 1)
    await new Promise((r) => setTimeout(r, 300))
    expect(rx.received).toHaveLength(1)
    expect((rx.received[0]!.verified as { data: { eventId: string } }).data.eventId).toBe('order-2')
  })

  it('retries a failed delivery with backoff under the same webhook-id, and logs each attempt', async () => {
    const { rx, fail, log, view, metrics } = await setup({}, (n) => (n === 1 ? 500 : 200))
    await fail('order-3')
    await waitFor(() => rx.received.length === 2)
    const [first, second] = rx.received
    expect(first?.headers['webhook-id']).toBe(second?.headers['webhook-id'])
    expect(second?.verified).toMatchObject({ type: 'event.failed' })
    const entries = await waitFor(async () => {
      const l = await log()
      return l.length === 2 ? l : null
    })
    expect(entries.map((e: { attempt: number; ok: boolean; status: number }) => [e.attempt, e.ok, e.status])).toEqual([
      [2, true, 200],
      [1, false, 500],
    ])
    expect(await view()).toMatchObject({ status: 'enabled', failureStreak: 0 })
    // BullMQ emits 'completed' once the job is moved to completed, after the attempt's log entry:
    // wait for the counter rather than read it the moment the log shows two entries
    const completed = /^herald_webhook_attempts_total\{type="event.failed",outcome="completed"\} 1$/m
    const counted = await waitFor(async () => {
      const text = await metrics.getSingleMetricAsString('herald_webhook_attempts_total')
      return completed.test(text) ? text : null
    })
    expect(counted).toMatch(/^herald_webhook_attempts_total\{type="event.failed",outcome="failed"\} 1$/m)
  })

  it('disables an endpoint after WEBHOOK_DISABLE_AFTER_FAILURES failures in a row, and sends no more', async () => {
    const { rx, fail, view, log } = await setup({ WEBHOOK_DISABLE_AFTER_FAILURES: 3, WEBHOOK_ATTEMPTS: 10 }, () => 503)
    await fail('order-4')
    const v = await waitFor(async () => {
      const x = await view()
      return x.status === 'disabled' ? x : null
    })
    expect(v).toMatchObject({ status: 'disabled', failureStreak: 3 })
    expect(v.disabledAt).toBeDefined()
    await fail('order-5')
    await new Promise((r) => setTimeout(r, 400))
    expect(rx.received).toHaveLength(3)
    expect((await log()).map((e: { error: string }) => e.error)).toEqual(['HTTP 503', 'HTTP 503', 'HTTP 503'])
    // enabled again (its receiver fixed): the streak starts over
    const enable = (sub: string) =>
      h.app.inject({
        method: 'POST',
        url: `/v1/webhooks/${v.id}/enable`,
        headers: { authorization: `Bearer ${h.token('webhooks:write', { sub })}` },
      })
    expect((await enable('shop')).statusCode).toBe(404)
    const enabled = await enable('billing')
    expect(enabled.statusCode).toBe(200)
    expect(enabled.json()).toMatchObject({ status: 'enabled', failureStreak: 0 })
  })

  it('sends message.delivered at the first ack and message.read at the first read, only to the sender', async () => {
    const { rx, send } = await setup({ WEBHOOK_OUTBOX_POLL_MS: 50 }, undefined, ['message.delivered', 'message.read'])
    const mine = await send('billing')
    const theirs = await send('shop')
    // what the gateway does when a device acks, and what /inbox/read or a read frame does
    const inbox = new Inbox(h.redis, h.keys)
    await inbox.recordAcks('u1', 'session-1', [mine, theirs])
    await inbox.recordAcks('u1', 'session-2', [mine])
    await waitFor(() => rx.received.length === 1)
    await inbox.markRead('u1', [mine, theirs])
    await inbox.markRead('u1', [mine])
    await waitFor(() => rx.received.length === 2)
    await new Promise((r) => setTimeout(r, 300))
    const payloads = rx.received.map((r) => r.verified as { type: string; data: Record<string, string> })
    expect(payloads.map((p) => [p?.type, p?.data.messageId, p?.data.userId])).toEqual([
      ['message.delivered', mine, 'u1'],
      ['message.read', mine, 'u1'],
    ])
    expect(payloads[0]?.data.deliveredAt).toBeDefined()
    expect(payloads[1]?.data.readAt).toBeDefined()
  })

  it('sends user.online and, after the settle window with no reconnect, user.offline; a quick reconnect is not announced', async () => {
    const { rx } = await setup({ WEBHOOK_OUTBOX_POLL_MS: 50 }, undefined, ['user.online', 'user.offline'])
    const gw = new PresenceWriter(h.redis, h.keys, { replica: 'gw-presence', settleMs: 300 })
    await gw.heartbeat()
    const rec = { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() }
    // the harness's users u1 and u2 came online too: only u7's changes count here
    const seen = () =>
      rx.received
        .map((r) => r.verified as { type: string; data: { userId: string } } | null)
        .filter((p) => p?.data.userId === 'u7')
        .map((p) => p?.type)
    await gw.connect('p1', 'u7', rec)
    await waitFor(() => seen().length === 1)
    await gw.disconnect('p1', 'u7')
    await waitFor(() => seen().length === 2)
    await gw.connect('p2', 'u7', rec)
    await waitFor(() => seen().length === 3)
    // gone and back within the window: neither announced
    await gw.disconnect('p2', 'u7')
    await gw.connect('p3', 'u7', rec)
    await new Promise((r) => setTimeout(r, 900))
    expect(seen()).toEqual(['user.online', 'user.offline', 'user.online'])
  })

  it('refuses at delivery a target the policy forbids (registered before the policy changed), and logs why', async () => {
    h = await harness({ ...LOCAL, WEBHOOK_ALLOW_PRIVATE: false })
    const rx = await startReceiver()
    closers.push(() => rx.close())
    const keys = keysFor(h.config)
    // written past the API's check, as if registered while private targets were allowed
    const endpoint = await new WebhookRegistry(h.redis, keys).create(
      'billing',
      { url: rx.url, events: ['event.failed'] },
      5,
    )
    const conn = createRedis(h.config.REDIS_URL, 'worker', 'test-webhooks')
    const webhooks = startWebhookWorker({ ...h.config, WEBHOOK_ATTEMPTS: 1 }, { redis: conn })
    closers.push(async () => {
      await webhooks.close()
      await conn.quit()
    })
    const queue = createWebhooksQueue(h.redis, keys)
    closers.push(() => queue.close())
    const dispatcher = new WebhookDispatcher(new CachedSubscribers(new WebhookRegistry(h.redis, keys), 0), queue, {
      attempts: 1,
      backoffMs: 10,
      keepCompletedSeconds: 60,
      keepFailedSeconds: 60,
    })
    const failed = {
      eventId: 'x',
      type: 'order.shipped',
      error: 'boom',
      attempts: 5,
      failedAt: new Date().toISOString(),
    }
    expect(await dispatcher.emit('billing', 'event.failed', failed, 'x')).toBe(1)
    const registry = new WebhookRegistry(h.redis, keys)
    const entries = await waitFor(() => registry.deliveries('billing', endpoint?.id as string, 10).then((l) => l?.[0]))
    expect(entries).toMatchObject({ ok: false, error: 'url targets a refused address' })
    expect(rx.received).toHaveLength(0)
  })
})
