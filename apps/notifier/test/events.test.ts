import { Inbox } from '@herald/inbox'
import { waitFor } from '@herald/test-utils'
import { Type } from 'typebox'
import { afterEach, describe, expect, it } from 'vitest'
import { createCatalog, EVENT_TYPES } from '../src/catalog'
import { defineEvent } from '../src/catalog/types'
import { EventRecords } from '../src/domain/event-records'
import { jobIdFor } from '../src/domain/ids'
import { type Harness, harness, idFor, inboxIds } from './helpers'

let h: Harness
afterEach(() => h?.close())

const shipped = (id: string, data: object = { userId: 'u1', orderId: 'o1', carrier: 'DHL' }) => ({
  id,
  type: 'order.shipped',
  data,
})

describe('POST /v1/events', () => {
  it('accepts a valid event with 202 and delivers it to the inbox and the stream', async () => {
    h = await harness()
    const res = await h.app.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload: shipped('e-1') })
    expect(res.statusCode).toBe(202)
    expect(res.json()).toEqual({ id: 'e-1', status: 'queued' })
    h.startWorker()
    const view = await waitFor(async () => {
      const r = await h.app.inject({ url: '/v1/events/e-1', headers: h.auth() })
      return r.json().status === 'done' ? r.json() : null
    })
    const id = idFor('e-1', 'u1', h.keys)
    expect(view).toMatchObject({ id: 'e-1', type: 'order.shipped', status: 'done', attempts: 1, messageIds: [id] })
    expect(view.source).toBe('test-system')
    const metrics = (await h.app.inject('/metrics')).body
    expect(metrics).toContain('notifier_events_total{type="order.shipped",outcome="accepted"} 1')
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([id])
    const entries = await h.entries()
    expect(entries).toHaveLength(1)
    const frame = JSON.parse(entries[0]![1][entries[0]![1].indexOf('p') + 1]!)
    expect(frame).toMatchObject({
      type: 'message',
      id,
      kind: 'order.shipped',
      title: 'Your order has shipped',
      data: { orderId: 'o1', carrier: 'DHL' },
    })
    expect(frame.body).toContain('o1')
  })

  it('answers 422 UNKNOWN_EVENT_TYPE for a type not in the catalog, internal types included', async () => {
    h = await harness()
    for (const type of ['invoice.paid', 'herald.message']) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: h.auth(),
        payload: { id: 'e-2', type, data: {} },
      })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'UNKNOWN_EVENT_TYPE' })
      expect(res.json().message).toContain(type)
    }
  })

  it('answers 400 VALIDATION_ERROR naming the failing path of data, and of the envelope', async () => {
    h = await harness()
    const post = (payload: object) => h.app.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload })
    const cases: Array<[object, string]> = [
      [shipped('e-3', { userId: 42, orderId: 'o1' }), 'data/userId must be string'],
      [shipped('e-3', { orderId: 'o1' }), 'data must have required properties (userId)'],
      [
        shipped('e-3', { userId: 'u1', orderId: 'o1', color: 'red' }),
        'data must not have additional properties (color)',
      ],
      [{ id: 'e-3', type: 'chat.message', data: { fromUserId: 'a', toUserId: 'b', text: '' } }, 'data/text'],
    ]
    for (const [payload, message] of cases) {
      const res = await post(payload)
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
      expect(res.json().message).toContain(message)
    }
    const env = await post({ id: 'has space', type: 'order.shipped', data: {} })
    expect(env.statusCode).toBe(400)
    expect(env.json().message).toContain('id')
    expect((await post({ id: 'e', type: 'order.shipped', data: {}, extra: 1 })).statusCode).toBe(400)
    expect(await h.redis.exists(h.keys.eventOf('test-system', 'e-3'))).toBe(0)
  })

  it('answers a repeated id with 200 and the current status, and never delivers it twice', async () => {
    h = await harness()
    const first = await h.app.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload: shipped('e-4') })
    expect(first.statusCode).toBe(202)
    const again = await h.app.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload: shipped('e-4') })
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ id: 'e-4', status: 'queued' })
    h.startWorker()
    await waitFor(
      async () => (await h.app.inject({ url: '/v1/events/e-4', headers: h.auth() })).json().status === 'done',
    )
    // the job was removed when it completed: the idempotency record still answers
    expect(await h.redis.keys(`${h.keys.bullPrefix()}:events:ev_*`)).toEqual([])
    const later = await h.app.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload: shipped('e-4') })
    expect(later.statusCode).toBe(200)
    expect(later.json()).toEqual({ id: 'e-4', status: 'done' })
    await new Promise((r) => setTimeout(r, 200))
    expect(await inboxIds(h.redis, h.keys, 'u1')).toHaveLength(1)
    expect((await h.entries()).length).toBe(1)
    const ttl = await h.redis.ttl(h.keys.eventOf('test-system', 'e-4'))
    expect(ttl).toBeGreaterThan(86_000)
  })

  it('completes an event whose job never reached BullMQ (the first POST lost Redis mid-way) on the retry', async () => {
    h = await harness()
    // what a POST leaves behind when Redis fails between the claim and the add
    const records = new EventRecords(h.redis, h.keys, 86_400)
    const job = {
      id: 'e-lost',
      type: 'order.shipped',
      data: { userId: 'u1', orderId: 'o1' },
      occurredAt: new Date().toISOString(),
      acceptedAt: Date.now(),
      source: 'test-system',
    }
    expect(await records.claim(job, 'queued', undefined)).toBeNull()
    h.startWorker()
    const retry = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: shipped('e-lost'),
    })
    expect(retry.statusCode).toBe(200)
    await waitFor(
      async () => (await h.app.inject({ url: '/v1/events/e-lost', headers: h.auth() })).json().status === 'done',
    )
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([idFor('e-lost', 'u1', h.keys)])
  })

  it('of 10 concurrent identical POSTs to two replicas exactly one gets 202, and one message is written', async () => {
    h = await harness()
    const other = await h.replica()
    const apps = [h.app, other]
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        apps[i % 2]!.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload: shipped('e-5') }),
      ),
    )
    const codes = responses.map((r) => r.statusCode).sort()
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202])
    h.startWorker()
    h.startWorker()
    await waitFor(
      async () => (await h.app.inject({ url: '/v1/events/e-5', headers: h.auth() })).json().status === 'done',
    )
    await new Promise((r) => setTimeout(r, 200))
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([idFor('e-5', 'u1', h.keys)])
    expect((await h.entries()).length).toBe(1)
  })

  it('delays an event with deliverAt in the future', async () => {
    h = await harness()
    h.startWorker()
    const deliverAt = new Date(Date.now() + 1200).toISOString()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: { ...shipped('e-6'), deliverAt },
    })
    expect(res.statusCode).toBe(202)
    expect(res.json().status).toBe('delayed')
    const view = (await h.app.inject({ url: '/v1/events/e-6', headers: h.auth() })).json()
    expect(view).toMatchObject({ status: 'delayed', deliverAt })
    await new Promise((r) => setTimeout(r, 600))
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
    const done = await waitFor(async () => {
      const v = (await h.app.inject({ url: '/v1/events/e-6', headers: h.auth() })).json()
      return v.status === 'done' ? Date.now() : null
    })
    expect(done).toBeGreaterThanOrEqual(Date.parse(deliverAt))
    expect(await inboxIds(h.redis, h.keys, 'u1')).toHaveLength(1)
  })

  it('GET /v1/events/:id is 404 for an unknown id', async () => {
    h = await harness()
    const res = await h.app.inject({ url: '/v1/events/nope', headers: h.auth() })
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('NOT_FOUND')
  })
})

describe('the worker', () => {
  const flaky = (failures: number) => {
    let calls = 0
    return defineEvent({
      type: 'test.flaky',
      description: 'fails its first runs',
      schema: Type.Object({ userId: Type.String() }),
      example: { userId: 'u1' },
      handle({ data }) {
        calls++
        if (calls <= failures) throw new Error(`boom ${calls}`)
        return { to: 'users', messages: [{ userId: data.userId, kind: 'k', title: 't', body: 'b', data: {} }] }
      },
    })
  }

  it('retries a failing handler with backoff and delivers once it succeeds', async () => {
    h = await harness({ JOB_ATTEMPTS: 4, JOB_BACKOFF_MS: 100 }, { catalog: createCatalog([...EVENT_TYPES, flaky(2)]) })
    h.startWorker()
    const t0 = Date.now()
    await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: { id: 'f-1', type: 'test.flaky', data: { userId: 'u1' } },
    })
    const view = await waitFor(async () => {
      const v = (await h.app.inject({ url: '/v1/events/f-1', headers: h.auth() })).json()
      return v.status === 'done' ? v : null
    })
    // backoff 100 ms then 200 ms
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300)
    expect(view.attempts).toBe(3)
    expect(view.error).toBeUndefined()
    expect(await inboxIds(h.redis, h.keys, 'u1')).toHaveLength(1)
  })

  it('keeps a job that failed every attempt, and reports it failed with the error', async () => {
    h = await harness({ JOB_ATTEMPTS: 2, JOB_BACKOFF_MS: 20 }, { catalog: createCatalog([...EVENT_TYPES, flaky(99)]) })
    h.startWorker()
    await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: { id: 'f-2', type: 'test.flaky', data: { userId: 'u1' } },
    })
    const view = await waitFor(async () => {
      const v = (await h.app.inject({ url: '/v1/events/f-2', headers: h.auth() })).json()
      return v.status === 'failed' ? v : null
    })
    expect(view).toMatchObject({ status: 'failed', attempts: 2, error: 'boom 2', messageIds: [] })
    const stats = (await h.app.inject({ url: '/v1/stats', headers: h.auth() })).json()
    expect(stats.queue.failed).toBe(1)
  })

  it('processes account.login jobs enqueued by auth (job id from (auth, event id), no record) and reports them to auth', async () => {
    h = await harness()
    const { Queue } = await import('bullmq')
    const q = new Queue('events', { connection: h.redis, prefix: h.keys.bullPrefix() })
    const id = 'auth-login-1b2c'
    await q.add(
      'account.login',
      {
        id,
        type: 'account.login',
        data: { userId: 'u1', device: 'Firefox', ip: '203.0.113.7' },
        occurredAt: new Date().toISOString(),
        acceptedAt: Date.now(),
        source: 'auth',
      },
      { jobId: jobIdFor('auth', id), attempts: 5 },
    )
    h.startWorker()
    const view = await waitFor(async () => {
      // auth's events are in auth's namespace: read with a token whose sub is auth
      const asAuth = { authorization: `Bearer ${h.token('events:write', { sub: 'auth' })}` }
      const v = (await h.app.inject({ url: `/v1/events/${id}`, headers: asAuth })).json()
      return v.status === 'done' ? v : null
    })
    expect(view).toMatchObject({
      type: 'account.login',
      source: 'auth',
      attempts: 1,
      messageIds: [idFor(id, 'u1', h.keys, 'auth')],
    })
    const page = await new Inbox(h.redis, h.keys).page('u1', { limit: 5 })
    expect(page.items[0]).toMatchObject({ kind: 'account.login', data: { device: 'Firefox', ip: '203.0.113.7' } })
    expect(page.items[0]?.body).toContain('Firefox')
    await q.close()
  })

  it('fails a job whose data does not match its schema at once (UnrecoverableError), without retrying', async () => {
    h = await harness({ JOB_ATTEMPTS: 5 })
    const { Queue } = await import('bullmq')
    // a producer that skipped validation (e.g. another service)
    const q = new Queue('events', { connection: h.redis, prefix: h.keys.bullPrefix() })
    await q.add(
      'order.shipped',
      {
        id: 'bad-1',
        type: 'order.shipped',
        data: { userId: 7, orderId: 'o' },
        occurredAt: '',
        acceptedAt: Date.now(),
        source: 'x',
      },
      { jobId: 'ev_bad', attempts: 5 },
    )
    h.startWorker()
    const job = await waitFor(async () => ((await q.getJobState('ev_bad')) === 'failed' ? q.getJob('ev_bad') : null))
    expect(job?.attemptsMade).toBe(1)
    expect(job?.failedReason).toContain('data/userId must be string')
    const rec = await h.redis.hgetall(h.keys.eventOf('x', 'bad-1'))
    expect(rec).toMatchObject({ status: 'failed' })
    await q.close()
  })
})
