import { DEV_TICKET_SECRET } from '@herald/contracts'
import { loadConfig, serviceConfigSchema } from '@herald/service-kit'
import { type Static, Type } from 'typebox'

const int = (min: number, dflt: number, description: string, max?: number) =>
  Type.Integer({ minimum: min, default: dflt, description, ...(max === undefined ? {} : { maximum: max }) })

export const GatewayConfig = serviceConfigSchema({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
  /** HS256 key of WebSocket tickets, the same as auth's; required unless HERALD_DEV=1 (the dev default only then). */
  TICKET_SECRET: Type.String({ minLength: 16, default: DEV_TICKET_SECRET }),
  /** comma-separated; empty: any Origin (or none) is accepted */
  ALLOWED_ORIGINS: Type.String({ default: '' }),
  MAX_PAYLOAD_BYTES: int(256, 64 * 1024, 'largest client frame; larger closes 1009'),
  MAX_CONNECTIONS_PER_USER: int(
    0,
    10,
    'live sockets per user across the cluster (0: no cap); the next is refused 1008',
  ),
  MAX_SOCKETS: int(1, 20_000, 'sockets this replica admits; more are closed 1013 with a retry hint'),
  ADMISSION_RETRY_AFTER_SECONDS: int(1, 5, 'the retry hint sent with an admission refusal'),
  SLOW_CONSUMER_BYTES: int(1024, 1024 * 1024, 'bytes queued for a socket before it is closed 1013'),
  PING_INTERVAL_MS: int(
    50,
    25_000,
    'ping period (WebSocket pings, SSE comment lines; each socket once, in up to 10 slices spread over it); two missed pongs terminate the connection',
  ),
  PINGS_PER_TURN: int(
    1,
    2000,
    'the most pings one slice of PING_INTERVAL_MS writes: a replica holding more spreads them over 2, 5 or 10 slices, one holding fewer pings every socket in one turn',
    100_000,
  ),
  SSE_RETRY_MS: int(
    0,
    1000,
    'the `retry:` an event stream (/sse) starts with: how long an EventSource waits to reconnect',
  ),
  HEARTBEAT_INTERVAL_MS: int(50, 5_000, 'presence heartbeat and reaping period'),
  REPLICA_TTL_MS: int(100, 15_000, 'a replica whose heartbeat is this late is dead'),
  SESSION_TOUCH_INTERVAL_MS: int(50, 60_000, 'how often open sockets keep their sessions alive'),
  STREAM_BLOCK_MS: int(10, 5_000, 'XREAD BLOCK timeout'),
  STREAM_BATCH: int(1, 500, 'XREAD COUNT'),
  ACK_BATCH_MS: int(
    0,
    100,
    "how long a client's ack may wait to be recorded with the others of its window (one script per partition); 0: each at once",
    1000,
  ),
  FRAME_RATE_PER_SECOND: int(1, 20, 'client frames per second per socket (token bucket refill)'),
  FRAME_BURST: int(1, 40, 'client frame burst per socket (token bucket size)'),
  MAX_BAD_FRAMES: int(1, 5, 'invalid client frames before the socket is closed 1008'),
  REPLAY_PAGE_SIZE: int(1, 1000, 'messages per inbox read during a replay'),
  REPLAY_BUFFER_MAX: int(1, 10_000, 'live frames held for a socket while it replays; more closes it 1013'),
  DRAIN_TIMEOUT_MS: int(0, 5_000, 'how long a drain waits for clients to acknowledge the 1012 close'),
  INBOX_MAX_ITEMS: int(1, 1000, 'the inbox count bound (same as the notifier)'),
  INBOX_RETENTION_SECONDS: int(60, 7 * 24 * 3600, 'the inbox age bound (same as the notifier)'),
})
export type GatewayConfig = Static<typeof GatewayConfig>

/** Validates the environment once: outside dev mode the ticket secret must be set and strong (loadConfig); production refuses the dev one in any case. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = loadConfig(GatewayConfig, env)
  if (config.NODE_ENV === 'production' && config.TICKET_SECRET === DEV_TICKET_SECRET) {
    throw new Error('Invalid configuration: TICKET_SECRET must be set in production (the dev default is refused)')
  }
  return config
}

export function allowedOrigins(config: GatewayConfig): Set<string> {
  return new Set(
    config.ALLOWED_ORIGINS.split(',')
      .map((s) => s.trim().replace(/\/$/, ''))
      .filter(Boolean),
  )
}
