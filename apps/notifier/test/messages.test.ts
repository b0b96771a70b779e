import { Inbox } from '@herald/inbox'
import { waitFor } from '@herald/test-utils'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { DIRECT_MESSAGE_TYPE } from '../src/catalog'
import { broadcastMessageIdFor } from '../src/domain/ids'
import { type Harness, harness, idFor, inboxIds } from './helpers'

let h: Harness
afterEach(() => h?.close())

const status = async (id: string) => (await h.app.inject({ url: `/v1/events/${id}`, headers: h.auth() })).json()

describe('POST /v1/messages', () => {
  it('writes a small immediate message at once, without the queue, and answers 202 done with its ids', async () => {
    h = await harness()
    // no worker runs: the API itself wrote it
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth('messages:write events:write'),
      payload: { to: { userIds: ['u1', 'u2'] }, title: 'Invoice paid', body: '42 €', data: { n: 1 }, kind: 'billing' },
    })
    expect(res.statusCode).toBe(202)
    const { requestId, ids, status: st } = res.json()
    expect(st).toBe('done')
    expect(ids).toEqual([idFor(requestId, 'u1', h.keys), idFor(requestId, 'u2', h.keys)])
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([ids[0]])
    expect(await inboxIds(h.redis, h.keys, 'u2')).toEqual([ids[1]])
    expect((await h.entries()).length).toBe(2)
    expect(await status(requestId)).toMatchObject({ status: 'done', messageIds: ids })
    const page = await new Inbox(h.redis, h.keys).page('u2', { limit: 10 })
    expect(page.items[0]).toMatchObject({
      id: ids[1],
      kind: 'billing',
      title: 'Invoice paid',
      body: '42 €',
      data: { n: 1 },
    })
  })

  it('sends a message to everyone due now from the request: the sockets get it before any worker runs, and the event can no longer be canceled', async () => {
    h = await harness()
    await h.addUsers('u1', 'u2')
    // no worker runs: the API itself sent it, after queuing its job
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth('messages:write events:write'),
      payload: { to: { all: true }, title: 'Maintenance', body: 'at 2 am' },
    })
    expect(res.statusCode).toBe(202)
    const { requestId, ids } = res.json()
    const entries = await h.entries()
    expect(entries).toHaveLength(1)
    const [, fields] = entries[0] as [string, string[]]
    expect(fields.slice(0, 2)).toEqual(['k', 'a'])
    expect(JSON.parse(fields.at(-1) as string)).toMatchObject({ type: 'message', id: ids[0], title: 'Maintenance' })
    expect(await inboxIds(h.redis, h.keys, 'u2')).toEqual(ids)
    expect(await status(requestId)).toMatchObject({ status: 'processing' })
    const cancel = await h.app.inject({
      method: 'DELETE',
      url: `/v1/events/${requestId}`,
      headers: h.auth('events:write'),
    })
    expect([cancel.statusCode, cancel.json().code]).toEqual([409, 'NOT_CANCELABLE'])
    // the job sends nothing again
    h.startWorker()
    await waitFor(async () => (await status(requestId)).status === 'done')
    expect(await h.entries()).toHaveLength(1)
  })

  it('starts a fresh message to everyone with its record and job in one round trip: attempt 1, then the job counts its own', async () => {
    h = await harness()
    await h.addUsers('u1')
    // the scripts called, by their first key
    const scripts: string[] = []
    let caughtUp = false
    // the harness runs one redis-server (a Redis, not a Cluster)
    const monitor = await (h.redis as Redis).monitor()
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (['eval', 'evalsha'].includes(String(args[0]).toLowerCase())) scripts.push(String(args[3]))
      if (args[1] === 'monitor-caught-up') caughtUp = true
    })
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth('messages:write events:write'),
      payload: { to: { all: true }, title: 'Maintenance', body: 'at 2 am' },
    })
    await h.redis.echo('monitor-caught-up')
    await waitFor(async () => caughtUp)
    monitor.disconnect()
    expect(res.statusCode).toBe(202)
    const { requestId } = res.json()
    // no claim, no separate start: one record write, the job's add, then the announcement
    const record = await h.redis.hgetall(h.keys.eventOf('test-system', requestId))
    expect(record).toMatchObject({
      status: 'processing',
      attempts: '1',
      type: DIRECT_MESSAGE_TYPE,
      source: 'test-system',
    })
    expect(JSON.parse(record.payload as string)).toMatchObject({ id: requestId, data: { to: { all: true } } })
    // one script on the record (not a claim, then a start)
    expect(scripts.filter((key) => key === h.keys.eventOf('test-system', requestId))).toHaveLength(1)
    h.startWorker()
    await waitFor(async () => (await status(requestId)).status === 'done')
    expect(await h.redis.hget(h.keys.eventOf('test-system', requestId), 'attempts')).toBe('2')
    expect(await h.entries()).toHaveLength(1)
  })

  it('sends nothing and drops the record when the job of a fresh message to everyone cannot be queued', async () => {
    h = await harness()
    await h.addUsers('u1')
    // the queue's job counter is not a counter: BullMQ's add fails (WRONGTYPE); the record's write does not
    await h.redis.hset(`${h.keys.bullPrefix()}:events:id`, 'not', 'a counter')
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth(),
      payload: { to: { all: true }, title: 'Maintenance', body: 'at 2 am' },
    })
    expect([res.statusCode, res.json().code]).toEqual([500, 'INTERNAL_ERROR'])
    expect(await h.entries()).toEqual([])
    const records = await h.redis.keys(h.keys.eventOf('test-system', '*'))
    expect(records).toEqual([])
  })

  it('claims a message to everyone that has an Idempotency-Key: the same key again answers 200 with the same id, sent once', async () => {
    h = await harness()
    await h.addUsers('u1', 'u2')
    const send = () =>
      h.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...h.auth(), 'idempotency-key': 'maintenance-2am' },
        payload: { to: { all: true }, title: 'Maintenance', body: 'at 2 am' },
      })
    const first = await send()
    expect([first.statusCode, first.json().status]).toEqual([202, 'queued'])
    // sent from the request, before any worker runs
    expect(await h.entries()).toHaveLength(1)
    const again = await send()
    expect(again.statusCode).toBe(200)
    expect(again.json().ids).toEqual(first.json().ids)
    h.startWorker()
    await waitFor(async () => (await status(first.json().requestId)).status === 'done')
    expect(await h.entries()).toHaveLength(1)
    expect(await inboxIds(h.redis, h.keys, 'u2')).toEqual(first.json().ids)
  })

  it('queues a message for more users than the inline limit, and the worker delivers it', async () => {
    h = await harness({ MESSAGES_INLINE_MAX_RECIPIENTS: 1 })
    h.startWorker()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth('messages:write events:write'),
      payload: { to: { userIds: ['u1', 'u2'] }, title: 'Invoice paid', body: '42 €', data: { n: 1 }, kind: 'billing' },
    })
    expect(res.statusCode).toBe(202)
    const { requestId, ids, status: st } = res.json()
    expect(st).toBe('queued')
    expect(ids).toEqual([idFor(requestId, 'u1', h.keys), idFor(requestId, 'u2', h.keys)])
    await waitFor(async () => (await status(requestId)).status === 'done')
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([ids[0]])
    expect(await inboxIds(h.redis, h.keys, 'u2')).toEqual([ids[1]])
  })

  it('queues a request with an Idempotency-Key even for one user, so its retry is safe', async () => {
    h = await harness()
    const send = () =>
      h.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...h.auth(), 'idempotency-key': 'invoice-42' },
        payload: { to: { userIds: ['u1'] }, title: 'Once', body: '' },
      })
    const first = await send()
    expect(first.statusCode).toBe(202)
    expect(first.json().status).toBe('queued')
    h.startWorker()
    const again = await send()
    expect(again.statusCode).toBe(200)
    expect(again.json().ids).toEqual(first.json().ids)
    await waitFor(async () => (await status(first.json().requestId)).status === 'done')
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual(first.json().ids)
  })

  it('sends one message (one id) to everyone with to.all', async () => {
    h = await harness()
    await h.addUsers('a', 'b', 'c')
    h.startWorker()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth(),
      payload: { to: { all: true }, title: 'Hi all', body: '' },
    })
    expect(res.statusCode).toBe(202)
    const { requestId, ids } = res.json()
    expect(ids).toEqual([broadcastMessageIdFor(requestId)])
    await waitFor(async () => (await status(requestId)).status === 'done')
    for (const u of ['a', 'b', 'c']) expect(await inboxIds(h.redis, h.keys, u)).toEqual(ids)
  })

  it('with the same Idempotency-Key answers 200 with the same ids and delivers once', async () => {
    h = await harness()
    h.startWorker()
    const send = () =>
      h.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...h.auth(), 'idempotency-key': 'k-1' },
        payload: { to: { userIds: ['u1'] }, title: 't', body: 'b' },
      })
    const [a, b] = await Promise.all([send(), send()])
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 202])
    expect(a.json().ids).toEqual(b.json().ids)
    await waitFor(async () => (await status(a.json().requestId)).status === 'done')
    expect(await inboxIds(h.redis, h.keys, 'u1')).toHaveLength(1)
  })

  it('delays a message with deliverAt', async () => {
    h = await harness()
    h.startWorker()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth(),
      payload: { to: { userIds: ['u1'] }, title: 't', body: 'b', deliverAt: new Date(Date.now() + 800).toISOString() },
    })
    expect(res.json().status).toBe('delayed')
    await new Promise((r) => setTimeout(r, 300))
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
    await waitFor(async () => (await inboxIds(h.redis, h.keys, 'u1')).length === 1, 8000)
  })

  it('refuses a bad body with 400: no recipients, both forms, unknown fields', async () => {
    h = await harness()
    for (const payload of [
      { to: { userIds: [] }, title: 't', body: 'b' },
      { to: { all: false }, title: 't', body: 'b' },
      { to: { userIds: ['u1'], all: true }, title: 't', body: 'b' },
      { to: { userIds: ['u1'] }, title: '', body: 'b' },
      { to: { userIds: ['u1'] }, title: 't', body: 'b', color: 'red' },
    ]) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/messages', headers: h.auth(), payload })
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
    }
  })
})

describe('GET /v1/messages/:id (delivery receipts)', () => {
  it('reports created, delivered (acks from devices) and read', async () => {
    h = await harness()
    h.startWorker()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: h.auth(),
      payload: { to: { userIds: ['u1'] }, title: 't', body: 'b' },
    })
    const id = res.json().ids[0] as string
    await waitFor(async () => (await status(res.json().requestId)).status === 'done')
    const first = await h.app.inject({ url: `/v1/messages/${id}`, headers: h.auth('messages:write') })
    expect(first.statusCode).toBe(200)
    expect(first.json()).toEqual({ id, userId: 'u1', status: 'written', createdAt: expect.any(String), devices: 0 })
    const inbox = new Inbox(h.redis, h.keys)
    await inbox.recordAcks('u1', 'conn-a', [id])
    await inbox.recordAcks('u1', 'conn-b', [id])
    await inbox.markRead('u1', [id])
    const after = (await h.app.inject({ url: `/v1/messages/${id}`, headers: h.auth() })).json()
    expect(after).toMatchObject({ id, userId: 'u1', status: 'read', devices: 2 })
    expect(Date.parse(after.deliveredAt)).toBeGreaterThan(0)
    expect(Date.parse(after.readAt)).toBeGreaterThan(0)
  })

  it('is 404 NOT_FOUND for an unknown message', async () => {
    h = await harness()
    const res = await h.app.inject({ url: '/v1/messages/m_unknown', headers: h.auth() })
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('NOT_FOUND')
  })
})
