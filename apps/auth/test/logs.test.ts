import { describe, expect, it } from 'vitest'
import { bearer, devCode, harness, login, PHONE, sendCode } from './helpers'

const h = harness()

describe('logs', () => {
  it('never contain a token, a code or a ticket, through a full flow', async () => {
    const { app, logs } = h.make({ LOG_LEVEL: 'trace' })
    const secrets: string[] = []

    await sendCode(app)
    const code = await devCode(app)
    secrets.push(code)
    const wrong = code === '314159' ? '271828' : '314159'
    secrets.push(wrong)
    await login(app, PHONE, wrong)
    await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"phone":"${PHONE}","code":"${code}"`,
    })
    const res = await login(app, PHONE, code, { device: 'laptop' })
    expect(res.statusCode).toBe(200)
    const { token } = res.json()
    secrets.push(token)

    await app.inject({ url: '/auth/me', headers: bearer(token) })
    await app.inject({ url: `/auth/me?token=${token}` })
    await app.inject({ method: 'PATCH', url: '/auth/me', headers: bearer(token), payload: { nickname: 'Ann' } })
    await app.inject({ url: '/auth/sessions', headers: bearer(token) })
    const ticket = (await app.inject({ method: 'POST', url: '/auth/ws-ticket', headers: bearer(token) })).json().ticket
    secrets.push(ticket)
    await app.inject({ url: `/ws?ticket=${ticket}` })
    await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(token) })
    await app.inject({ url: '/auth/me', headers: bearer(token) })
    await app.close()

    // one access line per request at least: the scan below reads real logs
    expect(logs.lines.length).toBeGreaterThanOrEqual(14)
    expect(logs.text()).toContain('signed in')
    expect(logs.lines.filter((l) => l.includes('SMS provider is \\"dev\\"'))).toHaveLength(1)
    expect(logs.containsAny([token, ticket])).toEqual([])
    // a code is six digits: look for it as a value of its own, not inside a timestamp or a duration
    const asValue = (c: string) => new RegExp(`(?<![0-9A-Za-z])${c}(?![0-9A-Za-z])`)
    expect(logs.lines.filter((l) => asValue(code).test(l) || asValue(wrong).test(l))).toEqual([])
    expect(secrets.every(Boolean)).toBe(true)
  })
})
