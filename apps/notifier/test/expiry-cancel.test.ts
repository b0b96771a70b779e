import { sleep, waitFor } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness, idFor, inboxIds, signIn } from './helpers'

let h: Harness
afterEach(() => h?.close())

type Json = Record<string, unknown>
const inAbout = (ms: number) => new Date(Date.now() + ms).toISOString()

async function post(url: string, payload: object, headers = h.auth()): Promise<{ statusCode: number; body: Json }> {
  const res = await h.app.inject({ method: 'POST', url, headers, payload })
  return { statusCode: res.statusCode, body: res.json() }
}
async function del(url: string, headers = h.auth()): Promise<{ statusCode: number; body: Json }> {
  const res = await h.app.inject({ method: 'DELETE', url, headers })
  return { statusCode: res.statusCode, body: res.json() }
}
const get = async (url: string) => (await h.app.inject({ url, headers: h.auth() })).json()
/** the frames of the stream entries of kind 'r' (read, state, retract) */
const syncFrames = async () =>
  (await h.entries())
    .map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1] as string]]))))
    .filter((e) => e.k === 'r')
    .map((e) => JSON.parse(e.p as string))

describe('expiry (ttl, expiresAt)', () => {
  it('a message with a ttl is listed with its expiry, then leaves the inbox; its receipt says expired', async () => {
    h = await harness()
    const user = await signIn(h, 'u1')
    const sent = await post('/v1/messages', { to: { userIds: ['u1'] }, title: 'Code 1234', body: '', ttl: 1 })
    expect(sent.statusCode).toBe(202)
    const [id] = sent.body.ids as string[]
    const page = (await h.app.inject({ url: '/inbox', headers: user })).json()
    const expiresAt = page.items[0].expiresAt as string
    expect(page.items.map((i: Json) => i.id)).toEqual([id])
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(500)
    expect(await get(`/v1/messages/${id}`)).toMatchObject({ status: 'written', expiresAt })
    // the live entry carries the expiry for the gateway
    const entry = (await h.entries())[0]?.[1] as string[]
    expect(entry[entry.indexOf('x') + 1]).toBe(String(Date.parse(expiresAt)))
    await sleep(Date.parse(expiresAt) - Date.now() + 50)
    const after = (await h.app.inject({ url: '/inbox', headers: user })).json()
    expect(after).toMatchObject({ items: [], unread: 0 })
    expect((await h.app.inject({ url: '/inbox/counts', headers: user })).json()).toMatchObject({ total: 0 })
    expect(await get(`/v1/messages/${id}`)).toMatchObject({ status: 'expired' })
  })

  it('refuses ttl with expiresAt, an expiresAt not ahead (or not after deliverAt), and a ttl out of bounds', async () => {
    h = await harness()
    const to = { userIds: ['u1'] }
    for (const extra of [
      { ttl: 60, expiresAt: inAbout(60_000) },
      { expiresAt: inAbout(-1000) },
      { deliverAt: inAbout(60_000), expiresAt: inAbout(30_000) },
    ]) {
      const res = await post('/v1/messages', { to, title: 't', body: '', ...extra })
      expect([res.statusCode, res.body.code]).toEqual([400, 'INVALID_EXPIRY'])
      const ev = await post('/v1/events', {
        id: 'e-x',
        type: 'order.shipped',
        data: { userId: 'u1', orderId: 'o' },
        ...extra,
      })
      expect([ev.statusCode, ev.body.code]).toEqual([400, 'INVALID_EXPIRY'])
    }
    for (const ttl of [0, -1, 1.5, 31 * 86_400]) {
      const res = await post('/v1/messages', { to, title: 't', body: '', ttl })
      expect([res.statusCode, res.body.code]).toEqual([400, 'VALIDATION_ERROR'])
    }
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
  })

  it('an event not processed before its expiry is not processed: status expired, nothing written', async () => {
    h = await harness()
    const ev = { id: 'e-late', type: 'order.shipped', data: { userId: 'u1', orderId: 'o1' }, ttl: 1 }
    expect((await post('/v1/events', ev)).statusCode).toBe(202)
    expect(await get('/v1/events/e-late')).toMatchObject({ status: 'queued' })
    await sleep(1100)
    h.startWorker()
    await waitFor(async () => (await get('/v1/events/e-late')).status === 'expired')
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
    // an event in time is written with the expiry
    const fresh = { ...ev, id: 'e-fresh', ttl: 60 }
    expect((await post('/v1/events', fresh)).statusCode).toBe(202)
    await waitFor(async () => (await get('/v1/events/e-fresh')).status === 'done')
    const view = await get('/v1/events/e-fresh')
    expect(Date.parse(view.expiresAt) - Date.parse(view.acceptedAt)).toBe(60_000)
    const [id] = view.messageIds as string[]
    expect((await get(`/v1/messages/${id}`)).expiresAt).toBe(view.expiresAt)
  })
})

describe('DELETE /v1/messages/:id', () => {
  it('retracts a written message: gone from the inbox, a retract frame for its sockets, the same answer twice', async () => {
    h = await harness()
    const user = await signIn(h, 'u1')
    const sent = await post('/v1/messages', { to: { userIds: ['u1', 'u2'] }, title: 'Wrong price', body: '' })
    const [a, b] = sent.body.ids as string[]
    expect(await del(`/v1/messages/${a}`)).toEqual({ statusCode: 200, body: { id: a, status: 'retracted' } })
    expect(await del(`/v1/messages/${a}`)).toEqual({ statusCode: 200, body: { id: a, status: 'retracted' } })
    expect((await h.app.inject({ url: '/inbox', headers: user })).json().items).toEqual([])
    expect(await inboxIds(h.redis, h.keys, 'u2')).toEqual([b])
    expect(await syncFrames()).toEqual([{ type: 'retract', ids: [a] }])
    const receipt = await get(`/v1/messages/${a}`)
    expect(receipt).toMatchObject({ status: 'retracted', userId: 'u1' })
    expect(receipt.retractedAt).toBeDefined()
  })

  it("is 404 for an unknown message and for another system's", async () => {
    h = await harness()
    const sent = await post('/v1/messages', { to: { userIds: ['u1'] }, title: 't', body: '' })
    const [id] = sent.body.ids as string[]
    const other = { authorization: `Bearer ${h.token(undefined, { sub: 'other-system' })}` }
    expect((await del(`/v1/messages/${id}`, other)).statusCode).toBe(404)
    expect((await del('/v1/messages/m_nope.p0')).body.code).toBe('NOT_FOUND')
    expect((await del('/v1/messages/not-an-id')).statusCode).toBe(404)
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([id])
    const readOnly = { authorization: `Bearer ${h.token('events:write')}` }
    expect((await del(`/v1/messages/${id}`, readOnly)).statusCode).toBe(403)
  })

  it('cancels one recipient of a scheduled message: found from acceptance on, never written for that user', async () => {
    h = await harness()
    h.startWorker()
    const deliverAt = inAbout(1200)
    const sent = await post('/v1/messages', { to: { userIds: ['u1', 'u2'] }, title: 'Reminder', body: '', deliverAt })
    expect(sent.body.status).toBe('delayed')
    const [a, b] = sent.body.ids as string[]
    expect(await get(`/v1/messages/${a}`)).toMatchObject({
      status: 'scheduled',
      userId: 'u1',
      requestId: sent.body.requestId,
      dueAt: deliverAt,
    })
    expect(await del(`/v1/messages/${a}`)).toEqual({ statusCode: 200, body: { id: a, status: 'canceled' } })
    await waitFor(async () => (await get(`/v1/events/${sent.body.requestId}`)).status === 'done', 5000)
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
    expect(await inboxIds(h.redis, h.keys, 'u2')).toEqual([b])
    expect(await get(`/v1/messages/${a}`)).toMatchObject({ status: 'canceled' })
    expect(await del(`/v1/messages/${a}`)).toEqual({ statusCode: 200, body: { id: a, status: 'canceled' } })
  })

  it('retracts a message to everyone from every inbox, in the background', async () => {
    h = await harness()
    h.startWorker()
    await h.addUsers('u1', 'u2', 'a', 'b')
    const sent = await post('/v1/messages', { to: { all: true }, title: 'Maintenance at 2 am', body: '' })
    const [id] = sent.body.ids as string[]
    await waitFor(async () => (await get(`/v1/events/${sent.body.requestId}`)).status === 'done')
    for (const u of ['u1', 'u2', 'a', 'b']) expect(await inboxIds(h.redis, h.keys, u)).toEqual([id])
    expect(await del(`/v1/messages/${id}`)).toEqual({ statusCode: 200, body: { id, status: 'retracted' } })
    await waitFor(
      async () =>
        (await Promise.all(['u1', 'u2', 'a', 'b'].map((u) => inboxIds(h.redis, h.keys, u)))).flat().length === 0,
    )
    // the gateway 'gw' holds u1 and u2: one retract frame each (one entry per partition's chunk)
    const retracts = (await syncFrames()).filter((f) => f.type === 'retract')
    expect(retracts.length).toBeGreaterThan(0)
    expect(retracts.every((f) => f.ids[0] === id)).toBe(true)
    expect(await get(`/v1/messages/${id}`)).toMatchObject({ status: 'retracted' })
  })

  it('walks 400 users of 2 partitions in pages, both partitions at once: each inbox gets a message to everyone once, and its retraction takes it from each', async () => {
    // pages of 4 chunks of 5 users, about 10 per partition (a set above 128 members is scanned in pages)
    h = await harness({ REDIS_PARTITIONS: 2, FANOUT_CHUNK_SIZE: 5 })
    h.startWorker()
    const users = Array.from({ length: 400 }, (_, i) => `w${i}`)
    await h.addUsers(...users)
    const sent = await post('/v1/messages', { to: { all: true }, title: 'To all 400', body: '' })
    const [id] = sent.body.ids as string[]
    await waitFor(async () => (await get(`/v1/events/${sent.body.requestId}`)).status === 'done')
    const inboxes = () => Promise.all(users.map((u) => inboxIds(h.redis, h.keys, u)))
    expect(await inboxes()).toEqual(users.map(() => [id]))
    expect(await del(`/v1/messages/${id}`)).toEqual({ statusCode: 200, body: { id, status: 'retracted' } })
    await waitFor(async () => (await inboxes()).flat().length === 0)
  })

  it('cancels a scheduled message to everyone: its request is canceled, no inbox gets it', async () => {
    h = await harness()
    h.startWorker()
    await h.addUsers('u1', 'u2')
    const sent = await post('/v1/messages', { to: { all: true }, title: 'Tomorrow', body: '', deliverAt: inAbout(800) })
    const [id] = sent.body.ids as string[]
    expect(await get(`/v1/messages/${id}`)).toMatchObject({ status: 'scheduled', userId: '*' })
    expect(await del(`/v1/messages/${id}`)).toEqual({ statusCode: 200, body: { id, status: 'canceled' } })
    expect(await get(`/v1/events/${sent.body.requestId}`)).toMatchObject({ status: 'canceled' })
    await sleep(1200)
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
    expect(await get(`/v1/messages/${id}`)).toMatchObject({ status: 'canceled' })
  })
})

describe('DELETE /v1/events/:id', () => {
  it('cancels a delayed event: status canceled, never processed; the same answer twice', async () => {
    h = await harness()
    h.startWorker()
    const ev = { id: 'e-later', type: 'order.shipped', data: { userId: 'u1', orderId: 'o1' }, deliverAt: inAbout(700) }
    expect((await post('/v1/events', ev)).body.status).toBe('delayed')
    expect(await del('/v1/events/e-later')).toEqual({ statusCode: 200, body: { id: 'e-later', status: 'canceled' } })
    expect(await del('/v1/events/e-later')).toEqual({ statusCode: 200, body: { id: 'e-later', status: 'canceled' } })
    await sleep(1100)
    expect(await get('/v1/events/e-later')).toMatchObject({ status: 'canceled', messageIds: [] })
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([])
    // the id stays taken: sending it again does not revive it
    const again = await post('/v1/events', { ...ev, deliverAt: undefined })
    expect([again.statusCode, again.body.status]).toEqual([200, 'canceled'])
  })

  it('cancels a queued event before a worker takes it; once processed it is 409 NOT_CANCELABLE', async () => {
    h = await harness()
    const ev = { id: 'e-q', type: 'order.shipped', data: { userId: 'u1', orderId: 'o1' } }
    await post('/v1/events', ev)
    expect((await del('/v1/events/e-q')).body.status).toBe('canceled')
    await post('/v1/events', { ...ev, id: 'e-done' })
    h.startWorker()
    await waitFor(async () => (await get('/v1/events/e-done')).status === 'done')
    await sleep(200)
    expect(await get('/v1/events/e-q')).toMatchObject({ status: 'canceled' })
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([idFor('e-done', 'u1', h.keys)])
    const late = await del('/v1/events/e-done')
    expect([late.statusCode, late.body.code]).toEqual([409, 'NOT_CANCELABLE'])
    expect((await del('/v1/events/nope')).statusCode).toBe(404)
    const other = { authorization: `Bearer ${h.token(undefined, { sub: 'other-system' })}` }
    expect((await del('/v1/events/e-q', other)).statusCode).toBe(404)
  })
})
