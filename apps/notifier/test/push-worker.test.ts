import { Inbox } from '@herald/inbox'
import { generateVapidKeys, PushSubscriptions } from '@herald/push'
import { createRedis } from '@herald/service-kit'
import { waitFor } from '@herald/test-utils'
import { type PushService, startPushService } from '@herald/test-utils/push-service'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { NotifierConfig } from '../src/config'
import { registerPushMetrics } from '../src/push/metrics'
import { createPushQueue, PushEnqueuer, pushQueueOptionsOf } from '../src/push/queue'
import { startPushWorker } from '../src/push/worker'
import { type Harness, harness, inboxIds, signIn } from './helpers'

const vapid = generateVapidKeys()
const PUSH: Partial<NotifierConfig> = {
  PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
  PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
  PUSH_VAPID_SUBJECT: 'mailto:ops@herald.example',
  PUSH_ALLOW_PRIVATE: true,
  PUSH_BACKOFF_MS: 20,
  PUSH_TTL_SECONDS: 600,
}

let h: Harness | undefined
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
  await h?.close()
  h = undefined
})

/** The API, the push worker (its own connection, trusting the push service's certificate) and a push service. */
async function setup(answers: Record<string, number[]> = {}, overrides: Partial<NotifierConfig> = {}) {
  const hh = await harness({ ...PUSH, ...overrides })
  h = hh
  const served = new Map<string, number>()
  const service: PushService = await startPushService({
    answer: (_, path) => {
      const n = served.get(path) ?? 0
      served.set(path, n + 1)
      return answers[path.slice('/push/'.length)]?.[n] ?? 201
    },
  })
  closers.push(() => service.close())
  const conn = createRedis(hh.config.REDIS_URL, 'worker', 'test-push-worker')
  const metrics = new Registry()
  const running = startPushWorker(hh.config, {
    redis: conn,
    metrics: registerPushMetrics(metrics),
    tls: { ca: service.ca },
  })
  if (!running) throw new Error('push is configured: the worker must start')
  const queue = createPushQueue(hh.redis, hh.keys)
  closers.unshift(async () => {
    await running.close()
    await queue.close()
    await conn.quit()
  })
  const enqueuer = new PushEnqueuer(queue, pushQueueOptionsOf(hh.config))
  /** a browser of `userId` subscribing through the API */
  const subscribe = async (userId: string, name: string) => {
    const sub = service.subscribe(name)
    const res = await hh.app.inject({
      method: 'POST',
      url: '/inbox/push-subscriptions',
      headers: await signIn(hh, userId),
      payload: sub,
    })
    expect(res.statusCode).toBe(201)
    return sub
  }
  /** a message written for `userId` through the API: its id */
  const send = async (userId: string, title: string) => {
    const res = await hh.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: hh.auth('messages:write'),
      payload: { to: { userIds: [userId] }, title, body: `${title} body`, kind: 'chat.message' },
    })
    return res.json().ids[0] as string
  }
  const receipt = async (id: string) =>
    (await hh.app.inject({ url: `/v1/messages/${id}`, headers: hh.auth('messages:write') })).json()
  const counter = async (name: string) => {
    const text = await metrics.metrics()
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .map((l) => `${l.split(' ')[0]} ${l.split(' ')[1]}`)
  }
  return { hh, service, enqueuer, subscribe, send, receipt, counter }
}

/** `POST /v1/messages` to everyone, kind news (queued: the worker writes it). */
const announce = (hh: Harness) =>
  hh.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: hh.auth('messages:write'),
    payload: { to: { all: true }, title: 'To everyone', body: 'b', kind: 'news' },
  })

describe('the push worker', () => {
  it('pushes a message to every subscription, encrypted for each browser and signed with VAPID, and the receipt says pushedAt', async () => {
    const { service, enqueuer, subscribe, send, receipt, counter } = await setup()
    const id = await send('u9', 'Parcel')
    await subscribe('u9', 'phone')
    await subscribe('u9', 'laptop')
    await enqueuer.enqueue([
      { userId: 'u9', messageId: id, kind: 'chat.message', title: 'Parcel', body: 'Parcel body' },
    ])
    await waitFor(() => service.received.length === 2, 10_000)
    for (const got of service.received) {
      expect(got.vapidProblem).toBeNull()
      expect(got.headers.ttl).toBe('600')
      expect(got.headers.urgency).toBe('normal')
      expect(JSON.parse(got.payload as string)).toEqual({
        id,
        kind: 'chat.message',
        title: 'Parcel',
        body: 'Parcel body',
      })
    }
    expect(new Set(service.received.map((r) => r.path))).toEqual(new Set(['/push/phone', '/push/laptop']))
    await waitFor(async () => (await receipt(id)).pushedAt, 5000)
    expect(await counter('herald_push_sent_total')).toEqual(['herald_push_sent_total 2'])
  })

  it('pushes a message with an expiry for no longer than it has left, and not at all once past it or retracted', async () => {
    const { hh, service, enqueuer, subscribe, send } = await setup({}, { PUSH_UNDELIVERED_AFTER_MS: 100 })
    const id = await send('u9', 'Driver outside')
    const gone = await send('u9', 'Old news')
    const back = await send('u9', 'Wrong price')
    await subscribe('u9', 'phone')
    expect(
      (await hh.app.inject({ method: 'DELETE', url: `/v1/messages/${back}`, headers: hh.auth() })).statusCode,
    ).toBe(200)
    const job = { userId: 'u9', kind: 'chat.message', body: 'b' }
    await enqueuer.enqueue([
      { ...job, messageId: gone, title: 'Old news', expiresAt: Date.now() - 1 },
      { ...job, messageId: id, title: 'Driver outside', expiresAt: Date.now() + 120_000 },
    ])
    await waitFor(() => service.received.length === 1, 10_000)
    const ttl = Number(service.received[0]?.headers.ttl)
    expect(ttl).toBeGreaterThan(100)
    expect(ttl).toBeLessThanOrEqual(120)
    expect(JSON.parse(service.received[0]?.payload as string).id).toBe(id)
    // a held-back job for a retracted message reads the receipt first: nothing is sent
    await enqueuer.enqueue([{ ...job, messageId: back, title: 'Wrong price', unlessDelivered: true }])
    await new Promise((r) => setTimeout(r, 500))
    expect(service.received).toHaveLength(1)
  })

  it('removes a subscription its push service says is gone (410), retries a 429 and a 500 only for the one owed', async () => {
    const { hh, service, enqueuer, subscribe, send, counter } = await setup({ old: [410], busy: [429, 500, 201] })
    // written before the browsers subscribed: only the job below pushes it
    const id = await send('u9', 'Hi')
    await subscribe('u9', 'old')
    await subscribe('u9', 'busy')
    await subscribe('u9', 'fine')
    await enqueuer.enqueue([
      { userId: 'u9', messageId: id, kind: 'account.login', title: 'Hi', body: 'b', mandatory: true },
    ])
    await waitFor(() => service.received.filter((r) => r.path === '/push/busy').length === 3, 10_000)
    const busy = service.received.filter((r) => r.path === '/push/busy').map((r) => r.at)
    // the 429 said Retry-After: 1 — the next attempt waited for it, not for the 20 ms backoff
    expect((busy[1] as number) - (busy[0] as number)).toBeGreaterThanOrEqual(950)
    const paths = service.received.map((r) => r.path)
    expect(paths.filter((p) => p === '/push/fine')).toHaveLength(1)
    expect(paths.filter((p) => p === '/push/old')).toHaveLength(1)
    // a security notice goes with urgency high
    expect(service.received.every((r) => r.headers.urgency === 'high')).toBe(true)
    const left = await new PushSubscriptions(hh.redis, hh.keys).list('u9')
    expect(left.map((s) => s.endpoint.split('/').at(-1)).sort()).toEqual(['busy', 'fine'])
    await waitFor(async () => (await counter('herald_push_sent_total'))[0] === 'herald_push_sent_total 2', 5000)
    expect(await counter('herald_push_subscriptions_removed_total')).toEqual([
      'herald_push_subscriptions_removed_total 1',
    ])
    expect(await counter('herald_push_failed_total')).toEqual(['herald_push_failed_total{reason="retry"} 2'])
  })

  it('sends a held-back push only if no device acked the message meanwhile, and not at all when the delay is 0', async () => {
    const { service, enqueuer, subscribe, send, hh } = await setup({}, { PUSH_UNDELIVERED_AFTER_MS: 300 })
    const acked = await send('u9', 'Seen')
    const unseen = await send('u9', 'Unseen')
    await subscribe('u9', 'tab')
    const job = (messageId: string, title: string) => ({
      userId: 'u9',
      messageId,
      kind: 'chat.message',
      title,
      body: '',
      unlessDelivered: true,
    })
    expect(await enqueuer.enqueue([job(acked, 'Seen'), job(unseen, 'Unseen')])).toBe(2)
    await new Inbox(hh.redis, hh.keys).recordAcks('u9', 'device-1', [acked])
    await waitFor(() => service.received.length === 1, 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(service.received.map((r) => JSON.parse(r.payload as string).title)).toEqual(['Unseen'])
    const queue = createPushQueue(hh.redis, hh.keys)
    closers.push(() => queue.close())
    const off = new PushEnqueuer(queue, {
      ...pushQueueOptionsOf(hh.config),
      undeliveredAfterMs: 0,
    })
    expect(await off.enqueue([job(unseen, 'Unseen')])).toBe(0)
  })
})

describe('the push trigger (the delivery script)', () => {
  it('queues a push only for an offline user with a subscription, not for an online one, a silent kind or a user without one', async () => {
    const { hh, service, subscribe, send } = await setup()
    await subscribe('u9', 'offline-user')
    await subscribe('u1', 'online-user') // u1 holds a socket on the harness' gateway
    const sub = service.subscribe('silent-user')
    await hh.app.inject({
      method: 'POST',
      url: '/inbox/push-subscriptions',
      headers: await signIn(hh, 'u8'),
      payload: sub,
    })
    await hh.app.inject({
      method: 'PUT',
      url: '/inbox/preferences',
      headers: await signIn(hh, 'u8'),
      payload: { kinds: { 'chat.message': 'silent' } },
    })
    const pushed = await send('u9', 'To the offline')
    await send('u1', 'To the online')
    await send('u8', 'Silent kind')
    await send('u7', 'No subscription')
    await waitFor(() => service.received.length >= 1, 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(service.received.map((r) => [r.path, JSON.parse(r.payload as string).id])).toEqual([
      ['/push/offline-user', pushed],
    ])
    const queue = createPushQueue(hh.redis, hh.keys)
    closers.push(() => queue.close())
    const counts = await queue.getJobCounts('completed', 'waiting', 'delayed', 'active', 'failed')
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1)
  })

  it('a push the first attempt wrote the message for but could not queue is queued by the retry, and sent once', async () => {
    const { hh, service, subscribe } = await setup()
    await subscribe('u9', 'offline-user')
    hh.startWorker()
    const res = await hh.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...hh.auth('messages:write'), 'idempotency-key': 'push-after-fault' },
      payload: {
        to: { userIds: ['u9'] },
        title: 'Owed',
        body: 'b',
        kind: 'chat.message',
        deliverAt: new Date(Date.now() + 1000).toISOString(),
      },
    })
    expect(res.statusCode).toBe(202)
    const { ids, requestId } = res.json() as { ids: string[]; requestId: string }
    const id = ids[0] as string
    // a real fault in the push queue: its id counter holds a word, so BullMQ's add fails at its
    // first command (INCR) — after the inbox write — and the event job fails that attempt
    const jobKey = `${hh.keys.bullPrefix()}:push:id`
    await hh.redis.set(jobKey, 'in the way')
    const event = async () => (await hh.app.inject({ url: `/v1/events/${requestId}`, headers: hh.auth() })).json()
    await waitFor(async () => {
      const e = await event()
      return e.attempts >= 1 && e.status !== 'processing'
    }, 10_000)
    expect((await new Inbox(hh.redis, hh.keys).receipt(id))?.createdAt).toBeDefined()
    expect(service.received).toHaveLength(0)
    await hh.redis.del(jobKey)
    await waitFor(() => service.received.length >= 1, 10_000)
    await waitFor(async () => (await event()).status === 'done', 10_000)
    await new Promise((r) => setTimeout(r, 300))
    expect(service.received.map((r) => JSON.parse(r.payload as string).id)).toEqual([id])
  })

  it('pushes an announcement (to.all) to the users it reached offline with a subscription, once each', async () => {
    const { hh, service, subscribe } = await setup()
    await hh.addUsers('u1', 'u6', 'u7')
    await subscribe('u6', 'offline-user')
    await subscribe('u1', 'online-user') // u1 holds a socket on the harness' gateway
    hh.startWorker()
    const res = await announce(hh)
    expect(res.statusCode).toBe(202)
    const [id] = res.json().ids as string[]
    await waitFor(() => service.received.length >= 1, 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(service.received.map((r) => [r.path, JSON.parse(r.payload as string).id])).toEqual([
      ['/push/offline-user', id],
    ])
  })

  it('an announcement the first attempt wrote but could not queue pushes for is pushed by the retry, once, to the users still owed one', async () => {
    const { hh, service, subscribe } = await setup()
    await hh.addUsers('u1', 'u6', 'u7', 'u8')
    await subscribe('u6', 'owed')
    await subscribe('u8', 'read-it')
    await subscribe('u1', 'online-user') // u1 holds a socket on the harness' gateway
    // the same fault as above: BullMQ's add to the push queue fails after the inboxes are written
    const jobKey = `${hh.keys.bullPrefix()}:push:id`
    await hh.redis.set(jobKey, 'in the way')
    hh.startWorker()
    const res = await announce(hh)
    const { ids, requestId } = res.json() as { ids: string[]; requestId: string }
    const id = ids[0] as string
    const event = async () => (await hh.app.inject({ url: `/v1/events/${requestId}`, headers: hh.auth() })).json()
    await waitFor(async () => {
      const e = await event()
      return e.attempts >= 1 && e.status !== 'processing'
    }, 10_000)
    expect(await inboxIds(hh.redis, hh.keys, 'u6')).toEqual([id])
    // u8 read it before the retry: no push is owed any more
    await new Inbox(hh.redis, hh.keys).markRead('u8', [id])
    await hh.redis.del(jobKey)
    await waitFor(async () => (await event()).status === 'done', 10_000)
    await waitFor(() => service.received.length >= 1, 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(service.received.map((r) => [r.path, JSON.parse(r.payload as string).id])).toEqual([['/push/owed', id]])
  })

  it('with PUSH_UNDELIVERED_AFTER_MS, an online user is pushed a message no device acked in time', async () => {
    const { service, subscribe, send } = await setup({}, { PUSH_UNDELIVERED_AFTER_MS: 200 })
    await subscribe('u1', 'online-user')
    const id = await send('u1', 'Left unread')
    await waitFor(() => service.received.length === 1, 10_000)
    expect(JSON.parse(service.received[0]?.payload as string).id).toBe(id)
  })
})
