import { DEV_TICKET_SECRET } from '@herald/contracts'
import { ConfigError, isDevMode, loadConfig, serviceConfigSchema } from '@herald/service-kit'
import { isSupportedCountry } from 'libphonenumber-js/max'
import { type Static, Type } from 'typebox'

const DEV_OTP_SECRET = 'dev-otp-secret-change-me-in-production'

/** Auth's environment. The defaults run the local stack in dev mode (HERALD_DEV=1); otherwise the secrets and a real SMS provider must be set. */
export const AuthConfigSchema = serviceConfigSchema({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** Region a number without `+` is read in (ISO 3166-1 alpha-2). */
  DEFAULT_REGION: Type.String({ pattern: '^[A-Z]{2}$', default: 'CN' }),
  /**
   * `webhook` POSTs codes; `dev` keeps them in Redis for GET /auth/dev/sms/:phone (only with
   * HERALD_DEV=1). Empty: `dev` in dev mode, else `webhook`.
   */
  SMS_PROVIDER: Type.Union([Type.Literal(''), Type.Literal('dev'), Type.Literal('webhook')], { default: '' }),
  /** Where the `webhook` provider POSTs `{to, text}` (required with it). */
  SMS_WEBHOOK_URL: Type.String({ default: '', pattern: '^(https?://.+)?$' }),
  /** Timeout of one webhook call (one retry follows a failure). */
  SMS_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 30_000, default: 3000 }),
  /**
   * Comma-separated ISO country codes that may receive codes; empty: only DEFAULT_REGION's
   * country; `*`: any country.
   */
  SMS_ALLOWED_COUNTRIES: Type.String({
    default: '',
    pattern: '^\\s*(\\*|[A-Za-z]{2}(\\s*,\\s*[A-Za-z]{2})*)?\\s*$',
  }),
  /**
   * Codes one phone may receive per UTC day at the request of one client address (against
   * SMS pumping); counted per address, so a stranger using it up does not lock the owner out.
   */
  SMS_DAILY_LIMIT_PER_PHONE: Type.Integer({ minimum: 1, default: 10 }),
  /** Codes sent per UTC day, every country together: the SMS spend ceiling (429 SMS_BUDGET_EXCEEDED above). */
  SMS_DAILY_BUDGET: Type.Integer({ minimum: 1, default: 10_000 }),
  /** Codes per UTC day per country, e.g. `CN=8000,US=200`; a country not listed: SMS_COUNTRY_DAILY_BUDGET. */
  SMS_COUNTRY_DAILY_BUDGETS: Type.String({
    default: '',
    pattern: '^\\s*([A-Za-z]{2}\\s*=\\s*\\d+(\\s*,\\s*[A-Za-z]{2}\\s*=\\s*\\d+)*)?\\s*$',
  }),
  /** Codes per UTC day to a country not in SMS_COUNTRY_DAILY_BUDGETS (DEFAULT_REGION's: only SMS_DAILY_BUDGET). */
  SMS_COUNTRY_DAILY_BUDGET: Type.Integer({ minimum: 1, default: 1000 }),
  /** HMAC key of the codes kept in Redis (required unless HERALD_DEV=1). */
  OTP_SECRET: Type.String({ minLength: 16, default: DEV_OTP_SECRET }),
  /** Life of a one-time code. */
  OTP_TTL_SECONDS: Type.Integer({ minimum: 30, maximum: 3600, default: 120 }),
  /** Cooldown before another code for the same phone. */
  OTP_RESEND_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
  /** Wrong tries that burn a code (then 429 TOO_MANY_ATTEMPTS). */
  OTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  /** Failed checks per phone per hour, across resends. */
  OTP_MAX_FAILURES_PER_HOUR: Type.Integer({ minimum: 1, default: 100 }),
  /** HS256 key of WebSocket tickets; the gateway verifies with the same value (required unless HERALD_DEV=1). */
  TICKET_SECRET: Type.String({ minLength: 16, default: DEV_TICKET_SECRET }),
  /** `POST /auth/code` per client IP per minute, across replicas. */
  RATE_LIMIT_CODE_PER_MINUTE_PER_IP: Type.Integer({ minimum: 1, default: 10 }),
  /** `POST /auth/login` per client IP per minute, across replicas. */
  RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: Type.Integer({ minimum: 1, default: 30 }),
  /** A login waits at most this long for the account.login event to be enqueued. */
  EVENTS_ENQUEUE_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 1000 }),
  /**
   * Most account.login events one queue job carries: sign-ins while the previous add is in
   * flight go together (as the notifier's EVENT_BATCH_MAX). 1: a job per sign-in.
   */
  EVENT_BATCH_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
})

type RawAuthConfig = Static<typeof AuthConfigSchema>
export type AuthConfig = Omit<RawAuthConfig, 'SMS_PROVIDER'> & { SMS_PROVIDER: 'dev' | 'webhook' }

/** Rules that span variables; each failure names the variable. */
function resolve(raw: RawAuthConfig): AuthConfig {
  const dev = isDevMode(raw)
  const provider = raw.SMS_PROVIDER || (dev ? 'dev' : 'webhook')
  const fail = (name: string, why: string) => {
    throw new ConfigError(name, why)
  }
  if (!isSupportedCountry(raw.DEFAULT_REGION)) fail('DEFAULT_REGION', `"${raw.DEFAULT_REGION}" is not a known region`)
  for (const c of allowedCountries(raw.SMS_ALLOWED_COUNTRIES, raw.DEFAULT_REGION)) {
    if (!isSupportedCountry(c)) fail('SMS_ALLOWED_COUNTRIES', `"${c}" is not a known country`)
  }
  for (const c of countryBudgets(raw.SMS_COUNTRY_DAILY_BUDGETS).keys()) {
    if (!isSupportedCountry(c)) fail('SMS_COUNTRY_DAILY_BUDGETS', `"${c}" is not a known country`)
  }
  if (provider === 'dev' && !dev)
    fail('SMS_PROVIDER', 'may be "dev" only in dev mode (HERALD_DEV=1 on a loopback HOST)')
  if (provider === 'webhook' && !raw.SMS_WEBHOOK_URL)
    fail('SMS_WEBHOOK_URL', 'is required when SMS_PROVIDER=webhook (the default outside dev mode)')
  return { ...raw, SMS_PROVIDER: provider }
}

/**
 * Parses SMS_ALLOWED_COUNTRIES: upper-case ISO codes; empty means `region` only (a deployment
 * pays for codes to its own country unless it lists others), and `[]` (`*`) every country.
 */
export function allowedCountries(list: string, region: string): string[] {
  if (list.trim() === '*') return []
  const listed = list
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean)
  return listed.length > 0 ? listed : [region]
}

/** Parses SMS_COUNTRY_DAILY_BUDGETS (`CN=8000,US=200`). */
export function countryBudgets(list: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const part of list.split(',')) {
    const [c, n] = part.split('=').map((s) => s.trim())
    if (c && n) out.set(c.toUpperCase(), Number(n))
  }
  return out
}

/** The daily budget of one country: listed, else DEFAULT_REGION's is the global one, else the default. */
export function countryDailyBudget(config: AuthConfig): (country: string) => number {
  const listed = countryBudgets(config.SMS_COUNTRY_DAILY_BUDGETS)
  return (country) =>
    listed.get(country) ??
    (country === config.DEFAULT_REGION ? config.SMS_DAILY_BUDGET : config.SMS_COUNTRY_DAILY_BUDGET)
}

/** Reads and validates auth's config from the environment, once, at start-up. */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return resolve(loadConfig(AuthConfigSchema, env))
}

/** Defaults plus overrides: what tests pass to buildApp (dev mode unless the overrides say otherwise). */
export function authConfig(overrides: Partial<RawAuthConfig> = {}): AuthConfig {
  const env: Record<string, string> = { HERALD_DEV: '1' }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) env[k] = String(v)
  return loadAuthConfig(env)
}
