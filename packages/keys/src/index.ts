/**
 * Every Redis key herald uses is built here, and nowhere else.
 * `prefix` namespaces a deployment (and each test): `herald:` by default.
 *
 * No code path lists keys with KEYS or SCAN: every set of keys that must be
 * enumerated has an index key below.
 */
export const DEFAULT_PREFIX = 'herald:'

export function createKeys(prefix: string = DEFAULT_PREFIX) {
  const p = prefix
  return {
    prefix: p,

    // ---- auth: one-time codes
    /** hash {h: HMAC of the code, n: wrong tries}, TTL = code life */
    otp: (phone: string) => `${p}otp:${phone}`,
    /** string, TTL = resend cooldown */
    otpCooldown: (phone: string) => `${p}otp:cooldown:${phone}`,
    /** counter of failed checks across resends, TTL 1 h */
    otpFailures: (phone: string) => `${p}otp:failures:${phone}`,
    /** counter of codes sent to a phone on one UTC day (SMS-pumping budget) */
    otpDaily: (phone: string, day: string) => `${p}otp:daily:${day}:${phone}`,
    /** the last code sent by the dev SMS provider (never in production) */
    devSms: (phone: string) => `${p}dev:sms:${phone}`,
    /** key prefix of @fastify/rate-limit's Redis store */
    rateLimit: () => `${p}rl:`,

    // ---- users
    /** hash {id, phone (E.164), nickname, createdAt} */
    user: (userId: string) => `${p}user:${userId}`,
    /** hash E.164 phone → user id: the phone index */
    userPhones: () => `${p}users:by-phone`,
    /** set of every user id (for announcements to everyone) */
    users: () => `${p}users:all`,

    // ---- sessions
    /** hash SessionRecord, keyed by SHA-256 of the token (hex); TTL = sliding idle life */
    session: (tokenHash: string) => `${p}session:${tokenHash}`,
    /** hash session id → token hash: the user's sessions */
    userSessions: (userId: string) => `${p}user:${userId}:sessions`,
    /** string with TTL: a WebSocket ticket's jti, burned on first use */
    ticketUsed: (jti: string) => `${p}ticket:used:${jti}`,

    // ---- gateway presence
    /** hash connId → JSON {replica, device, sessionId, connectedAt}: the user's live connections */
    presence: (userId: string) => `${p}presence:${userId}`,
    /** sorted set replica → heartbeat deadline (epoch ms): the replicas, live and dead */
    replicas: () => `${p}replicas`,
    /** hash connId → userId: the connections a replica holds (to clean up after it dies) */
    replicaConnections: (replica: string) => `${p}replica:${replica}:connections`,
    /** hash userId → number of that user's connections on the replica */
    replicaUsers: (replica: string) => `${p}replica:${replica}:users`,
    /** integer: users with at least one connection in presence (kept by the presence scripts) */
    onlineUsers: () => `${p}presence-users`,

    // ---- delivery
    /** THE delivery stream every gateway reads */
    stream: () => `${p}stream:delivery`,
    /** string: the last cursor handed out (cursors are global and only grow) */
    cursor: () => `${p}cursor`,
    /** sorted set message id by cursor: the user's inbox */
    inbox: (userId: string) => `${p}inbox:${userId}`,
    /** hash message id → message JSON */
    inboxMessages: (userId: string) => `${p}inbox:${userId}:messages`,
    /** sorted set of unread message ids by cursor */
    inboxUnread: (userId: string) => `${p}inbox:${userId}:unread`,
    /** hash {trimmed: highest cursor removed by the count bound} */
    inboxMeta: (userId: string) => `${p}inbox:${userId}:meta`,
    /** set of user ids a message was written for (idempotency per (message, user)) */
    messageRecipients: (messageId: string) => `${p}message:${messageId}:recipients`,
    /** hash delivery receipt {userId, createdAt, deliveredAt, readAt} */
    messageReceipt: (messageId: string) => `${p}message:${messageId}:receipt`,
    /** set of connection/device ids that acked a message */
    messageDevices: (messageId: string) => `${p}message:${messageId}:devices`,

    // ---- notifier
    /** hash: the idempotency record of a business event, kept ≥ 24 h */
    event: (eventId: string) => `${p}event:${eventId}`,
    /** BullMQ's own key prefix (BullMQ appends `:<queue>:…`) */
    bullPrefix: () => `${p}bull`,
  }
}

export type Keys = ReturnType<typeof createKeys>
