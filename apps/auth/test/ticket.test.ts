import jwt from '@fastify/jwt'
import { TICKET_AUDIENCE } from '@herald/contracts'
import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { bearer, harness, signIn } from './helpers'

const h = harness()
const SECRET = 'ticket-secret-for-the-tests-0123456789'

/** What the gateway does: a verifier with the algorithm and the audience pinned. */
const gateway = Fastify()
gateway.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'], allowedAud: TICKET_AUDIENCE } })
afterAll(() => gateway.close())

function decodeHeader(ticket: string) {
  return JSON.parse(Buffer.from(ticket.split('.')[0] as string, 'base64url').toString())
}

describe('POST /auth/ws-ticket', () => {
  it('signs a 60 s HS256 ticket for the gateway audience with the user, the session and a random jti', async () => {
    await gateway.ready()
    const { app } = h.make({ TICKET_SECRET: SECRET })
    const { token, user } = await signIn(app)
    const sessionId = (await app.inject({ url: '/auth/sessions', headers: bearer(token) })).json()[0].id

    const a = await app.inject({ method: 'POST', url: '/auth/ws-ticket', headers: bearer(token) })
    const b = await app.inject({ method: 'POST', url: '/auth/ws-ticket', headers: bearer(token) })
    expect(a.statusCode).toBe(200)
    expect(a.json().expiresIn).toBe(60)
    const ticket: string = a.json().ticket
    expect(decodeHeader(ticket)).toMatchObject({ alg: 'HS256', typ: 'JWT' })

    const claims = gateway.jwt.verify<Record<string, unknown>>(ticket)
    expect(claims).toMatchObject({ sub: user.id, sid: sessionId, aud: TICKET_AUDIENCE })
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/)
    expect((claims.exp as number) - (claims.iat as number)).toBe(60)
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(5)

    const other = gateway.jwt.verify<Record<string, unknown>>(b.json().ticket)
    expect(other.jti).not.toBe(claims.jti)
  })

  it('makes tickets that another secret or audience refuses', async () => {
    await gateway.ready()
    const { app } = h.make({ TICKET_SECRET: 'some-other-secret-0123456789abcdef' })
    const { token } = await signIn(app)
    const { ticket } = (await app.inject({ method: 'POST', url: '/auth/ws-ticket', headers: bearer(token) })).json()
    expect(() => gateway.jwt.verify(ticket)).toThrow()

    const right = h.make({ TICKET_SECRET: SECRET })
    const s = await signIn(right.app, '+8613900001111')
    const t = (await right.app.inject({ method: 'POST', url: '/auth/ws-ticket', headers: bearer(s.token) })).json()
    expect(() => gateway.jwt.verify(t.ticket, { allowedAud: 'someone-else' })).toThrow()
  })

  it('expires after 60 s (checked with an injected clock)', async () => {
    await gateway.ready()
    const { app } = h.make({ TICKET_SECRET: SECRET }, { clock: () => Date.now() - 61_000 })
    const { token } = await signIn(app)
    const { ticket } = (await app.inject({ method: 'POST', url: '/auth/ws-ticket', headers: bearer(token) })).json()
    expect(() => gateway.jwt.verify(ticket)).toThrow(/expired/i)
  })
})
