import { describe, expect, it } from 'vitest'
import { devCode, harness, login, PHONE, sendCode } from './helpers'

const h = harness()

describe('POST /auth/code', () => {
  it('sends a 6-digit code to a valid phone and answers 202 with its life and the resend wait', async () => {
    const { app, keys } = h.make()
    const res = await sendCode(app)
    expect(res.statusCode).toBe(202)
    expect(res.json()).toEqual({ expiresIn: 120, resendIn: 60 })
    const code = await devCode(app)
    expect(code).toMatch(/^[0-9]{6}$/)
    const stored = await h.check.hgetall(keys.otp(PHONE))
    expect(stored.h).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(stored)).not.toContain(code)
    const ttl = await h.check.pttl(keys.otp(PHONE))
    expect(ttl).toBeGreaterThan(118_000)
    expect(ttl).toBeLessThanOrEqual(120_000)
  })

  it('reads a local number in DEFAULT_REGION and normalises it to E.164', async () => {
    const { app, keys } = h.make()
    expect((await sendCode(app, '138 1234 5678')).statusCode).toBe(202)
    expect(await h.check.exists(keys.otp(PHONE))).toBe(1)
    const us = h.make({ DEFAULT_REGION: 'US' })
    expect((await sendCode(us.app, '(202) 555-0123')).statusCode).toBe(202)
    expect(await h.check.exists(us.keys.otp('+12025550123'))).toBe(1)
  })

  it('refuses invalid phones with 400 INVALID_PHONE and stores no code', async () => {
    const { app, config } = h.make()
    for (const phone of ['12345', 'abcdefg', '+8612345', '+80012345678', '+999123456789']) {
      const res = await sendCode(app, phone)
      expect(res.statusCode, phone).toBe(400)
      expect(res.json().code, phone).toBe('INVALID_PHONE')
    }
    expect(await h.stateKeys(config.KEY_PREFIX)).toEqual([])
  })

  it('makes a new code for the same phone wait 60 s: 429 TOO_MANY_REQUESTS with Retry-After', async () => {
    const { app, keys } = h.make()
    expect((await sendCode(app)).statusCode).toBe(202)
    const again = await sendCode(app, '13812345678')
    expect(again.statusCode).toBe(429)
    expect(again.json().code).toBe('TOO_MANY_REQUESTS')
    const retryAfter = Number(again.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(59)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // once the cooldown is over, a resend replaces the old code
    const first = await devCode(app)
    await h.check.del(keys.otpCooldown(PHONE))
    expect((await sendCode(app)).statusCode).toBe(202)
    const second = await devCode(app)
    if (second !== first) expect((await login(app, PHONE, first)).json().code).toBe('INVALID_CODE')
    expect((await login(app, PHONE, second)).statusCode).toBe(200)
  })

  it('answers the same for a phone that belongs to a user and for one that does not', async () => {
    const { app, keys } = h.make()
    expect((await sendCode(app)).statusCode).toBe(202)
    expect((await login(app, PHONE, await devCode(app))).statusCode).toBe(200)
    await h.check.del(keys.otpCooldown(PHONE))
    const known = await sendCode(app)
    const unknown = await sendCode(app, '+8613900001111')
    expect(known.statusCode).toBe(unknown.statusCode)
    expect(known.body).toBe(unknown.body)
    expect(Object.keys(known.headers).sort()).toEqual(Object.keys(unknown.headers).sort())
  })

  it('refuses countries outside SMS_ALLOWED_COUNTRIES with 400 COUNTRY_NOT_ALLOWED', async () => {
    const { app, config } = h.make({ SMS_ALLOWED_COUNTRIES: 'cn, HK' })
    const us = await sendCode(app, '+12025550123')
    expect(us.statusCode).toBe(400)
    expect(us.json().code).toBe('COUNTRY_NOT_ALLOWED')
    expect(await h.stateKeys(config.KEY_PREFIX)).toEqual([])
    expect((await sendCode(app, PHONE)).statusCode).toBe(202)
    expect((await sendCode(app, '+85251234567')).statusCode).toBe(202)
  })

  it('stops at SMS_DAILY_LIMIT_PER_PHONE codes per phone per address per UTC day, and counts again the next day', async () => {
    let now = Date.parse('2030-01-01T10:00:00Z')
    const { app, keys } = h.make({ SMS_DAILY_LIMIT_PER_PHONE: 3 }, { clock: () => now })
    for (let i = 0; i < 3; i++) {
      await h.check.del(keys.otpCooldown(PHONE))
      expect((await sendCode(app)).statusCode).toBe(202)
    }
    await h.check.del(keys.otpCooldown(PHONE))
    const over = await sendCode(app)
    expect(over.statusCode).toBe(429)
    expect(over.json().code).toBe('SMS_BUDGET_EXCEEDED')
    expect(Number(over.headers['retry-after'])).toBe(14 * 3600)
    // another phone has its own budget
    expect((await sendCode(app, '+8613900001111')).statusCode).toBe(202)
    now += 14 * 3600 * 1000
    expect((await sendCode(app)).statusCode).toBe(202)
  })

  it('limits sends per client IP across two replicas sharing one Redis', async () => {
    const a = h.make({ RATE_LIMIT_CODE_PER_MINUTE_PER_IP: 3 })
    const b = h.make({ RATE_LIMIT_CODE_PER_MINUTE_PER_IP: 3 }, {}, a.config.KEY_PREFIX)
    const phones = ['+8613900000001', '+8613900000002', '+8613900000003', '+8613900000004']
    expect((await sendCode(a.app, phones[0], '10.0.0.1')).statusCode).toBe(202)
    expect((await sendCode(b.app, phones[1], '10.0.0.1')).statusCode).toBe(202)
    expect((await sendCode(a.app, phones[2], '10.0.0.1')).statusCode).toBe(202)
    const limited = await sendCode(b.app, phones[3], '10.0.0.1')
    expect(limited.statusCode).toBe(429)
    expect(limited.json().code).toBe('TOO_MANY_REQUESTS')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // the limited request sent nothing
    expect(await h.check.exists(a.keys.otp(phones[3] as string))).toBe(0)
    // another client is not affected
    expect((await sendCode(a.app, phones[3], '10.0.0.2')).statusCode).toBe(202)
    expect((await h.check.keys(`${a.keys.rateLimit()}*`)).length).toBeGreaterThan(0)
  })

  it('uses the client address from X-Forwarded-For only when the proxy is trusted', async () => {
    const { app } = h.make({ RATE_LIMIT_CODE_PER_MINUTE_PER_IP: 1, TRUST_PROXY: '127.0.0.1' })
    const viaProxy = (phone: string, client: string) =>
      app.inject({
        method: 'POST',
        url: '/auth/code',
        payload: { phone },
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': client },
      })
    expect((await viaProxy('+8613900000001', '203.0.113.1')).statusCode).toBe(202)
    expect((await viaProxy('+8613900000002', '203.0.113.2')).statusCode).toBe(202)
    expect((await viaProxy('+8613900000003', '203.0.113.1')).statusCode).toBe(429)
  })
})

describe('GET /auth/dev/sms/:phone', () => {
  it('is 404 NOT_FOUND when there is no live code', async () => {
    const { app } = h.make()
    const res = await app.inject(`/auth/dev/sms/${encodeURIComponent(PHONE)}`)
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('NOT_FOUND')
  })

  it('does not exist unless SMS_PROVIDER=dev', async () => {
    const { app } = h.make({ SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'http://127.0.0.1:1/sms' })
    const res = await app.inject(`/auth/dev/sms/${encodeURIComponent(PHONE)}`)
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('NOT_FOUND')
  })
})
