import type { RedisClient } from '@herald/redis'
import { createServiceApp, keysFor, type ServiceApp } from '@herald/service-kit'
import type { AuthConfig } from './config'
import type { EventQueue } from './events'
import { rateLimitPlugin } from './plugins/rate-limit'
import { servicesPlugin } from './plugins/services'
import { sessionsPlugin } from './plugins/sessions'
import { ticketsPlugin } from './plugins/tickets'
import { authRoutes } from './routes'
import { createSmsProvider, type SmsProvider } from './sms'

export interface AuthDeps {
  /** the command connection (fails fast: a request gets 503, never hangs) */
  redis: RedisClient
  /** the producer of EVENTS_QUEUE (a BullMQ Queue with prefix keys.bullPrefix()) */
  queue: EventQueue
  /** pino destination; tests capture logs with it */
  logStream?: NodeJS.WritableStream
  /** replaces the provider SMS_PROVIDER names */
  smsProvider?: SmsProvider
  /** epoch ms @default Date.now */
  clock?: () => number
  /** false while draining: /readyz answers 503 */
  isReady?: () => boolean
}

/** The auth service: SMS-code login, Redis sessions and WebSocket tickets under `/auth`. */
export function buildApp(config: AuthConfig, deps: AuthDeps): ServiceApp {
  const app = createServiceApp({
    service: 'auth',
    config,
    redis: deps.redis,
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
    ...(deps.isReady ? { isReady: deps.isReady } : {}),
  })
  const keys = keysFor(config)
  const clock = deps.clock ?? Date.now
  const sms = deps.smsProvider ?? createSmsProvider(config, deps.redis, keys)
  if (sms.name === 'dev') {
    app.log.warn('SMS provider is "dev": codes are not sent, GET /auth/dev/sms/:phone shows them')
  }

  app.register(sessionsPlugin, {
    redis: deps.redis,
    keys,
    idleTtlSeconds: config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
  })
  app.register(servicesPlugin, { config, redis: deps.redis, keys, sms, queue: deps.queue, clock })
  app.register(rateLimitPlugin, { redis: deps.redis, keys })
  app.register(ticketsPlugin, { secret: config.TICKET_SECRET, clock })
  app.register(authRoutes, { prefix: '/auth', config, redis: deps.redis, keys })
  return app
}
