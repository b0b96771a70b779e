import { createHmac, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { revokeToken } from '../src/cli/revoke'
import { kidOf, signServiceToken } from '../src/service-token'
import { type Harness, harness } from './helpers'

let h: Harness
afterEach(() => h?.close())

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const secret = () => randomBytes(32).toString('base64url')
const stats = (token: string) => h.app.inject({ url: '/v1/stats', headers: { authorization: `Bearer ${token}` } })

describe('service tokens: jti, revocation, lifetime, rotation', () => {
  it('refuses a token without jti or iat, and one minted to live longer than SERVICE_TOKEN_MAX_TTL_SECONDS', async () => {
    h = await harness({ SERVICE_TOKEN_MAX_TTL_SECONDS: 3600 })
    const key = { secret: h.config.SERVICE_JWT_SECRET, audience: h.config.SERVICE_JWT_AUDIENCE }
    const now = Math.floor(Date.now() / 1000)
    const hs256 = (payload: object) => {
      const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
      return `${body}.${createHmac('sha256', key.secret).update(body).digest('base64url')}`
    }
    const base = { sub: 'billing', aud: key.audience, scope: 'stats:read', iat: now, exp: now + 60, jti: 'j1' }
    expect((await stats(hs256(base))).statusCode).toBe(200)
    const { jti: _j, ...noJti } = base
    const { iat: _i, ...noIat } = base
    for (const bad of [noJti, noIat, { ...base, exp: now + 3601 }, { ...base, sub: 'x'.repeat(129) }]) {
      const res = await stats(hs256(bad))
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('UNAUTHORIZED')
    }
    expect((await stats(signServiceToken(key, { sub: 'b', scope: 'stats:read', ttlSeconds: 7200 }))).statusCode).toBe(
      401,
    )
  })

  it('a token accepted before (its check kept for the next calls) is refused once it expires', async () => {
    h = await harness()
    const key = { secret: h.config.SERVICE_JWT_SECRET, audience: h.config.SERVICE_JWT_AUDIENCE }
    // 2 s: `iat` is whole seconds, so a 1 s token signed late in a second had ~0 ms left for the first calls
    const token = signServiceToken(key, { sub: 'billing', scope: 'stats:read', ttlSeconds: 2 })
    expect((await stats(token)).statusCode).toBe(200)
    expect((await stats(token)).statusCode).toBe(200)
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50))
    const res = await stats(token)
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('UNAUTHORIZED')
    // a token with a forged signature is not taken for the one seen before
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(43)}`
    expect((await stats(forged)).statusCode).toBe(401)
  })

  it('a revoked token is refused on every replica within the cache time; other tokens keep working', async () => {
    h = await harness({ SERVICE_TOKEN_REVOCATION_CACHE_MS: 200 })
    const other = await h.replica()
    const token = h.token('stats:read')
    const keep = h.token('stats:read')
    expect((await stats(token)).statusCode).toBe(200)
    const { jti } = await revokeToken(token, { REDIS_URL: h.config.REDIS_URL, KEY_PREFIX: h.config.KEY_PREFIX })
    expect(jti).toMatch(/^[A-Za-z0-9_-]{22}$/)
    await new Promise((r) => setTimeout(r, 250))
    for (const app of [h.app, other]) {
      const res = await app.inject({ url: '/v1/stats', headers: { authorization: `Bearer ${token}` } })
      expect(res.statusCode).toBe(401)
      expect((await app.inject({ url: '/v1/stats', headers: { authorization: `Bearer ${keep}` } })).statusCode).toBe(
        200,
      )
    }
    // the entry lives until the token's own expiry, not forever
    const score = await h.redis.zscore(h.keys.revokedServiceTokens(), jti)
    expect(Number(score)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 300)
  })

  it('accepts tokens of the previous secret during a rotation (by kid), and not once it is removed', async () => {
    const [oldSecret, newSecret] = [secret(), secret()]
    const sign = (s: string) =>
      signServiceToken({ secret: s, audience: 'herald' }, { sub: 'shop', scope: 'stats:read', ttlSeconds: 60 })
    h = await harness({ SERVICE_JWT_SECRET: newSecret, SERVICE_JWT_PREVIOUS_SECRET: oldSecret })
    expect((await stats(sign(newSecret))).statusCode).toBe(200)
    expect((await stats(sign(oldSecret))).statusCode).toBe(200)
    expect((await stats(sign(secret()))).statusCode).toBe(401)
    // a token signed with another secret but naming the previous one's kid is still refused
    const forged = sign(secret()).split('.')
    forged[0] = b64({ alg: 'HS256', typ: 'JWT', kid: kidOf(oldSecret) })
    expect((await stats(forged.join('.'))).statusCode).toBe(401)
    await h.close()
    h = await harness({ SERVICE_JWT_SECRET: newSecret })
    expect((await stats(sign(oldSecret))).statusCode).toBe(401)
    expect((await stats(sign(newSecret))).statusCode).toBe(200)
  })
})
