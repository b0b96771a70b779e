import { Inbox } from '@herald/inbox'
import { PresenceWriter, ReplicaDirectory } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { createServiceApp, keysFor, replicaName, type ServiceApp, SessionStore } from '@herald/service-kit'
import type { FastifyInstance } from 'fastify'
import { AckBatcher } from './ack-batcher'
import { Authenticator } from './auth'
import { allowedOrigins, type GatewayConfig } from './config'
import { createGatewayMetrics } from './metrics'
import { gatewayPlugin } from './plugins/gateway'
import { ticketPlugin } from './plugins/ticket'
import { websocketPlugin } from './plugins/websocket'
import { framesRoutes } from './routes/frames'
import { sseRoutes } from './routes/sse'
import { wsRoutes } from './routes/ws'

export interface GatewayAppDeps {
  /** command connection: presence, sessions, inbox, tickets */
  redis: RedisClient
  /** makes a dedicated client for one blocking stream reader (one per partition; the gateway closes them) */
  readerClient: () => RedisClient
  /** a pino destination (tests capture logs with it) */
  logStream?: NodeJS.WritableStream
}

export const SERVICE = 'gateway'

/** The gateway service. Call `listen()` (or `ready()`) to start it; `close()` drains it. */
export async function buildApp(config: GatewayConfig, deps: GatewayAppDeps): Promise<ServiceApp> {
  const keys = keysFor(config)
  const replica = replicaName(config, SERVICE)
  const app: ServiceApp = createServiceApp({
    service: SERVICE,
    config,
    redis: deps.redis,
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
    // the gateway decorator exists by the time anyone asks
    isReady: () => app.gateway?.accepting ?? false,
  })
  const sessions = new SessionStore(deps.redis, keys, {
    idleTtlSeconds: config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
  })
  const inbox = new Inbox(
    deps.redis,
    keys,
    {
      maxItems: config.INBOX_MAX_ITEMS,
      retentionSeconds: config.INBOX_RETENTION_SECONDS,
      streamMaxLen: config.STREAM_MAXLEN,
    },
    new ReplicaDirectory(deps.redis, keys),
  )
  const acks = new AckBatcher(inbox, config.ACK_BATCH_MS)
  const root = app as unknown as FastifyInstance
  await root.register(ticketPlugin, { secret: config.TICKET_SECRET })
  const authenticator = new Authenticator({
    redis: deps.redis,
    keys,
    sessions,
    verifyTicket: (ticket) => root.jwt.verify(ticket),
  })
  const metrics = createGatewayMetrics(app.metrics)
  await root.register(websocketPlugin, { maxPayload: config.MAX_PAYLOAD_BYTES })
  await root.register(gatewayPlugin, {
    config,
    keys,
    replica,
    redis: deps.redis,
    readerClient: deps.readerClient,
    inbox,
    acks,
    sessions,
    presence: new PresenceWriter(deps.redis, keys, { replica, replicaTtlMs: config.REPLICA_TTL_MS }),
    authenticator,
    metrics,
  })
  const origins = allowedOrigins(config)
  await root.register(wsRoutes, { allowedOrigins: origins })
  await root.register(sseRoutes, { allowedOrigins: origins, retryMs: config.SSE_RETRY_MS, streams: metrics.sseStreams })
  await root.register(framesRoutes, {
    inbox,
    acks,
    sessions,
    limits: { ratePerSecond: config.FRAME_RATE_PER_SECOND, burst: config.FRAME_BURST },
  })
  return app
}
