import type { Keys } from '@herald/keys'
import { ControlWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type AuthConfig, countryDailyBudget } from '../config'
import { type EventQueue, LoginEvents } from '../events'
import { OtpService } from '../otp'
import type { SmsProvider } from '../sms'
import { UserStore } from '../users'

declare module 'fastify' {
  interface FastifyInstance {
    otp: OtpService
    users: UserStore
    sms: SmsProvider
    /** closes a user's sockets (4409) on the gateways that hold them */
    control: ControlWriter
    events: LoginEvents
    clock: () => number
  }
}

export interface ServicesPluginOptions {
  config: AuthConfig
  redis: RedisClient
  keys: Keys
  sms: SmsProvider
  queue: EventQueue
  clock: () => number
}

/** Auth's domain services, as decorators the routes use. */
export const servicesPlugin = fp<ServicesPluginOptions>(
  async (app: FastifyInstance, opts) => {
    const { config, redis, keys, clock } = opts
    app.decorate(
      'otp',
      new OtpService(redis, keys, {
        secret: config.OTP_SECRET,
        ttlSeconds: config.OTP_TTL_SECONDS,
        resendSeconds: config.OTP_RESEND_SECONDS,
        maxAttempts: config.OTP_MAX_ATTEMPTS,
        maxFailuresPerHour: config.OTP_MAX_FAILURES_PER_HOUR,
        dailyLimit: config.SMS_DAILY_LIMIT_PER_PHONE,
        globalDailyBudget: config.SMS_DAILY_BUDGET,
        countryDailyBudget: countryDailyBudget(config),
        clock,
      }),
    )
    app.decorate('users', new UserStore(redis, keys))
    app.decorate('sms', opts.sms)
    app.decorate('control', new ControlWriter(redis, keys, config.STREAM_MAXLEN))
    app.decorate(
      'events',
      new LoginEvents(opts.queue, { batchMax: config.EVENT_BATCH_MAX, timeoutMs: config.EVENTS_ENQUEUE_TIMEOUT_MS }),
    )
    app.decorate('clock', clock)
  },
  { fastify: '5.x', name: 'auth-services' },
)
