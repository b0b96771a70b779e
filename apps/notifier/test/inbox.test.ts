import { Inbox } from '@herald/inbox'
import { hashToken, SessionStore } from '@herald/service-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness } from './helpers'

let h: Harness
afterEach(() => h?.close())

async function signIn(hh: Harness, userId = 'u1') {
  const sessions = new SessionStore(hh.redis, hh.keys, {
    idleTtlSeconds: hh.config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: hh.config.SESSION_MAX_AGE_SECONDS,
  })
  const { token } = await sessions.create({ userId, nickname: 'Ann', phone: '+86138****5678', device: 'laptop' })
  return { token, headers: { authorization: `Bearer ${token}` } }
}

async function seed(hh: Harness, userId: string, n: number, kind = 'k', from = 0) {
  const inbox = new Inbox(hh.redis, hh.keys)
  const now = Date.now()
  return inbox.deliver(
    Array.from({ length: n }, (_, i) => ({
      userId,
      message: {
        id: `m${from + i}`,
        kind,
        title: `t${from + i}`,
        body: 'b',
        data: { i: from + i },
        createdAt: new Date(now).toISOString(),
      },
    })),
  )
}

describe('/inbox', () => {
  it('pages the signed-in user’s messages newest first, with the unread count', async () => {
    h = await harness()
    const { headers } = await signIn(h)
    await seed(h, 'u1', 5)
    await seed(h, 'u2', 1, 'k', 100) // a message id names one user
    const first = await h.app.inject({ url: '/inbox?limit=2', headers })
    expect(first.statusCode).toBe(200)
    const page = first.json()
    expect(page.items.map((m: { id: string }) => m.id)).toEqual(['m4', 'm3'])
    expect(page.items[0]).toMatchObject({ kind: 'k', title: 't4', data: { i: 4 }, read: false })
    expect(page.unread).toBe(5)
    const next = (await h.app.inject({ url: `/inbox?limit=10&before=${page.nextBefore}`, headers })).json()
    expect(next.items.map((m: { id: string }) => m.id)).toEqual(['m2', 'm1', 'm0'])
    expect(next.nextBefore).toBeNull()
    expect((await h.app.inject({ url: '/inbox?limit=0', headers })).statusCode).toBe(400)
    expect((await h.app.inject({ url: '/inbox?before=abc', headers })).statusCode).toBe(400)
  })

  it('marks ids read, publishes the read sync for gateways, and answers 204', async () => {
    h = await harness()
    const { headers } = await signIn(h)
    await seed(h, 'u1', 3)
    const before = (await h.entries()).length
    const res = await h.app.inject({ method: 'POST', url: '/inbox/read', headers, payload: { ids: ['m0', 'm1'] } })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    const entries = await h.entries()
    expect(entries.length).toBe(before + 1)
    const fields = entries.at(-1)![1]
    const f = Object.fromEntries(fields.flatMap((v, i) => (i % 2 ? [] : [[v, fields[i + 1]]])))
    expect(f).toMatchObject({ k: 'r', u: 'u1' })
    expect(JSON.parse(f.p as string)).toEqual({ type: 'read', ids: ['m0', 'm1'] })
    const page = (await h.app.inject({ url: '/inbox', headers })).json()
    expect(page.unread).toBe(1)
    expect(page.items.find((m: { id: string }) => m.id === 'm1').read).toBe(true)
    const all = await h.app.inject({ method: 'POST', url: '/inbox/read', headers, payload: { all: true } })
    expect(all.statusCode).toBe(204)
    expect((await h.app.inject({ url: '/inbox', headers })).json().unread).toBe(0)
    const bad = await h.app.inject({ method: 'POST', url: '/inbox/read', headers, payload: { ids: [] } })
    expect(bad.statusCode).toBe(400)
  })

  it('needs a valid session token (401), refuses service tokens, and slides the session expiry', async () => {
    h = await harness()
    const { token, headers } = await signIn(h)
    expect((await h.app.inject({ url: '/inbox' })).statusCode).toBe(401)
    const svc = await h.app.inject({ url: '/inbox', headers: h.auth() })
    expect(svc.statusCode).toBe(401)
    expect(svc.json().code).toBe('UNAUTHORIZED')
    const unknown = await h.app.inject({ url: '/inbox', headers: { authorization: `Bearer ${crypto.randomUUID()}` } })
    expect(unknown.statusCode).toBe(401)
    const key = h.keys.session(hashToken(token))
    await h.redis.pexpire(key, 5000)
    expect((await h.app.inject({ url: '/inbox', headers })).statusCode).toBe(200)
    expect(await h.redis.pttl(key)).toBeGreaterThan(h.config.SESSION_IDLE_TTL_SECONDS * 1000 - 5000)
    const bare = await h.app.inject({ url: '/inbox', headers: { authorization: token } })
    expect(bare.statusCode).toBe(200)
  })
})

describe('/inbox states', () => {
  const ids = (res: { json(): { items: { id: string }[] } }) => res.json().items.map((m) => m.id)

  it('marks seen, unread, archived, unarchived and deleted; counts each state in one call; syncs other devices', async () => {
    h = await harness()
    const { headers } = await signIn(h)
    await seed(h, 'u1', 4)
    const post = (payload: object) => h.app.inject({ method: 'POST', url: '/inbox/state', headers, payload })
    const counts = async () => (await h.app.inject({ url: '/inbox/counts', headers })).json()
    expect(await counts()).toEqual({ total: 4, unseen: 4, unread: 4, archived: 0 })
    expect((await post({ state: 'seen', ids: ['m0', 'm1', 'nope'] })).json()).toEqual({ changed: 2 })
    expect((await post({ state: 'read', ids: ['m1'] })).json()).toEqual({ changed: 1 })
    expect((await post({ state: 'archived', ids: ['m2'] })).json()).toEqual({ changed: 1 })
    expect(await counts()).toEqual({ total: 3, unseen: 1, unread: 2, archived: 1 })
    const list = (await h.app.inject({ url: '/inbox', headers })).json()
    expect(list.items.map((m: object) => m)).toEqual([
      expect.objectContaining({ id: 'm3', seen: false, read: false, archived: false }),
      expect.objectContaining({ id: 'm1', seen: true, read: true, archived: false }),
      expect.objectContaining({ id: 'm0', seen: true, read: false, archived: false }),
    ])
    expect(list.unread).toBe(2)
    expect((await post({ state: 'unread', ids: ['m1'] })).json()).toEqual({ changed: 1 })
    expect((await post({ state: 'unarchived', ids: ['m2'] })).json()).toEqual({ changed: 1 })
    expect(await counts()).toEqual({ total: 4, unseen: 2, unread: 4, archived: 0 })
    const del = await h.app.inject({ method: 'DELETE', url: '/inbox/m3', headers })
    expect(del.statusCode).toBe(204)
    expect((await h.app.inject({ method: 'DELETE', url: '/inbox/m3', headers })).json().code).toBe('NOT_FOUND')
    expect(ids(await h.app.inject({ url: '/inbox', headers }))).toEqual(['m2', 'm1', 'm0'])
    const frames = (await h.entries()).map(([, f]) => JSON.parse(f[f.indexOf('p') + 1] as string))
    expect(frames.filter((f) => f.type !== 'message')).toEqual([
      { type: 'state', state: 'seen', ids: ['m0', 'm1'] },
      { type: 'read', ids: ['m1'] },
      { type: 'state', state: 'archived', ids: ['m2'] },
      { type: 'state', state: 'unread', ids: ['m1'] },
      { type: 'state', state: 'unarchived', ids: ['m2'] },
      { type: 'state', state: 'deleted', ids: ['m3'] },
    ])
  })

  it('filters by state and kind, and marks all up to a cursor in one call', async () => {
    h = await harness()
    const { headers } = await signIn(h)
    const orders = await seed(h, 'u1', 3, 'order.shipped')
    await seed(h, 'u1', 2, 'chat.message', 3)
    const post = (payload: object) => h.app.inject({ method: 'POST', url: '/inbox/state', headers, payload })
    expect((await post({ state: 'read', upTo: orders[1]?.cursor })).json()).toEqual({ changed: 2 })
    expect((await post({ state: 'archived', upTo: orders[0]?.cursor })).json()).toEqual({ changed: 1 })
    expect(ids(await h.app.inject({ url: '/inbox?state=read', headers }))).toEqual(['m1'])
    expect(ids(await h.app.inject({ url: '/inbox?state=archived', headers }))).toEqual(['m0'])
    expect(ids(await h.app.inject({ url: '/inbox?state=unread&kind=order.shipped', headers }))).toEqual(['m2'])
    expect(ids(await h.app.inject({ url: '/inbox?kind=chat.message&limit=1', headers }))).toEqual(['m4'])
    expect((await post({ state: 'seen', upTo: orders[2]?.cursor })).json()).toEqual({ changed: 1 })
    expect((await h.app.inject({ url: '/inbox/counts', headers })).json()).toEqual({
      total: 4,
      unseen: 2,
      unread: 3,
      archived: 1,
    })
  })

  it('answers 400 VALIDATION_ERROR to an unknown state or filter, a bulk delete, too many ids, a bad cursor', async () => {
    h = await harness()
    const { headers } = await signIn(h)
    const bad = [
      { state: 'hidden', ids: ['m0'] },
      { state: 'deleted', upTo: '123' },
      { state: 'unread', upTo: '123' },
      { state: 'seen', upTo: 'abc' },
      { state: 'seen', ids: [] },
      { state: 'seen', ids: Array.from({ length: 101 }, (_, i) => `m${i}`) },
      { state: 'seen', ids: ['m0'], upTo: '1' },
    ]
    for (const payload of bad) {
      const res = await h.app.inject({ method: 'POST', url: '/inbox/state', headers, payload })
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
    }
    for (const url of ['/inbox?state=seen', '/inbox?kind=Bad%20Kind']) {
      expect((await h.app.inject({ url, headers })).json().code, url).toBe('VALIDATION_ERROR')
    }
    expect((await h.app.inject({ method: 'DELETE', url: '/inbox/bad%20id', headers })).json().code).toBe(
      'VALIDATION_ERROR',
    )
    expect((await h.app.inject({ url: '/inbox/counts' })).statusCode).toBe(401)
    expect(
      (await h.app.inject({ method: 'POST', url: '/inbox/state', payload: { state: 'seen', upTo: '1' } })).statusCode,
    ).toBe(401)
  })
})
