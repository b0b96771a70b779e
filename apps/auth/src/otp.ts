import { createHash, createHmac, randomInt, randomUUID } from 'node:crypto'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { type AuthRedis, withAuthCommands } from './commands'
import { AuthErrors } from './errors'
import type { SmsProvider } from './sms/provider'

export interface OtpOptions {
  /** HMAC key: Redis only ever holds HMAC(secret, phone + code) */
  secret: string
  ttlSeconds: number
  resendSeconds: number
  /** wrong tries that burn a code */
  maxAttempts: number
  /** failed checks per phone per hour, across resends */
  maxFailuresPerHour: number
  /** codes one phone may receive per UTC day at the request of one client address */
  dailyLimit: number
  /** codes per UTC day, every country together (the SMS spend ceiling) */
  globalDailyBudget: number
  /** codes per UTC day to one country (ISO code → budget); `default` for any other */
  countryDailyBudget: (country: string) => number
  /** epoch ms; injected so tests can move the day */
  clock: () => number
}

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** Adds the seconds a client should wait; the /auth error handler sends them as Retry-After. */
function retryable<E extends Error>(err: E, retryAfterMs: number): E & { retryAfter: number } {
  return Object.assign(err, { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) })
}

/** What a requesting address is counted under: a hash (Redis keeps no client address). */
export function requesterId(address: string): string {
  return createHash('sha256').update(address).digest('base64url').slice(0, 16)
}

/** A 6-digit code from the CSPRNG. */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0')
}

/**
 * One-time SMS codes: issue (cooldown, daily budget, failure lock), send, and check-and-burn.
 * Every multi-step change is one Lua script, so replicas racing on one phone stay correct.
 */
export class OtpService {
  private readonly redis: AuthRedis

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly opts: OtpOptions,
  ) {
    this.redis = withAuthCommands(redis)
  }

  hmac(phone: string, code: string): string {
    return createHmac('sha256', this.opts.secret).update(`${phone}\n${code}`).digest('hex')
  }

  private day(): string {
    return new Date(this.opts.clock()).toISOString().slice(0, 10)
  }

  private untilTomorrow(): number {
    return DAY_MS - (this.opts.clock() % DAY_MS)
  }

  /**
   * Sends a fresh code to `phone` (E.164, in `country`), asked for from `requester` (the
   * client address), replacing any previous code. Three budgets, each one atomic step:
   * - the phone's daily budget, counted per requesting address: a stranger who spends it
   *   from their address leaves the owner's own budget (their address) whole — the code
   *   goes to the owner's phone either way, so nobody can sign in as them with it;
   * - the day's spend ceiling: all countries together and the country's own budget.
   * The code is stored only once the provider accepted it; a refusal or a failed send gives
   * back the cooldown and every count.
   */
  async send(phone: string, country: string | undefined, requester: string, sms: SmsProvider): Promise<void> {
    const reservation = randomUUID()
    const cooldown = this.keys.otpCooldown(phone)
    const daily = this.keys.otpDailyFrom(phone, this.day(), requesterId(requester))
    const [status, pttl] = await this.redis.heraldOtpReserve(
      cooldown,
      daily,
      this.keys.otpFailures(phone),
      reservation,
      this.opts.resendSeconds * 1000,
      this.opts.dailyLimit,
      2 * DAY_MS,
      this.opts.maxFailuresPerHour,
    )
    if (status === 1 || status === 3) throw retryable(new AuthErrors.TooManyRequests(Math.ceil(pttl / 1000)), pttl)
    if (status === 2) throw retryable(new AuthErrors.SmsBudgetExceeded(), this.untilTomorrow())

    const where = country ?? '??'
    const spend = this.keys.smsSpend(this.day())
    const [spent] = await this.redis.heraldSmsSpend(
      spend,
      where,
      this.opts.globalDailyBudget,
      this.opts.countryDailyBudget(where),
      2 * DAY_MS,
    )
    if (spent !== 0) {
      await this.redis.heraldOtpRelease(cooldown, daily, reservation).catch(() => 0)
      const err = spent === 1 ? new AuthErrors.SmsSpendExceeded() : new AuthErrors.SmsCountrySpendExceeded()
      throw retryable(err, this.untilTomorrow())
    }

    const code = newCode()
    const text = `Your herald code is ${code}. It expires in ${Math.round(this.opts.ttlSeconds / 60)} min.`
    try {
      await sms.send({ to: phone, text, code })
    } catch (err) {
      await this.redis.heraldOtpRelease(cooldown, daily, reservation).catch(() => 0)
      await this.redis.heraldSmsRefund(spend, where).catch(() => 0)
      throw err
    }
    const key = this.keys.otp(phone)
    await this.redis
      .multi()
      .del(key)
      .hset(key, 'h', this.hmac(phone, code), 'n', '0')
      .pexpire(key, this.opts.ttlSeconds * 1000)
      .exec()
  }

  /**
   * Checks a code for `phone` and burns it; a right one also claims the phone's user id (a new
   * one, `newUserId`, when the phone has none), in the same step. Returns that id. Throws
   * INVALID_CODE or TOO_MANY_ATTEMPTS.
   */
  async verify(phone: string, code: string, newUserId: string): Promise<string> {
    const [status, detail] = await this.redis.heraldOtpCheck(
      this.keys.otp(phone),
      this.keys.otpFailures(phone),
      this.keys.phoneUser(phone),
      this.hmac(phone, code),
      this.opts.maxAttempts,
      this.opts.maxFailuresPerHour,
      HOUR_MS,
      newUserId,
    )
    if (status === 0) return String(detail)
    if (status === 2) throw new AuthErrors.TooManyAttempts()
    if (status === 4) throw retryable(new AuthErrors.TooManyAttempts(), Number(detail))
    throw new AuthErrors.InvalidCode()
  }
}
