import type { Keys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import { hashToken } from '@herald/service-kit'
import { sleep } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { bearer, harness, PHONE, signIn } from './helpers'

const h = harness()

/** The delivery stream's entries as objects. */
/** A gateway replica 'gw' holding a socket of the user: control entries for the user reach its stream. */
async function holdOnGateway(keys: Keys, userId: string): Promise<string> {
  const gw = new PresenceWriter(h.check, keys, { replica: 'gw' })
  await gw.heartbeat()
  await gw.connect(`conn-${userId}`, userId, { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() })
  return keys.gatewayStream(keys.partitionOf(userId), 'gw')
}

async function streamEntries(key: string) {
  const raw = await h.check.xrange(key, '-', '+')
  return raw.map(([, fields]) => {
    const o: Record<string, string> = {}
    for (let i = 0; i < fields.length; i += 2) o[fields[i] as string] = fields[i + 1] as string
    return o
  })
}

const PROTECTED: Array<[string, string]> = [
  ['GET', '/auth/me'],
  ['PATCH', '/auth/me'],
  ['POST', '/auth/logout'],
  ['POST', '/auth/logout-all'],
  ['GET', '/auth/sessions'],
  ['DELETE', '/auth/sessions/abc'],
  ['POST', '/auth/ws-ticket'],
]

describe('protected routes', () => {
  it('answer 401 UNAUTHORIZED without a token, with garbage, and with an unknown token', async () => {
    const { app } = h.make()
    for (const headers of [{}, { authorization: 'Bearer nope' }, bearer('3b241101-e2bb-4255-8caf-4136c566a962')]) {
      for (const [method, url] of PROTECTED) {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(method === 'PATCH' ? { payload: { nickname: 'x' } } : {}),
        })
        expect(res.statusCode, `${method} ${url}`).toBe(401)
        expect(res.json().code).toBe('UNAUTHORIZED')
      }
    }
  })

  it('accept a bare token as well as a Bearer one', async () => {
    const { app } = h.make()
    const { token } = await signIn(app)
    expect((await app.inject({ url: '/auth/me', headers: { authorization: token } })).statusCode).toBe(200)
  })
})

describe('GET and PATCH /auth/me', () => {
  it('returns the user, and renames it in the user hash and in every live session', async () => {
    const { app, keys } = h.make()
    const a = await signIn(app)
    await h.check.del(keys.otpCooldown(PHONE))
    const b = await signIn(app)
    expect((await app.inject({ url: '/auth/me', headers: bearer(a.token) })).json()).toEqual(a.user)

    const patched = await app.inject({
      method: 'PATCH',
      url: '/auth/me',
      headers: bearer(a.token),
      payload: { nickname: '  Ann  ' },
    })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toEqual({ ...a.user, nickname: 'Ann' })
    expect(await h.check.hget(keys.user(a.user.id), 'nickname')).toBe('Ann')
    for (const t of [a.token, b.token]) expect(await h.check.hget(keys.session(hashToken(t)), 'nickname')).toBe('Ann')
    expect((await app.inject({ url: '/auth/me', headers: bearer(b.token) })).json().nickname).toBe('Ann')
  })

  it('refuses a blank, too long or control-character nickname with 400', async () => {
    const { app, keys } = h.make()
    const { token, user } = await signIn(app)
    for (const nickname of ['   ', '', 'x'.repeat(33), 'a\nb', 42]) {
      const res = await app.inject({ method: 'PATCH', url: '/auth/me', headers: bearer(token), payload: { nickname } })
      expect(res.statusCode, JSON.stringify(nickname)).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
    }
    expect(await h.check.hget(keys.user(user.id), 'nickname')).toBe('user-5678')
  })
})

describe('logout, logout-all and the session list', () => {
  it('POST /auth/logout ends this session only and tells the gateways to close its sockets', async () => {
    const { app, keys } = h.make()
    const a = await signIn(app)
    const stream = await holdOnGateway(keys, a.user.id)
    await h.check.del(keys.otpCooldown(PHONE))
    const b = await signIn(app)
    const sessions = await app.inject({ url: '/auth/sessions', headers: bearer(a.token) })
    const current = sessions.json().find((s: { current: boolean }) => s.current)

    const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(a.token) })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expect((await app.inject({ url: '/auth/me', headers: bearer(a.token) })).statusCode).toBe(401)
    expect((await app.inject({ url: '/auth/me', headers: bearer(b.token) })).statusCode).toBe(200)
    expect(await h.check.exists(keys.session(hashToken(a.token)))).toBe(0)
    expect(await streamEntries(stream)).toEqual([{ k: 'x', u: a.user.id, s: current.id, p: 'logout' }])
  })

  it('POST /auth/logout-all ends every session of the user and closes all their sockets', async () => {
    const { app, keys } = h.make()
    const a = await signIn(app)
    const stream = await holdOnGateway(keys, a.user.id)
    await h.check.del(keys.otpCooldown(PHONE))
    const b = await signIn(app)
    await h.check.del(keys.otpCooldown('+8613900001111'))
    const other = await signIn(app, '+8613900001111')

    const res = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(b.token) })
    expect(res.statusCode).toBe(204)
    for (const t of [a.token, b.token]) {
      expect((await app.inject({ url: '/auth/me', headers: bearer(t) })).statusCode).toBe(401)
    }
    expect((await app.inject({ url: '/auth/me', headers: bearer(other.token) })).statusCode).toBe(200)
    expect(await h.check.exists(keys.userSessions(a.user.id))).toBe(0)
    expect(await streamEntries(stream)).toEqual([{ k: 'x', u: a.user.id, p: 'logout-all' }])
  })

  it('GET /auth/sessions lists the own sessions, newest use first, and marks the current one', async () => {
    const { app, keys } = h.make()
    const a = await signIn(app, PHONE, 'laptop')
    await h.check.del(keys.otpCooldown(PHONE))
    await sleep(5)
    const b = await signIn(app, PHONE, 'phone')
    await signIn(app, '+8613900001111', 'someone else')
    const res = await app.inject({ url: '/auth/sessions', headers: bearer(a.token) })
    expect(res.statusCode).toBe(200)
    const list = res.json() as Array<{
      id: string
      device: string
      createdAt: string
      lastSeenAt: string
      current: boolean
    }>
    expect(list.map((s) => [s.device, s.current])).toEqual([
      ['laptop', true],
      ['phone', false],
    ])
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'device', 'id', 'lastSeenAt'])
      expect(Date.parse(s.createdAt)).toBeLessThanOrEqual(Date.parse(s.lastSeenAt))
    }
    expect(b.token).not.toBe(a.token)
  })

  it('DELETE /auth/sessions/:id ends one own session (204) and tells the gateways; others are 404', async () => {
    const { app, keys } = h.make()
    const a = await signIn(app, PHONE, 'laptop')
    const stream = await holdOnGateway(keys, a.user.id)
    await h.check.del(keys.otpCooldown(PHONE))
    const b = await signIn(app, PHONE, 'phone')
    const other = await signIn(app, '+8613900001111')
    const list = (await app.inject({ url: '/auth/sessions', headers: bearer(a.token) })).json()
    const phoneSession = list.find((s: { device: string }) => s.device === 'phone')
    const otherSession = (await app.inject({ url: '/auth/sessions', headers: bearer(other.token) })).json()[0]

    // someone else's session: not found, and it lives on
    const foreign = await app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${otherSession.id}`,
      headers: bearer(a.token),
    })
    expect(foreign.statusCode).toBe(404)
    expect(foreign.json().code).toBe('NOT_FOUND')
    expect((await app.inject({ url: '/auth/me', headers: bearer(other.token) })).statusCode).toBe(200)

    const res = await app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${phoneSession.id}`,
      headers: bearer(a.token),
    })
    expect(res.statusCode).toBe(204)
    expect((await app.inject({ url: '/auth/me', headers: bearer(b.token) })).statusCode).toBe(401)
    expect((await app.inject({ url: '/auth/me', headers: bearer(a.token) })).statusCode).toBe(200)
    const again = await app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${phoneSession.id}`,
      headers: bearer(a.token),
    })
    expect(again.statusCode).toBe(404)
    expect(await streamEntries(stream)).toEqual([{ k: 'x', u: a.user.id, s: phoneSession.id, p: 'session-revoked' }])
  })
})

describe('session expiry', () => {
  it('slides the idle TTL on any request with a valid token, protected or public', async () => {
    const { app, keys } = h.make({ SESSION_IDLE_TTL_SECONDS: 600 })
    const { token } = await signIn(app)
    const key = keys.session(hashToken(token))
    for (const req of [
      { url: '/auth/me' },
      { url: '/healthz' },
      { method: 'POST' as const, url: '/auth/code', payload: { phone: '+8613900002222' } },
      { url: '/auth/no-such-route' },
    ]) {
      await h.check.pexpire(key, 5000)
      const before = await h.check.pttl(key)
      expect(before).toBeLessThanOrEqual(5000)
      const res = await app.inject({ ...req, headers: bearer(token) })
      expect(res.statusCode, req.url).toBeLessThan(500)
      const after = await h.check.pttl(key)
      expect(after, req.url).toBeGreaterThan(599_000)
    }
  })

  it('expires a session left idle for SESSION_IDLE_TTL_SECONDS', async () => {
    const { app, keys } = h.make({ SESSION_IDLE_TTL_SECONDS: 10 })
    const { token } = await signIn(app)
    expect(await h.check.pttl(keys.session(hashToken(token)))).toBeLessThanOrEqual(10_000)
    await h.check.pexpire(keys.session(hashToken(token)), 1)
    await sleep(5)
    expect((await app.inject({ url: '/auth/me', headers: bearer(token) })).statusCode).toBe(401)
  })

  it('never lets use extend a session past SESSION_MAX_AGE_SECONDS', async () => {
    // the session was created 58.5 s ago (injected clock) and may live 60 s in all
    const { app, keys } = h.make(
      { SESSION_MAX_AGE_SECONDS: 60, SESSION_IDLE_TTL_SECONDS: 1800 },
      { clock: () => Date.now() - 58_500 },
    )
    const { token } = await signIn(app)
    expect((await app.inject({ url: '/auth/me', headers: bearer(token) })).statusCode).toBe(200)
    expect(await h.check.pttl(keys.session(hashToken(token)))).toBeLessThanOrEqual(1500)
    await sleep(1600)
    expect((await app.inject({ url: '/auth/me', headers: bearer(token) })).statusCode).toBe(401)
  })
})
