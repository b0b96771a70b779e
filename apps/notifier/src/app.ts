import { Inbox, Preferences } from '@herald/inbox'
import { ControlWriter, ReplicaDirectory } from '@herald/presence'
import { PushSubscriptions } from '@herald/push'
import type { RedisClient } from '@herald/redis'
import { createServiceApp, keysFor, type ServiceApp, SessionStore, sessionAuthPlugin } from '@herald/service-kit'
import { UserStore } from '@herald/users'
import { WebhookRegistry } from '@herald/webhooks'
import { type Catalog, createCatalog } from './catalog'
import { assertNotifierConfig, type NotifierConfig, pushModeOf, pushPolicyOf, vapidOf, webhookPolicyOf } from './config'
import { Deliverer } from './domain/deliver'
import { Durability } from './domain/durability'
import { EventRecords } from './domain/event-records'
import { EventIntake } from './domain/intake'
import { RevocationList } from './domain/revocations'
import { Stats } from './domain/stats'
import { cachedNicknames } from './domain/user-directory'
import { openApiPlugin } from './plugins/openapi'
import { serviceAuthPlugin } from './plugins/service-auth'
import { createPushQueue, PushEnqueuer, pushQueueOptionsOf } from './push/queue'
import { createEventsQueue } from './queue'
import { eventRoutes } from './routes/events'
import { inboxRoutes } from './routes/inbox'
import { messageRoutes } from './routes/messages'
import { preferenceRoutes } from './routes/preferences'
import { pushRoutes } from './routes/push'
import { statsRoutes } from './routes/stats'
import { userRoutes } from './routes/users'
import { webhookRoutes } from './routes/webhooks'
import { ReceiptHooks } from './webhooks/receipt-hooks'
import { CachedSubscribers } from './webhooks/subscribers'

export interface AppDeps {
  /** a `command`-role client (no offline queue): every HTTP-path call, the queue's producer included */
  redis: RedisClient
  /** pino destination (tests capture logs) */
  logStream?: NodeJS.WritableStream
  /** the event types; the built-in catalog by default */
  catalog?: Catalog
  /** false while draining: /readyz answers 503 */
  isReady?: () => boolean
}

/** The notifier's HTTP API: `/v1` for other systems, `/inbox` for browsers, `/docs`. */
export function buildApp(config: NotifierConfig, deps: AppDeps): ServiceApp {
  assertNotifierConfig(config)
  const { redis } = deps
  const keys = keysFor(config)
  const catalog = deps.catalog ?? createCatalog()
  const app = createServiceApp({
    service: 'notifier',
    config,
    redis,
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
    ...(deps.isReady ? { isReady: deps.isReady } : {}),
  })

  const queue = createEventsQueue(redis, keys)
  const records = new EventRecords(redis, keys, config.EVENT_IDEMPOTENCY_SECONDS)
  const intake = new EventIntake(config, queue, records)
  // one replica list for every routed write of this process
  const directory = new ReplicaDirectory(redis, keys)
  const inbox = new Inbox(
    redis,
    keys,
    {
      maxItems: config.INBOX_MAX_ITEMS,
      retentionSeconds: config.INBOX_RETENTION_SECONDS,
      streamMaxLen: config.STREAM_MAXLEN,
      push: pushModeOf(config),
    },
    directory,
  )
  const sessions = new SessionStore(redis, keys, {
    idleTtlSeconds: config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
  })
  const writer = new ControlWriter(redis, keys, config.STREAM_MAXLEN, directory)
  const stats = new Stats(redis, keys, queue)
  // The queue shares the caller's connection: closing it leaves that connection open.
  const pushQueue = createPushQueue(redis, keys)
  app.addHook('onClose', async () => {
    await queue.close()
    await pushQueue.close()
  })

  app.register(openApiPlugin, { catalog })
  app.register(serviceAuthPlugin, {
    secret: config.SERVICE_JWT_SECRET,
    ...(config.SERVICE_JWT_PREVIOUS_SECRET ? { previousSecret: config.SERVICE_JWT_PREVIOUS_SECRET } : {}),
    audience: config.SERVICE_JWT_AUDIENCE,
    maxTtlSeconds: config.SERVICE_TOKEN_MAX_TTL_SECONDS,
    revocations: new RevocationList(redis, keys, config.SERVICE_TOKEN_REVOCATION_CACHE_MS),
  })
  app.register(sessionAuthPlugin, { sessions })
  const durability = new Durability(
    redis,
    keys,
    { replicas: config.REDIS_WAIT_REPLICAS, timeoutMs: config.REDIS_WAIT_TIMEOUT_MS },
    app.log,
  )
  app.register(eventRoutes, { catalog, intake, durability })
  const webhookRegistry = new WebhookRegistry(redis, keys)
  const subscriptions = new PushSubscriptions(redis, keys, config.PUSH_MAX_SUBSCRIPTIONS)
  const hooks = new ReceiptHooks(new CachedSubscribers(webhookRegistry, config.WEBHOOK_SUBSCRIBERS_CACHE_MS))
  const deliverer = new Deliverer(
    cachedNicknames(new UserStore(redis, keys), config.NICKNAME_CACHE_MS),
    inbox,
    config.FANOUT_CHUNK_SIZE,
    catalog.mandatoryKinds,
    (source) => hooks.of(source),
    new PushEnqueuer(pushQueue, pushQueueOptionsOf(config)),
    (p, n) => subscriptions.subscriberPagesIn(p, n),
  )
  app.register(messageRoutes, {
    intake,
    durability,
    inbox,
    inline: { deliverer, records, maxRecipients: config.MESSAGES_INLINE_MAX_RECIPIENTS },
  })
  app.register(userRoutes, { redis, keys, writer })
  app.register(statsRoutes, { stats })
  app.register(inboxRoutes, { inbox })
  app.register(preferenceRoutes, { preferences: new Preferences(redis, keys), mandatoryKinds: catalog.mandatoryKinds })
  app.register(pushRoutes, {
    subscriptions,
    publicKey: vapidOf(config)?.publicKey ?? null,
    policy: pushPolicyOf(config),
    maxSubscriptions: config.PUSH_MAX_SUBSCRIPTIONS,
  })
  app.register(webhookRoutes, {
    registry: webhookRegistry,
    policy: webhookPolicyOf(config),
    maxEndpoints: config.WEBHOOK_MAX_ENDPOINTS,
  })
  return app
}
