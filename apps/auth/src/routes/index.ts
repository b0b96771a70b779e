import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorCode } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { isDevMode } from '@herald/service-kit'
import type { FastifyError } from 'fastify'
import type { AuthConfig } from '../config'
import { SmsSendError } from '../errors'
import { codeRoutes } from './code'
import { devSmsRoutes } from './dev-sms'
import { loginRoutes } from './login'
import { meRoutes } from './me'
import { sessionRoutes } from './sessions'
import { wsTicketRoutes } from './ws-ticket'

export interface AuthRoutesOptions {
  config: AuthConfig
  redis: RedisClient
  keys: Keys
}

/** Every `/auth` route. Registered with `prefix: '/auth'`. */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, opts) => {
  const { config } = opts
  // Two additions to the service-kit handler, for /auth only: a Retry-After header on errors
  // that know when to retry, and SMS_SEND_FAILED kept as the code of a 502/503.
  const parent = app.errorHandler
  app.setErrorHandler((err: FastifyError & { retryAfter?: number }, request, reply) => {
    if (typeof err.retryAfter === 'number') reply.header('retry-after', String(err.retryAfter))
    if (err instanceof SmsSendError) {
      request.log.warn({ err: { type: err.name, message: err.message } }, 'SMS not sent')
      return reply.status(err.statusCode).send({
        statusCode: err.statusCode,
        code: ErrorCode.SMS_SEND_FAILED,
        error: err.statusCode === 502 ? 'Bad Gateway' : 'Service Unavailable',
        message: 'The code could not be sent, retry in a moment',
      })
    }
    return parent(err, request, reply)
  })

  await app.register(codeRoutes, {
    region: config.DEFAULT_REGION,
    allowedCountries: config.SMS_ALLOWED_COUNTRIES,
    perMinutePerIp: config.RATE_LIMIT_CODE_PER_MINUTE_PER_IP,
    ttlSeconds: config.OTP_TTL_SECONDS,
    resendSeconds: config.OTP_RESEND_SECONDS,
  })
  await app.register(loginRoutes, {
    region: config.DEFAULT_REGION,
    perMinutePerIp: config.RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP,
    enqueueTimeoutMs: config.EVENTS_ENQUEUE_TIMEOUT_MS,
  })
  await app.register(meRoutes)
  await app.register(sessionRoutes)
  await app.register(wsTicketRoutes)
  if (config.SMS_PROVIDER === 'dev' && isDevMode(config)) {
    await app.register(devSmsRoutes, { redis: opts.redis, keys: opts.keys, region: config.DEFAULT_REGION })
  }
}
