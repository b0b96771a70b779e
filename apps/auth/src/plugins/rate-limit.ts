import rateLimit from '@fastify/rate-limit'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AuthErrors } from '../errors'

export interface RateLimitPluginOptions {
  redis: RedisClient
  keys: Keys
}

/**
 * Per-IP limits kept in Redis, so they hold across replicas. Only routes that set
 * `config.rateLimit` are limited. The check runs as a preHandler: a request that fails
 * validation changes nothing in Redis, not even a counter. `request.ip` honours TRUST_PROXY.
 */
export const rateLimitPlugin = fp<RateLimitPluginOptions>(
  async (app: FastifyInstance, opts) => {
    await app.register(rateLimit, {
      global: false,
      redis: opts.redis,
      nameSpace: opts.keys.rateLimit(),
      hook: 'preHandler',
      timeWindow: 60_000,
      errorResponseBuilder: (_req, ctx) => new AuthErrors.TooManyRequests(Math.max(1, Math.ceil(ctx.ttl / 1000))),
    })
  },
  { fastify: '5.x', name: 'auth-rate-limit' },
)
