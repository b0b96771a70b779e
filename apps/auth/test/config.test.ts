import { describe, expect, it } from 'vitest'
import { authConfig, loadAuthConfig } from '../src/config'

/** What `openssl rand -base64 48` prints: strong enough for every *_SECRET. */
const strong = (tag: string) => `${tag}Q7nZ4xV2pL9kR3sW8yT1uB6mC0dF5gH2jK4lN7qP9rS3vX6zA8b`

const PROD = {
  NODE_ENV: 'production',
  HOST: '0.0.0.0',
  OTP_SECRET: strong('otp'),
  TICKET_SECRET: strong('tkt'),
  SMS_WEBHOOK_URL: 'https://sms.example/send',
}

describe('config', () => {
  it('runs the local stack in dev mode (HERALD_DEV=1): port 3001, CN, dev SMS', () => {
    const c = loadAuthConfig({ HERALD_DEV: '1' })
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

  it('fails closed with no environment: the dev secrets are not used unless dev mode is asked for', () => {
    expect(() => loadAuthConfig({})).toThrow(/OTP_SECRET must be set \(make one: openssl rand -base64 48\)/)
    expect(() => loadAuthConfig({ NODE_ENV: 'development' })).toThrow(/HERALD_DEV=1/)
  })

  it('refuses the dev SMS provider unless dev mode is asked for', () => {
    const secrets = { OTP_SECRET: PROD.OTP_SECRET, TICKET_SECRET: PROD.TICKET_SECRET }
    expect(() => loadAuthConfig({ ...secrets, SMS_PROVIDER: 'dev' })).toThrow(/SMS_PROVIDER/)
    expect(() => loadAuthConfig({ ...PROD, SMS_PROVIDER: 'dev' })).toThrow(/SMS_PROVIDER/)
    // no provider and no dev mode: the webhook, which needs its URL
    expect(() => loadAuthConfig(secrets)).toThrow(/SMS_WEBHOOK_URL/)
  })

  it('refuses dev mode on a non-loopback HOST and in production', () => {
    expect(() => loadAuthConfig({ HERALD_DEV: '1', HOST: '0.0.0.0' })).toThrow(/HERALD_DEV .*non-loopback HOST/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', HOST: '10.0.0.5' })).toThrow(/HERALD_DEV/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', NODE_ENV: 'production' })).toThrow(/HERALD_DEV/)
    expect(loadAuthConfig({ HERALD_DEV: '1', HOST: '::1' }).SMS_PROVIDER).toBe('dev')
    expect(loadAuthConfig({ HERALD_DEV: '1', HOST: 'localhost' }).SMS_PROVIDER).toBe('dev')
  })

  it('defaults to the webhook provider in production', () => {
    expect(loadAuthConfig(PROD).SMS_PROVIDER).toBe('webhook')
  })

  it("refuses .env.example's placeholders, short and low-entropy secrets, naming the variable and how to make one", () => {
    const cases: Array<[string, RegExp]> = [
      ['change-me-otp-secret-at-least-32-chars', /OTP_SECRET is a placeholder/],
      ['dev-otp-secret-change-me-in-production', /OTP_SECRET is a placeholder/],
      ['a-real-otp-secret-0123456789', /OTP_SECRET is too short/],
      ['0123456789abcdef', /OTP_SECRET is too short/],
      ['x'.repeat(64), /OTP_SECRET has too little entropy/],
      ['abababababababababababababababababababab', /OTP_SECRET has too little entropy/],
    ]
    for (const [value, message] of cases) {
      expect(() => loadAuthConfig({ ...PROD, OTP_SECRET: value })).toThrow(message)
      expect(() => loadAuthConfig({ ...PROD, OTP_SECRET: value })).toThrow(/openssl rand -base64 48/)
    }
    expect(() => loadAuthConfig({ ...PROD, TICKET_SECRET: 'change-me-ticket-secret-at-least-32-chars' })).toThrow(
      /TICKET_SECRET/,
    )
    // a secret from the README's recipe passes
    expect(() => loadAuthConfig(PROD)).not.toThrow()
  })

  it('names the bad variable', () => {
    expect(() => loadAuthConfig({ HERALD_DEV: '1', DEFAULT_REGION: 'XX' })).toThrow(/DEFAULT_REGION/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', DEFAULT_REGION: 'china' })).toThrow(/DEFAULT_REGION/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', SMS_ALLOWED_COUNTRIES: 'CN,ZZ' })).toThrow(/SMS_ALLOWED_COUNTRIES/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', SMS_ALLOWED_COUNTRIES: 'CN;US' })).toThrow(/SMS_ALLOWED_COUNTRIES/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', SMS_COUNTRY_DAILY_BUDGETS: 'ZZ=5' })).toThrow(
      /SMS_COUNTRY_DAILY_BUDGETS/,
    )
    expect(() => loadAuthConfig({ HERALD_DEV: '1', SMS_COUNTRY_DAILY_BUDGETS: 'US:5' })).toThrow(
      /SMS_COUNTRY_DAILY_BUDGETS/,
    )
    expect(loadAuthConfig({ HERALD_DEV: '1', SMS_ALLOWED_COUNTRIES: '*' }).SMS_ALLOWED_COUNTRIES).toBe('*')
    expect(() => loadAuthConfig({ HERALD_DEV: '1', SMS_PROVIDER: 'carrier-pigeon' })).toThrow(/SMS_PROVIDER/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', OTP_SECRET: 'short' })).toThrow(/OTP_SECRET/)
    expect(() => loadAuthConfig({ HERALD_DEV: 'yes' })).toThrow(/HERALD_DEV/)
    expect(() => loadAuthConfig({ HERALD_DEV: '1', RATE_LIMIT_CODE_PER_MINUTE_PER_IP: '0' })).toThrow(
      /RATE_LIMIT_CODE_PER_MINUTE_PER_IP/,
    )
    expect(() => loadAuthConfig({ HERALD_DEV: '1', SMS_WEBHOOK_URL: 'ftp://x' })).toThrow(/SMS_WEBHOOK_URL/)
  })

  it('takes overrides as tests pass them (in dev mode)', () => {
    expect(authConfig({ SMS_DAILY_LIMIT_PER_PHONE: 3 }).SMS_DAILY_LIMIT_PER_PHONE).toBe(3)
  })
})
