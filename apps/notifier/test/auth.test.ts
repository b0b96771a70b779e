import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signServiceToken } from '../src/service-token'
import { type Harness, harness } from './helpers'

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.close())

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')

const ROUTES: Array<{ method: 'GET' | 'POST'; url: string; scope: string; payload?: object }> = [
  {
    method: 'POST',
    url: '/v1/events',
    scope: 'events:write',
    payload: { id: 'e1', type: 'order.shipped', data: { userId: 'u1', orderId: 'o1' } },
  },
  { method: 'GET', url: '/v1/events/e1', scope: 'events:write' },
  {
    method: 'POST',
    url: '/v1/messages',
    scope: 'messages:write',
    payload: { to: { userIds: ['u1'] }, title: 't', body: 'b' },
  },
  { method: 'GET', url: '/v1/messages/m_x', scope: 'messages:write' },
  { method: 'GET', url: '/v1/users/u1/presence', scope: 'presence:read' },
  { method: 'POST', url: '/v1/users/u1/disconnect', scope: 'users:disconnect' },
  { method: 'GET', url: '/v1/stats', scope: 'stats:read' },
]

describe('service tokens', () => {
  it.each(ROUTES)('$method $url needs a token with $scope: 401 without, 403 with other scopes', async (r) => {
    const none = await h.app.inject({ method: r.method, url: r.url, ...(r.payload ? { payload: r.payload } : {}) })
    expect(none.statusCode).toBe(401)
    expect(none.json().code).toBe('UNAUTHORIZED')
    const others = ROUTES.map((x) => x.scope)
      .filter((s) => s !== r.scope)
      .join(' ')
    const res = await h.app.inject({
      method: r.method,
      url: r.url,
      headers: { authorization: `Bearer ${h.token(others)}` },
      ...(r.payload ? { payload: r.payload } : {}),
    })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ statusCode: 403, code: 'INSUFFICIENT_SCOPE' })
    expect(res.json().message).toContain(r.scope)
    const ok = await h.app.inject({
      method: r.method,
      url: r.url,
      headers: { authorization: `Bearer ${h.token(r.scope)}` },
      ...(r.payload ? { payload: r.payload } : {}),
    })
    expect([200, 202, 204, 404]).toContain(ok.statusCode)
  })

  it('refuses expired, forged, alg none, wrong-audience, claim-less and session tokens with 401', async () => {
    const key = { secret: h.config.SERVICE_JWT_SECRET, audience: h.config.SERVICE_JWT_AUDIENCE }
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: 'billing', aud: key.audience, scope: 'stats:read', iat: now, exp: now + 60, jti: 'jti-1' }
    const hs256 = (payload: object, secret = key.secret) => {
      const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
      return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
    }
    const bad = {
      expired: signServiceToken(key, { sub: 'billing', scope: 'stats:read', ttlSeconds: 60 }, Date.now() - 3600_000),
      forged: hs256(claims, 'another-secret-of-enough-length'),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      algNoneSigned: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${hs256(claims).split('.')[2]}`,
      hs512: (() => {
        const body = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(claims)}`
        return `${body}.${createHmac('sha512', key.secret).update(body).digest('base64url')}`
      })(),
      wrongAudience: signServiceToken(
        { ...key, audience: 'herald:ws' },
        { sub: 'b', scope: 'stats:read', ttlSeconds: 60 },
      ),
      noSub: hs256({ aud: key.audience, scope: 'stats:read', exp: now + 60 }),
      noExp: hs256({ sub: 'billing', aud: key.audience, scope: 'stats:read' }),
      sessionToken: '3b241101-e2bb-4255-8caf-4136c566a962',
      garbage: 'not.a.jwt',
    }
    for (const [name, token] of Object.entries(bad)) {
      const res = await h.app.inject({ url: '/v1/stats', headers: { authorization: `Bearer ${token}` } })
      expect({ name, status: res.statusCode, code: res.json().code }).toEqual({
        name,
        status: 401,
        code: 'UNAUTHORIZED',
      })
    }
    const good = await h.app.inject({ url: '/v1/stats', headers: { authorization: `Bearer ${hs256(claims)}` } })
    expect(good.statusCode).toBe(200)
  })

  it('checks the token before the body: a bad token with a bad body is 401, not 400', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/events', payload: { nope: true } })
    expect(res.statusCode).toBe(401)
  })
})
