import { createHmac, randomInt, randomUUID } from 'node:crypto'
import type { Keys } from '@herald/keys'
import type { Redis } from 'ioredis'
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
  /** codes one phone may receive per UTC day */
  dailyLimit: number
  /** epoch ms; injected so tests can move the day */
  clock: () => number
}

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** Adds the seconds a client should wait; the /auth error handler sends them as Retry-After. */
function retryable<E extends Error>(err: E, retryAfterMs: number): E & { retryAfter: number } {
  return Object.assign(err, { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) })
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
    redis: Redis,
    private readonly keys: Keys,
    private readonly opts: OtpOptions,
  ) {
    this.redis = withAuthCommands(redis)
  }

  hmac(phone: string, code: string): string {
    return createHmac('sha256', this.opts.secret).update(`${phone}\n${code}`).digest('hex')
  }

  private dailyKey(phone: string): string {
    return this.keys.otpDaily(phone, new Date(this.opts.clock()).toISOString().slice(0, 10))
  }

  /**
   * Sends a fresh code to `phone` (E.164), replacing any previous one. The code is stored only
   * once the provider accepted it; if sending fails, the cooldown and the day's count are released.
   */
  async send(phone: string, sms: SmsProvider): Promise<void> {
    const reservation = randomUUID()
    const cooldown = this.keys.otpCooldown(phone)
    const daily = this.dailyKey(phone)
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
    if (status === 2) {
      const now = this.opts.clock()
      throw retryable(new AuthErrors.SmsBudgetExceeded(), DAY_MS - (now % DAY_MS))
    }

    const code = newCode()
    const text = `Your herald code is ${code}. It expires in ${Math.round(this.opts.ttlSeconds / 60)} min.`
    try {
      await sms.send({ to: phone, text, code })
    } catch (err) {
      await this.redis.heraldOtpRelease(cooldown, daily, reservation).catch(() => 0)
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

  /** Checks a code for `phone` and burns it. Throws INVALID_CODE or TOO_MANY_ATTEMPTS. */
  async verify(phone: string, code: string): Promise<void> {
    const [status, pttl] = await this.redis.heraldOtpCheck(
      this.keys.otp(phone),
      this.keys.otpFailures(phone),
      this.hmac(phone, code),
      this.opts.maxAttempts,
      this.opts.maxFailuresPerHour,
      HOUR_MS,
    )
    if (status === 0) return
    if (status === 2) throw new AuthErrors.TooManyAttempts()
    if (status === 4) throw retryable(new AuthErrors.TooManyAttempts(), pttl)
    throw new AuthErrors.InvalidCode()
  }
}
