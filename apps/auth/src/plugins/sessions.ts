import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { SessionStore, sessionAuthPlugin } from '@herald/service-kit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
  }
}

export interface SessionsPluginOptions {
  redis: RedisClient
  keys: Keys
  idleTtlSeconds: number
  maxAgeSeconds: number
}

/** The session store, and the one hook that reads and refreshes a session token on every route. */
export const sessionsPlugin = fp<SessionsPluginOptions>(
  async (app: FastifyInstance, opts) => {
    const sessions = new SessionStore(opts.redis, opts.keys, {
      idleTtlSeconds: opts.idleTtlSeconds,
      maxAgeSeconds: opts.maxAgeSeconds,
    })
    app.decorate('sessions', sessions)
    await app.register(sessionAuthPlugin, { sessions })
  },
  { fastify: '5.x', name: 'auth-sessions' },
)
