import { createKeys, type Keys } from '@herald/keys'
import { configWithDefaults, createRedis, waitReady } from '@herald/service-kit'
import { testRedisUrl, uniquePrefix } from '@herald/test-utils'
import type { Redis } from 'ioredis'
import { buildApp } from '../src/app'
import type { Catalog } from '../src/catalog'
import { NotifierConfig } from '../src/config'
import { signServiceToken } from '../src/service-token'
import { type NotifierWorker, startWorker } from '../src/worker'

export const ALL_SCOPES = 'events:write messages:write presence:read users:disconnect stats:read'

export function testConfig(overrides: Partial<NotifierConfig> = {}): NotifierConfig {
  return configWithDefaults(NotifierConfig, {
    KEY_PREFIX: uniquePrefix('notifier'),
    LOG_LEVEL: 'silent',
    REDIS_URL: testRedisUrl(),
    JOB_BACKOFF_MS: 50,
    ...overrides,
  })
}

/** Everything a test needs, built the way main.ts and worker-main.ts build it; `close()` ends it all. */
export interface Harness {
  config: NotifierConfig
  keys: Keys
  redis: Redis
  app: ReturnType<typeof buildApp>
  token(scope?: string, opts?: { sub?: string; ttlSeconds?: number; now?: number }): string
  auth(scope?: string): { authorization: string }
  startWorker(overrides?: Partial<NotifierConfig>): NotifierWorker
  /** another API replica on the same Redis and prefix */
  replica(): Promise<ReturnType<typeof buildApp>>
  close(): Promise<void>
}

export async function harness(
  overrides: Partial<NotifierConfig> = {},
  opts: { catalog?: Catalog } = {},
): Promise<Harness> {
  const config = testConfig(overrides)
  const keys = createKeys(config.KEY_PREFIX)
  const redis = createRedis(config.REDIS_URL, 'command', 'test-api')
  await waitReady(redis)
  const closers: Array<() => Promise<unknown>> = []
  const app = buildApp(config, { redis, ...(opts.catalog ? { catalog: opts.catalog } : {}) })
  closers.push(() => app.close())
  await app.ready()
  const token: Harness['token'] = (scope = ALL_SCOPES, o = {}) =>
    signServiceToken(
      { secret: config.SERVICE_JWT_SECRET, audience: config.SERVICE_JWT_AUDIENCE },
      { sub: o.sub ?? 'test-system', scope, ttlSeconds: o.ttlSeconds ?? 300 },
      o.now,
    )
  return {
    config,
    keys,
    redis,
    app,
    token,
    auth: (scope) => ({ authorization: `Bearer ${token(scope)}` }),
    startWorker(workerOverrides = {}) {
      const conn = createRedis(config.REDIS_URL, 'worker', 'test-worker')
      const w = startWorker(
        { ...config, ...workerOverrides },
        { redis: conn, ...(opts.catalog ? { catalog: opts.catalog } : {}) },
      )
      closers.unshift(async () => {
        await w.close()
        await conn.quit()
      })
      return w
    },
    async replica() {
      const r = createRedis(config.REDIS_URL, 'command', 'test-api-2')
      await waitReady(r)
      const other = buildApp(config, { redis: r, ...(opts.catalog ? { catalog: opts.catalog } : {}) })
      closers.unshift(async () => {
        await other.close()
        await r.quit()
      })
      await other.ready()
      return other
    },
    async close() {
      for (const c of closers) await c()
      await redis.quit()
    },
  }
}

/** The inbox items of a user, straight from Redis (what GET /inbox would page). */
export async function inboxIds(redis: Redis, keys: Keys, userId: string): Promise<string[]> {
  return redis.zrange(keys.inbox(userId), 0, -1)
}
