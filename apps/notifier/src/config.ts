import type { VapidConfig } from '@herald/push'
import { ConfigError, isDevMode, loadConfig, serviceConfigSchema } from '@herald/service-kit'
import { type TargetPolicy, targetPolicy } from '@herald/webhooks'
import { type Static, Type } from 'typebox'

export const DEV_SERVICE_JWT_SECRET = 'dev-service-secret-change-me'

/** The notifier's config (API and worker read the same one). */
export const NotifierConfig = serviceConfigSchema({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3003 }),
  /** HS256 key of service tokens (required unless HERALD_DEV=1). */
  SERVICE_JWT_SECRET: Type.String({ minLength: 16, default: DEV_SERVICE_JWT_SECRET }),
  /**
   * The secret SERVICE_JWT_SECRET replaces, during a rotation: tokens it signed (their `kid`
   * names it) are still accepted until it is removed. Empty: none.
   */
  SERVICE_JWT_PREVIOUS_SECRET: Type.String({ default: '' }),
  /** Longest life (`exp` − `iat`) of a service token that is accepted (365 days). */
  SERVICE_TOKEN_MAX_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 365 * 86_400, default: 365 * 86_400 }),
  /** How long a replica trusts its copy of the revoked-token list before reading it again. */
  SERVICE_TOKEN_REVOCATION_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2000 }),
  /** `aud` every service token must carry. */
  SERVICE_JWT_AUDIENCE: Type.String({ minLength: 1, default: 'herald' }),
  /** HTTP port of the worker's /healthz, /readyz and /metrics (0: any free port, logged at start). */
  WORKER_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  /** Jobs one worker process runs at once. */
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 16 }),
  /**
   * Most events one queue job carries. Events accepted while the replica's previous add to the
   * queue is in flight go together as one job (each keeps its own record, retries and
   * webhooks): BullMQ's cost per job is paid once per batch. 1: a job per event.
   */
  EVENT_BATCH_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  /** Most messages kept per user. */
  INBOX_MAX_ITEMS: Type.Integer({ minimum: 1, default: 1000 }),
  /** Age bound of a user's messages (7 days). */
  INBOX_RETENTION_SECONDS: Type.Integer({ minimum: 1, default: 7 * 24 * 3600 }),
  /** How long an event id is remembered after it was accepted (or done): a repeat is answered 200. */
  EVENT_IDEMPOTENCY_SECONDS: Type.Integer({ minimum: 60, default: 86_400 }),
  /** How far ahead `deliverAt` may be (30 days); further is refused with 400 DELIVER_AT_TOO_FAR. */
  DELIVER_AT_MAX_SECONDS: Type.Integer({ minimum: 60, maximum: 365 * 86_400, default: 30 * 86_400 }),
  /** Attempts per job (first run included) before it is failed for good. */
  JOB_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  /** First retry delay; doubles on every attempt (exponential backoff). */
  JOB_BACKOFF_MS: Type.Integer({ minimum: 0, default: 1000 }),
  /** Job lock: a worker that stops renewing it (crashed, kill -9) loses the job after this. */
  JOB_LOCK_MS: Type.Integer({ minimum: 500, default: 10_000 }),
  /** How often workers look for jobs whose lock expired (stalled) and put them back. */
  JOB_STALLED_INTERVAL_MS: Type.Integer({ minimum: 500, default: 5_000 }),
  /** How long completed push and webhook jobs stay in BullMQ (their ids dedupe a repeat); an event job goes when done. */
  JOB_KEEP_COMPLETED_SECONDS: Type.Integer({ minimum: 0, default: 3600 }),
  /** How long failed jobs stay in BullMQ for inspection. */
  JOB_KEEP_FAILED_SECONDS: Type.Integer({ minimum: 0, default: 7 * 24 * 3600 }),
  /**
   * `POST /v1/messages` to at most this many users, without `deliverAt` or `Idempotency-Key`,
   * is written by the API itself (one pipeline) instead of through the queue: lower latency,
   * a fraction of the cost. 0 sends every message through the queue.
   */
  MESSAGES_INLINE_MAX_RECIPIENTS: Type.Integer({ minimum: 0, maximum: 1000, default: 100 }),
  /**
   * Replicas that must hold an accepted event or a written message before the API answers
   * (Redis WAIT): 1 on Sentinel or Cluster, where a failover promotes a replica and
   * asynchronous replication could otherwise lose the last writes. 0: answer at once.
   */
  REDIS_WAIT_REPLICAS: Type.Integer({ minimum: 0, maximum: 5, default: 0 }),
  /** Longest wait for REDIS_WAIT_REPLICAS, in ms; the answer is sent after it either way (and counted). */
  REDIS_WAIT_TIMEOUT_MS: Type.Integer({ minimum: 1, maximum: 5000, default: 250 }),
  /**
   * Users per Lua call when one message goes to many users. A message to everyone reads each
   * partition's users in pages of 4 chunks and writes 4 partitions at a time.
   */
  FANOUT_CHUNK_SIZE: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
  /** Webhook endpoints one calling system may register (`POST /v1/webhooks` answers 400 TOO_MANY_WEBHOOKS past it). */
  WEBHOOK_MAX_ENDPOINTS: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /**
   * Allow webhook targets on loopback, private, link-local and other non-public addresses
   * (SSRF guard off: local stacks and tests only).
   */
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /** Allow `http://` webhook URLs (https only otherwise). */
  WEBHOOK_ALLOW_HTTP: Type.Boolean({ default: false }),
  /** Comma-separated CIDR ranges webhook targets may be in although private (e.g. `10.20.0.0/16`). */
  WEBHOOK_ALLOWED_CIDRS: Type.String({ default: '' }),
  /** Deadline of one webhook delivery attempt (connect, send, response headers). */
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 30_000, default: 5000 }),
  /** Attempts per webhook delivery (first included) before it is given up. */
  WEBHOOK_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
  /** First webhook retry delay; doubles on every attempt. */
  WEBHOOK_BACKOFF_MS: Type.Integer({ minimum: 0, default: 5000 }),
  /** Failed attempts in a row (any deliveries of the endpoint) that disable a webhook endpoint. */
  WEBHOOK_DISABLE_AFTER_FAILURES: Type.Integer({ minimum: 1, maximum: 100_000, default: 100 }),
  /** Delivery attempts kept per endpoint for `GET /v1/webhooks/:id/deliveries`. */
  WEBHOOK_LOG_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** Webhook deliveries one worker process sends at once. */
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 200, default: 8 }),
  /** How often the worker reads the partitions' webhook outboxes (first acks, first reads). */
  WEBHOOK_OUTBOX_POLL_MS: Type.Integer({ minimum: 20, maximum: 60_000, default: 500 }),
  /**
   * How long a user's nickname, once read for a message's text (chat.message's "Message from …"),
   * is used again before it is read anew: a rename shows in new messages at most this much later. 0: read for every event.
   */
  NICKNAME_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 5000 }),
  /** How long the worker trusts its copy of a caller's subscribed endpoints before reading them again. */
  WEBHOOK_SUBSCRIBERS_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2000 }),
  /**
   * VAPID public key (base64url, 65 bytes) of Web Push: the browsers' applicationServerKey.
   * Empty (with the private key): Web Push is off. `pnpm run vapid-keys` prints a pair.
   */
  PUSH_VAPID_PUBLIC_KEY: Type.String({ default: '' }),
  /** VAPID private key (base64url, 32 bytes) that signs every push; set with the public key, never logged. */
  PUSH_VAPID_PRIVATE_KEY: Type.String({ default: '' }),
  /** The contact push services see in VAPID's `sub` claim: a `mailto:` or `https:` URL. */
  PUSH_VAPID_SUBJECT: Type.String({ pattern: '^(mailto:|https:)', default: 'mailto:push@herald.invalid' }),
  /** Web Push subscriptions one user may hold (POST /inbox/push-subscriptions answers 400 past it). */
  PUSH_MAX_SUBSCRIPTIONS: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /** How long a push service keeps a message for a browser that is offline (the TTL header), in seconds. */
  PUSH_TTL_SECONDS: Type.Integer({ minimum: 0, maximum: 28 * 86_400, default: 86_400 }),
  /** Urgency header of pushes (RFC 8030): very-low, low, normal or high; security notices are always high. */
  PUSH_URGENCY: Type.Union(
    [Type.Literal('very-low'), Type.Literal('low'), Type.Literal('normal'), Type.Literal('high')],
    { default: 'normal' },
  ),
  /**
   * Also push a message that is still undelivered (no device acked it) this long after it was
   * written for a user who was online then; 0: only users with no live connection are pushed.
   */
  PUSH_UNDELIVERED_AFTER_MS: Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, default: 0 }),
  /** Attempts per push to one subscription (first included); 429 and 5xx answers and network errors are retried. */
  PUSH_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  /** First push retry delay (doubles on every attempt; a longer Retry-After wins). */
  PUSH_BACKOFF_MS: Type.Integer({ minimum: 0, default: 2000 }),
  /** Deadline of one push attempt. */
  PUSH_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 30_000, default: 5000 }),
  /** Pushes one worker process sends at once. */
  PUSH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 200, default: 8 }),
  /** Allow push endpoints on loopback and private addresses (SSRF guard off: local stacks and tests only). */
  PUSH_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /** Extra time each job stays open after it delivered, before it completes: for chaos tests and demos only. */
  WORKER_HANDLER_DELAY_MS: Type.Integer({ minimum: 0, default: 0 }),
})
export type NotifierConfig = Static<typeof NotifierConfig>

/**
 * Refuses what would be unsafe to run with, naming the variable. loadConfig has checked the
 * secrets of an environment; this re-checks a config built another way (buildApp's callers).
 */
export function assertNotifierConfig(config: NotifierConfig): NotifierConfig {
  if (!isDevMode(config) && config.SERVICE_JWT_SECRET === DEV_SERVICE_JWT_SECRET) {
    throw new ConfigError('SERVICE_JWT_SECRET', 'is the public dev value; it is allowed only with HERALD_DEV=1')
  }
  webhookPolicyOf(config)
  vapidOf(config)
  return config
}

/**
 * The VAPID identity of Web Push, or null when no key is set (push off: fail closed). One key
 * without the other, or a key of the wrong length, fails start-up.
 */
export function vapidOf(
  config: Pick<NotifierConfig, 'PUSH_VAPID_PUBLIC_KEY' | 'PUSH_VAPID_PRIVATE_KEY' | 'PUSH_VAPID_SUBJECT'>,
): VapidConfig | null {
  const { PUSH_VAPID_PUBLIC_KEY: publicKey, PUSH_VAPID_PRIVATE_KEY: privateKey } = config
  if (!publicKey && !privateKey) return null
  const bytes = (v: string) => (/^[A-Za-z0-9_-]+$/.test(v) ? Buffer.from(v, 'base64url').length : -1)
  if (bytes(publicKey) !== 65)
    throw new ConfigError('PUSH_VAPID_PUBLIC_KEY', 'must be a base64url P-256 public key (65 bytes)')
  if (bytes(privateKey) !== 32)
    throw new ConfigError('PUSH_VAPID_PRIVATE_KEY', 'must be a base64url P-256 private key (32 bytes)')
  return { subject: config.PUSH_VAPID_SUBJECT, publicKey, privateKey }
}

/** What deliveries tell of Web Push (InboxOptions.push): off without VAPID keys. */
export function pushModeOf(
  config: Pick<
    NotifierConfig,
    'PUSH_VAPID_PUBLIC_KEY' | 'PUSH_VAPID_PRIVATE_KEY' | 'PUSH_VAPID_SUBJECT' | 'PUSH_UNDELIVERED_AFTER_MS'
  >,
): 'off' | 'offline' | 'undelivered' {
  if (!vapidOf(config)) return 'off'
  return config.PUSH_UNDELIVERED_AFTER_MS > 0 ? 'undelivered' : 'offline'
}

/** The SSRF policy of push endpoints (https only; private addresses only when allowed). */
export function pushPolicyOf(config: Pick<NotifierConfig, 'PUSH_ALLOW_PRIVATE'>): TargetPolicy {
  return targetPolicy({ allowPrivate: config.PUSH_ALLOW_PRIVATE, allowHttp: false, cidrs: '' })
}

/** The SSRF policy of webhook targets; an invalid WEBHOOK_ALLOWED_CIDRS fails start-up. */
export function webhookPolicyOf(
  config: Pick<NotifierConfig, 'WEBHOOK_ALLOW_PRIVATE' | 'WEBHOOK_ALLOW_HTTP' | 'WEBHOOK_ALLOWED_CIDRS'>,
): TargetPolicy {
  try {
    return targetPolicy({
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      allowHttp: config.WEBHOOK_ALLOW_HTTP,
      cidrs: config.WEBHOOK_ALLOWED_CIDRS,
    })
  } catch (err) {
    throw new ConfigError('WEBHOOK_ALLOWED_CIDRS', (err as Error).message)
  }
}

export function loadNotifierConfig(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  return assertNotifierConfig(loadConfig(NotifierConfig, env))
}

/**
 * The worker's config: the notifier's without the service-token settings. The worker never
 * checks a service token, so it is not given the secret that mints them.
 */
export const WorkerConfig = Type.Omit(NotifierConfig, [
  'SERVICE_JWT_SECRET',
  'SERVICE_JWT_PREVIOUS_SECRET',
  'SERVICE_JWT_AUDIENCE',
  'SERVICE_TOKEN_MAX_TTL_SECONDS',
  'SERVICE_TOKEN_REVOCATION_CACHE_MS',
])
export type WorkerConfig = Static<typeof WorkerConfig>

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const config = loadConfig(WorkerConfig, env)
  webhookPolicyOf(config)
  return config
}
