import { TICKET_AUDIENCE } from '@herald/contracts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Cluster, SECRET, signJwt } from './helpers'

let c: Cluster
beforeEach(() => {
  c = new Cluster()
})
afterEach(() => c.close())

describe('upgrade authentication', () => {
  it('accepts a ticket once: reusing it on another replica is refused 4401', async () => {
    const [r1, r2] = [await c.start(), await c.start()]
    const u = await c.user()
    const ticket = c.ticket({ sub: u.userId, sid: u.sessionId })
    const first = c.connect(`${r1.url}?ticket=${ticket}`)
    expect((await first.next('welcome')).userId).toBe(u.userId)
    const again = c.connect(`${r2.url}?ticket=${ticket}`)
    expect(await again.closed).toEqual({ code: 4401, reason: 'ticket already used' })
    expect(again.frames).toEqual([])
    expect([...r1.logs.containsAny([ticket]), ...r2.logs.containsAny([ticket])]).toEqual([])
  })

  it('refuses expired, forged, wrong-audience, unsigned and malformed tickets with 4401, and a missing one', async () => {
    const r = await c.start()
    const u = await c.user()
    const now = Math.floor(Date.now() / 1000)
    const base = { sub: u.userId, sid: u.sessionId, aud: TICKET_AUDIENCE }
    const bad = [
      c.ticket(u && { sub: u.userId, sid: u.sessionId }, { iat: now - 120, exp: now - 60 }),
      c.ticket({ sub: u.userId, sid: u.sessionId }, {}, 'another-secret-0123456789'),
      c.ticket({ sub: u.userId, sid: u.sessionId }, { aud: 'someone-else' }),
      signJwt({ ...base, jti: 'abcdefgh-1', exp: now + 60 }, SECRET, 'none'),
      signJwt({ ...base, jti: 'abcdefgh-2', exp: now + 3600 }, SECRET), // lives longer than a ticket may
      signJwt({ sub: u.userId, aud: TICKET_AUDIENCE, jti: 'abcdefgh-3', exp: now + 60 }, SECRET), // no sid
      'not-a-jwt',
    ]
    for (const t of bad) {
      const cl = c.connect(`${r.url}?ticket=${t}`)
      const closed = await cl.closed
      expect(closed.code, t).toBe(4401)
      expect(cl.frames).toEqual([])
    }
    expect((await c.connect(r.url).closed).code).toBe(4401)
    expect(r.logs.containsAny(bad)).toEqual([])
  })

  it('refuses a ticket whose session has ended', async () => {
    const r = await c.start()
    const u = await c.user()
    await c.sessions.revoke(u.userId, u.sessionId)
    const cl = c.connect(`${r.url}?ticket=${c.ticket({ sub: u.userId, sid: u.sessionId })}`)
    expect(await cl.closed).toEqual({ code: 4401, reason: 'session ended' })
  })

  it('accepts Authorization: Bearer <session token> and refreshes the session', async () => {
    const r = await c.start()
    const u = await c.user('cli')
    const key = c.keys.session((await import('@herald/service-kit')).hashToken(u.token))
    await c.redis.pexpire(key, 60_000)
    const cl = c.connect(r.url, { headers: { authorization: `Bearer ${u.token}` } })
    expect((await cl.next('welcome')).userId).toBe(u.userId)
    expect(await c.redis.pttl(key)).toBeGreaterThan(60_000)
    const presence = await c.redis.hgetall(c.keys.presence(u.userId))
    expect(Object.values(presence).map((v) => JSON.parse(v))).toEqual([
      expect.objectContaining({ device: 'cli', sessionId: u.sessionId, replica: r.id }),
    ])
    const wrong = c.connect(r.url, { headers: { authorization: 'Bearer 6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5' } })
    expect(await wrong.closed).toEqual({ code: 4401, reason: 'invalid session token' })
    expect(r.logs.containsAny([u.token])).toEqual([])
  })

  it('refuses a foreign Origin with 403 before upgrading when ALLOWED_ORIGINS is set', async () => {
    const r = await c.start({ ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:8080' })
    const u = await c.user()
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${r.url}?ticket=${c.ticket({ sub: u.userId, sid: u.sessionId })}`, {
        headers: { origin: 'https://evil.example.net' },
      })
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0)
        ws.terminate()
      })
      ws.on('error', () => {})
    })
    expect(status).toBe(403)
    const ok = c.connect(`${r.url}?ticket=${c.ticket({ sub: u.userId, sid: u.sessionId })}`, {
      headers: { origin: 'https://app.example.com' },
    })
    expect((await ok.next('welcome')).userId).toBe(u.userId)
  })
})
