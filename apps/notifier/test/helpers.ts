import { Inbox, messageIdIn } from '@herald/inbox'
import type { Keys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { configWithDefaults, createRedis, keysFor, SessionStore, waitReady } from '@herald/service-kit'
import { testRedisUrl, uniquePrefix } from '@herald/test-utils'
import { UserStore } from '@herald/users'
import { buildApp } from '../src/app'
import type { Catalog } from '../src/catalog'
import { NotifierConfig } from '../src/config'
import { deliveryIdFor, messageIdFor } from '../src/domain/ids'
import { signServiceToken } from '../src/service-token'
import { type NotifierWorker, startWorker } from '../src/worker'

/** Users a gateway replica 'gw' holds in every harness. */
export const ONLINE = ['u1', 'u2']

/**
 * The message id an event becomes for a user (with the user's partition), as the API answers
 * it. Event ids are per calling system (`source`, the token's sub); a POST /v1/messages
 * request id (`msg_…`) is caller-scoped already.
 */
export function idFor(eventId: string, userId: string, keys: Keys, source = 'test-system'): string {
  const delivery = deliveryIdFor({ id: eventId, source }, eventId.startsWith('msg_'))
  return messageIdIn(messageIdFor(delivery, userId), keys.partitionOf(userId))
}

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
  redis: RedisClient
  app: ReturnType<typeof buildApp>
  token(scope?: string, opts?: { sub?: string; ttlSeconds?: number; now?: number }): string
  auth(scope?: string): { authorization: string }
  startWorker(overrides?: Partial<NotifierConfig>): NotifierWorker
  /** the stream entries for the users a gateway replica 'gw' holds (ONLINE), oldest first */
  entries(): Promise<[string, string[]][]>
  /** adds users to the users sets (what auth does on a first login) */
  addUsers(...ids: string[]): Promise<void>
  /** another API replica on the same Redis and prefix */
  replica(): Promise<ReturnType<typeof buildApp>>
  close(): Promise<void>
}

export async function harness(
  overrides: Partial<NotifierConfig> = {},
  opts: { catalog?: Catalog; online?: string[] } = {},
): Promise<Harness> {
  const config = testConfig(overrides)
  const keys = keysFor(config)
  const redis = createRedis(config.REDIS_URL, 'command', 'test-api')
  await waitReady(redis)
  // a gateway replica holding a socket of each ONLINE user: their entries go to its streams
  const gw = new PresenceWriter(redis, keys, { replica: 'gw' })
  if ((opts.online ?? ONLINE).length > 0) await gw.heartbeat()
  const rec = { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() }
  for (const u of opts.online ?? ONLINE) await gw.connect(`conn-${u}`, u, rec)
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
    async entries() {
      const all = await Promise.all(
        keys
          .allPartitions()
          .map((p) => redis.xrange(keys.gatewayStream(p, 'gw'), '-', '+') as Promise<[string, string[]][]>),
      )
      return all.flat().sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
    },
    async addUsers(...ids) {
      // signed up a moment ago: a message to everyone sent from now on is owed to them
      const users = new UserStore(redis, keys)
      await Promise.all(ids.map((id) => users.ensure(id, '+15550000000', id, Date.now() - 1)))
    },
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

/**
 * The inbox items of a user, oldest first (what GET /inbox would page): read through the inbox,
 * which first takes in the messages to everyone the user is owed.
 */
export async function inboxIds(redis: RedisClient, keys: Keys, userId: string): Promise<string[]> {
  await new Inbox(redis, keys).counts(userId)
  return redis.zrange(keys.inbox(userId), 0, -1)
}

/** A session for `userId` (what a login creates): the headers of its requests to /inbox. */
export async function signIn(h: Pick<Harness, 'redis' | 'keys' | 'config'>, userId: string) {
  const sessions = new SessionStore(h.redis, h.keys, {
    idleTtlSeconds: h.config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: h.config.SESSION_MAX_AGE_SECONDS,
  })
  const { token } = await sessions.create({ userId, nickname: 'Ann', phone: '+86138****5678', device: 'laptop' })
  return { authorization: `Bearer ${token}` }
}
