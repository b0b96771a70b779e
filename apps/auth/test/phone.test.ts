import { describe, expect, it } from 'vitest'
import { assertCountryAllowed, defaultNickname, maskPhone, normalizePhone } from '../src/phone'

describe('phone numbers', () => {
  it('normalises to E.164, reading local numbers in the default region', () => {
    expect(normalizePhone('13812345678', 'CN')).toEqual({ e164: '+8613812345678', country: 'CN' })
    expect(normalizePhone('+86 138-1234-5678', 'US').e164).toBe('+8613812345678')
    expect(normalizePhone('(202) 555-0123', 'US')).toEqual({ e164: '+12025550123', country: 'US' })
    expect(normalizePhone('06 12 34 56 78', 'FR').e164).toBe('+33612345678')
  })

  it('refuses what cannot receive an SMS with INVALID_PHONE', () => {
    for (const p of ['', 'abc', '12345', '+8612345', '+80012345678', '+999123456789', '010 1234 5678']) {
      expect(() => normalizePhone(p, 'CN'), p).toThrow(
        expect.objectContaining({ code: 'INVALID_PHONE', statusCode: 400 }),
      )
    }
  })

  it('checks the country allowlist', () => {
    const cn = normalizePhone('13812345678', 'CN')
    expect(() => assertCountryAllowed(cn, [])).not.toThrow()
    expect(() => assertCountryAllowed(cn, ['CN'])).not.toThrow()
    expect(() => assertCountryAllowed(cn, ['US'])).toThrow(expect.objectContaining({ code: 'COUNTRY_NOT_ALLOWED' }))
  })

  it('masks the middle digits and names a new user after the last four', () => {
    expect(maskPhone('+8613812345678')).toBe('+86138****5678')
    expect(maskPhone('+12025550123')).toBe('+1202****0123')
    expect(defaultNickname('+8613812345678')).toBe('user-5678')
  })
})
