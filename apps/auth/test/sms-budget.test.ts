import { describe, expect, it } from 'vitest'
import { devCode, harness, login, PHONE, sendCode } from './helpers'

const h = harness()

describe('SMS spend ceiling', () => {
  it("a stranger spending a phone's daily budget from their address does not stop the owner signing in from theirs", async () => {
    const { app, keys } = h.make({ SMS_DAILY_LIMIT_PER_PHONE: 3 })
    const attacker = '198.51.100.66'
    for (let i = 0; i < 3; i++) {
      await h.check.del(keys.otpCooldown(PHONE))
      expect((await sendCode(app, PHONE, attacker)).statusCode).toBe(202)
    }
    await h.check.del(keys.otpCooldown(PHONE))
    const burnt = await sendCode(app, PHONE, attacker)
    expect(burnt.statusCode).toBe(429)
    expect(burnt.json().code).toBe('SMS_BUDGET_EXCEEDED')
    // the refusal released the cooldown it took: the owner is not made to wait either
    expect(await h.check.exists(keys.otpCooldown(PHONE))).toBe(0)
    // the owner, same day, from their own address: a code arrives and signs them in
    const owner = await sendCode(app, PHONE, '203.0.113.10')
    expect(owner.statusCode).toBe(202)
    expect((await login(app, PHONE, await devCode(app))).statusCode).toBe(200)
  })

  it('stops every country at SMS_DAILY_BUDGET codes a day: 429 SMS_BUDGET_EXCEEDED naming it, until the next UTC day', async () => {
    let now = Date.parse('2030-01-01T18:00:00Z')
    const { app, keys } = h.make({ SMS_DAILY_BUDGET: 2 }, { clock: () => now })
    expect((await sendCode(app, '+8613900000001', '10.1.0.1')).statusCode).toBe(202)
    expect((await sendCode(app, '+8613900000002', '10.1.0.2')).statusCode).toBe(202)
    const over = await sendCode(app, '+8613900000003', '10.1.0.3')
    expect(over.statusCode).toBe(429)
    expect(over.json()).toMatchObject({ code: 'SMS_BUDGET_EXCEEDED' })
    expect(over.json().message).toContain('SMS_DAILY_BUDGET')
    expect(Number(over.headers['retry-after'])).toBe(6 * 3600)
    // nothing was stored or sent for the refused phone
    expect(await h.check.exists(keys.otp('+8613900000003'))).toBe(0)
    expect(await h.check.exists(keys.otpCooldown('+8613900000003'))).toBe(0)
    now += 6 * 3600 * 1000
    expect((await sendCode(app, '+8613900000003', '10.1.0.3')).statusCode).toBe(202)
  })

  it("caps each country at its own budget (SMS_COUNTRY_DAILY_BUDGETS), leaving other countries' alone", async () => {
    const { app } = h.make({ SMS_ALLOWED_COUNTRIES: 'CN,US', SMS_COUNTRY_DAILY_BUDGETS: 'US=1' })
    expect((await sendCode(app, '+12025550123', '10.2.0.1')).statusCode).toBe(202)
    const us = await sendCode(app, '+12025550124', '10.2.0.2')
    expect(us.statusCode).toBe(429)
    expect(us.json().message).toContain('SMS_COUNTRY_DAILY_BUDGETS')
    expect((await sendCode(app, '+8613900000009', '10.2.0.3')).statusCode).toBe(202)
  })

  it("sends only to DEFAULT_REGION's country unless SMS_ALLOWED_COUNTRIES lists others (`*`: any)", async () => {
    const { app } = h.make()
    const abroad = await sendCode(app, '+12025550123', '10.3.0.1')
    expect(abroad.statusCode).toBe(400)
    expect(abroad.json().code).toBe('COUNTRY_NOT_ALLOWED')
    expect((await sendCode(app, PHONE, '10.3.0.2')).statusCode).toBe(202)
    const any = h.make({ SMS_ALLOWED_COUNTRIES: '*' })
    expect((await sendCode(any.app, '+12025550123', '10.3.0.3')).statusCode).toBe(202)
  })
})
