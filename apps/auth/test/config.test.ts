import { describe, expect, it } from 'vitest'
import { authConfig, loadAuthConfig } from '../src/config'

const PROD_SECRETS = {
  NODE_ENV: 'production',
  OTP_SECRET: 'a-real-otp-secret-0123456789',
  TICKET_SECRET: 'a-real-ticket-secret-0123456789',
}

describe('config', () => {
  it('runs the local stack with no environment: port 3001, CN, dev SMS', () => {
    const c = loadAuthConfig({})
    expect(c).toMatchObject({
      PORT: 3001,
      DEFAULT_REGION: 'CN',
      SMS_PROVIDER: 'dev',
      SMS_DAILY_LIMIT_PER_PHONE: 10,
      OTP_TTL_SECONDS: 120,
      OTP_RESEND_SECONDS: 60,
      OTP_MAX_ATTEMPTS: 5,
      OTP_MAX_FAILURES_PER_HOUR: 100,
      SESSION_IDLE_TTL_SECONDS: 1800,
      SESSION_MAX_AGE_SECONDS: 604800,
    })
  })

  it('refuses the dev SMS provider in production', () => {
    expect(() => loadAuthConfig({ ...PROD_SECRETS, SMS_PROVIDER: 'dev' })).toThrow(/SMS_PROVIDER/)
  })

  it('defaults to the webhook provider in production, which needs SMS_WEBHOOK_URL', () => {
    expect(() => loadAuthConfig(PROD_SECRETS)).toThrow(/SMS_WEBHOOK_URL/)
    const c = loadAuthConfig({ ...PROD_SECRETS, SMS_WEBHOOK_URL: 'https://sms.example/send' })
    expect(c.SMS_PROVIDER).toBe('webhook')
  })

  it('refuses the default secrets in production', () => {
    const env = { NODE_ENV: 'production', SMS_WEBHOOK_URL: 'https://sms.example/send' }
    expect(() => loadAuthConfig({ ...env, TICKET_SECRET: PROD_SECRETS.TICKET_SECRET })).toThrow(/OTP_SECRET/)
    expect(() => loadAuthConfig({ ...env, OTP_SECRET: PROD_SECRETS.OTP_SECRET })).toThrow(/TICKET_SECRET/)
  })

  it('names the bad variable', () => {
    expect(() => loadAuthConfig({ DEFAULT_REGION: 'XX' })).toThrow(/DEFAULT_REGION/)
    expect(() => loadAuthConfig({ DEFAULT_REGION: 'china' })).toThrow(/DEFAULT_REGION/)
    expect(() => loadAuthConfig({ SMS_ALLOWED_COUNTRIES: 'CN,ZZ' })).toThrow(/SMS_ALLOWED_COUNTRIES/)
    expect(() => loadAuthConfig({ SMS_ALLOWED_COUNTRIES: 'CN;US' })).toThrow(/SMS_ALLOWED_COUNTRIES/)
    expect(() => loadAuthConfig({ SMS_PROVIDER: 'carrier-pigeon' })).toThrow(/SMS_PROVIDER/)
    expect(() => loadAuthConfig({ OTP_SECRET: 'short' })).toThrow(/OTP_SECRET/)
    expect(() => loadAuthConfig({ RATE_LIMIT_CODE_PER_MINUTE_PER_IP: '0' })).toThrow(
      /RATE_LIMIT_CODE_PER_MINUTE_PER_IP/,
    )
    expect(() => loadAuthConfig({ SMS_WEBHOOK_URL: 'ftp://x' })).toThrow(/SMS_WEBHOOK_URL/)
  })

  it('takes overrides as tests pass them', () => {
    expect(authConfig({ SMS_DAILY_LIMIT_PER_PHONE: 3 }).SMS_DAILY_LIMIT_PER_PHONE).toBe(3)
  })
})
