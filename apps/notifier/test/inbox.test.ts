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

async function seed(hh: Harness, userId: string, n: number) {
  const inbox = new Inbox(hh.redis, hh.keys)
  const now = Date.now()
  await inbox.deliver(
    Array.from({ length: n }, (_, i) => ({
      userId,
      message: {
        id: `m${i}`,
        kind: 'k',
        title: `t${i}`,
        body: 'b',
        data: { i },
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
    await seed(h, 'u2', 1)
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
