/**
 * Every Redis key herald uses is built here, and nowhere else.
 * `prefix` namespaces a deployment (and each test): `herald:` by default.
 *
 * One layout for a single Redis, Sentinel and Redis Cluster: every set of keys that a
 * script or a MULTI touches together shares a hash tag, so it lives in one slot.
 * - A user belongs to partition `partitionOf(userId)` of `partitions` (REDIS_PARTITIONS);
 *   the user's record, sessions, presence, inbox, messages and receipts carry the
 *   partition's tag, and so do the partition's cursor, users set and gateway streams.
 * - Per-phone keys (codes, cooldown, failures, budgets, phone → user) share the phone's tag.
 * - BullMQ's prefix is a hash tag: a queue lives in one slot.
 *
 * No code path lists keys with KEYS or SCAN: every set of keys that must be enumerated has
 * an index key below. No Lua script builds a key name: callers pass every key in KEYS.
 */
import calculateSlot from 'cluster-key-slot'

export const DEFAULT_PREFIX = 'herald:'
/** Redis Cluster's slot count. */
const SLOTS = 16384
/** Upper bound of REDIS_PARTITIONS (each gateway runs one blocking reader per partition). */
export const MAX_PARTITIONS = 256

/** FNV-1a 32-bit: a stable, fast string hash (the partition of a user or a token hash). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The hash tag of each partition, chosen so partition i's slot falls in the i-th of P equal
 * slot ranges: partitions spread evenly over the primaries of a cluster whose slots were
 * assigned evenly (as `redis-cli --cluster create` does). Deterministic: every service and
 * every release computes the same tags.
 */
function partitionTags(partitions: number): string[] {
  const tags: string[] = []
  for (let i = 0; i < partitions; i++) {
    const lo = Math.floor((i * SLOTS) / partitions)
    const hi = Math.floor(((i + 1) * SLOTS) / partitions)
    let found = ''
    for (let n = 0; n < 1_000_000 && !found; n++) {
      const tag = n === 0 ? `p${i}` : `p${i}.${n}`
      const slot = calculateSlot(tag)
      if (slot >= lo && slot < hi) found = tag
    }
    tags.push(found)
  }
  return tags
}

export function createKeys(prefix: string = DEFAULT_PREFIX, partitions = 1) {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new Error(`partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`)
  }
  const p = prefix
  const tags = partitionTags(partitions)
  const partitionOf = (id: string): number => (partitions === 1 ? 0 : fnv1a(id) % partitions)
  /** `herald:{p3}:` — the start of every key of partition `i` */
  const part = (i: number) => `${p}{${tags[i]}}:`
  const ofUser = (userId: string) => part(partitionOf(userId))
  const ofPhone = (phone: string) => `${p}{ph:${phone}}:`
  /** aroundUser's answers, per builder and partition: worked out once */
  const around = new WeakMap<(userId: string) => string, Map<number, [string, string]>>()

  return {
    prefix: p,
    partitions,
    /** the partition of a user id (or of a session's token hash) */
    partitionOf,
    /** every partition number, 0 … partitions-1 */
    allPartitions: (): number[] => Array.from({ length: partitions }, (_, i) => i),
    /** the hash tag of a partition, without braces (for tests and tooling) */
    partitionTag: (i: number): string => tags[i] as string,
    /**
     * What surrounds the user id in a user key of partition `i` (`build`: one of the user-key
     * builders below): `before + userId + after` is `build(userId)` for every user of the
     * partition. A script over many users builds their keys from these and the ids, so a call
     * carries one id per user, not every key of every user (all of them are in the partition's
     * slot, which the script's declared keys route to). Worked out once per builder and
     * partition, then kept.
     */
    aroundUser: (i: number, build: (userId: string) => string): [string, string] => {
      let byPartition = around.get(build)
      if (!byPartition) {
        byPartition = new Map()
        around.set(build, byPartition)
      }
      let parts = byPartition.get(i)
      if (!parts) {
        const probe = '\u0000'
        const start = part(partitionOf(probe))
        const key = build(probe)
        const at = key.indexOf(probe, start.length)
        if (!key.startsWith(start) || at < 0 || key.indexOf(probe, at + 1) >= 0) {
          throw new Error(`not a user key of the user's partition: ${JSON.stringify(key)}`)
        }
        parts = [part(i) + key.slice(start.length, at), key.slice(at + probe.length)]
        byPartition.set(i, parts)
      }
      return parts
    },

    // ---- auth: one-time codes, per phone (all in the phone's slot)
    /** hash {h: HMAC of the code, n: wrong tries}, TTL = code life */
    otp: (phone: string) => `${ofPhone(phone)}otp`,
    /** string, TTL = resend cooldown */
    otpCooldown: (phone: string) => `${ofPhone(phone)}otp:cooldown`,
    /** counter of failed checks across resends, TTL 1 h */
    otpFailures: (phone: string) => `${ofPhone(phone)}otp:failures`,
    /**
     * counter: codes sent to a phone on one UTC day at the request of one client address
     * (`requester`, a hash of it) — the per-phone budget, so a stranger burning it from their
     * address leaves the owner's own budget whole. In the phone's slot.
     */
    otpDailyFrom: (phone: string, day: string, requester: string) => `${ofPhone(phone)}otp:daily:${day}:${requester}`,
    /** hash country (ISO) → codes sent that UTC day, and `*` → all countries: the SMS spend ceiling */
    smsSpend: (day: string) => `${p}{sms}:spend:${day}`,
    /** the last code sent by the dev SMS provider (never in production) */
    devSms: (phone: string) => `${ofPhone(phone)}dev:sms`,
    /** string: the user id of a phone (the phone index) */
    phoneUser: (phone: string) => `${ofPhone(phone)}user`,
    /** key prefix of @fastify/rate-limit's Redis store (one key per client, single-key commands) */
    rateLimit: () => `${p}rl:`,

    // ---- users (the user's partition)
    /** hash {id, phone (E.164), nickname, createdAt} */
    user: (userId: string) => `${ofUser(userId)}user:${userId}`,
    /** set of the partition's user ids (announcements to everyone go partition by partition) */
    partitionUsers: (partition: number) => `${part(partition)}users`,

    // ---- sessions (the user's partition: a token is drawn so its hash falls in it)
    /** hash SessionRecord, keyed by SHA-256 of the token (hex); TTL = sliding idle life */
    session: (tokenHash: string) => `${ofUser(tokenHash)}session:${tokenHash}`,
    /** hash session id → token hash: the user's sessions */
    userSessions: (userId: string) => `${ofUser(userId)}user:${userId}:sessions`,
    /** string with TTL: a WebSocket ticket's jti, burned on first use */
    ticketUsed: (jti: string) => `${p}ticket:used:${jti}`,

    // ---- gateway presence (the user's partition)
    /** hash connId → JSON {replica, device, sessionId, connectedAt}: the user's live connections */
    presence: (userId: string) => `${ofUser(userId)}presence:${userId}`,
    /** hash replica → number of the user's connections there: where to route the user's entries */
    routes: (userId: string) => `${ofUser(userId)}routes:${userId}`,
    /** hash connId → userId: a replica's connections in one partition (to clean up after it dies) */
    replicaConnections: (partition: number, replica: string) => `${part(partition)}replica:${replica}:connections`,
    /** hash userId → number of that user's connections on the replica, in one partition */
    replicaUsers: (partition: number, replica: string) => `${part(partition)}replica:${replica}:users`,
    /**
     * set of the replicas holding at least one connection in the partition: where a message to
     * everyone of the partition is appended (the presence scripts keep it with replicaConnections)
     */
    partitionReplicas: (partition: number) => `${part(partition)}replicas`,
    /** integer: the partition's users with at least one connection (summed for the total) */
    onlineUsers: (partition: number) => `${part(partition)}online`,
    /**
     * string with TTL: when the user's last connection closed (epoch ms) — a reconnect soon after
     * is not announced as `user.online`, and the pending `user.offline` webhook is dropped
     */
    presenceOfflineAt: (userId: string) => `${ofUser(userId)}presence:${userId}:offline-at`,
    /** sorted set replica → heartbeat deadline (epoch ms): the gateway replicas, live and dead */
    replicas: () => `${p}{gw}:replicas`,
    /** string with TTL: the replica reaping a dead one (one reaper at a time) */
    replicaReaping: (replica: string) => `${p}{gw}:reaping:${replica}`,

    // ---- delivery (the user's partition)
    /** stream: the entries for one gateway replica's users in one partition (only it reads it) */
    gatewayStream: (partition: number, replica: string) => `${part(partition)}gw:${replica}`,
    /** string: the partition's last cursor (cursors only grow, per partition and so per user) */
    cursor: (partition: number) => `${part(partition)}cursor`,
    /** sorted set message id by cursor: the user's inbox */
    inbox: (userId: string) => `${ofUser(userId)}inbox:${userId}`,
    /** hash message id → message JSON */
    inboxMessages: (userId: string) => `${ofUser(userId)}inbox:${userId}:messages`,
    /**
     * hash message id → its frame without the cursor (`{"type":"message","cursor":"…",` is rebuilt
     * from each inbox's score): a message to everyone is stored once per partition, not once per
     * inbox; the inbox read scripts fall back to it for an id the user's own hash lacks
     */
    announcementFrames: (partition: number) => `${part(partition)}announcements`,
    /** sorted set message id by when no inbox can still name it (epoch ms): what prunes announcementFrames */
    announcementFramesUntil: (partition: number) => `${part(partition)}announcements:until`,
    /**
     * sorted set message id by cursor: the partition's messages to everyone, written once here
     * instead of into each inbox (fan-out on read); each inbox takes in those after its watermark
     * (inboxMeta `absorbed`, else the user's creation) the next time it is read
     */
    announcementLog: (partition: number) => `${part(partition)}announcements:log`,
    /** hash message id → JSON {k: kind ('' none may mute), x?: expiry (epoch ms), r?: 1 taken back}: what an inbox checks as it takes one in */
    announcementAttrs: (partition: number) => `${part(partition)}announcements:attrs`,
    /** sorted set of unread message ids by cursor */
    inboxUnread: (userId: string) => `${ofUser(userId)}inbox:${userId}:unread`,
    /** sorted set by cursor: unread message ids the user has seen (listed) — always a subset of unread */
    inboxSeen: (userId: string) => `${ofUser(userId)}inbox:${userId}:seen`,
    /** sorted set by cursor: archived message ids (hidden from the inbox list, kept until deleted or trimmed) */
    inboxArchived: (userId: string) => `${ofUser(userId)}inbox:${userId}:archived`,
    /**
     * sorted set message id by expiry (epoch ms): the user's messages sent with `expiresAt`/`ttl`;
     * the inbox's read scripts drop those past it
     */
    inboxExpiring: (userId: string) => `${ofUser(userId)}inbox:${userId}:expiring`,
    /**
     * sorted set change frame (read, state, retract) by the cursor it was made at: what a device
     * that reconnects with an older cursor replays (bounded in count and age)
     */
    inboxChanges: (userId: string) => `${ofUser(userId)}inbox:${userId}:changes`,
    /** hash {trimmed: highest cursor removed by the count bound, changesTrimmed: the same for the change log} */
    inboxMeta: (userId: string) => `${ofUser(userId)}inbox:${userId}:meta`,
    /** hash message kind → 'off' | 'silent' (absent: on): the user's preferences, read by every delivery */
    preferences: (userId: string) => `${ofUser(userId)}user:${userId}:preferences`,
    /**
     * hash user id → JSON of the user's preferences, for the users of the partition who set any:
     * a message to everyone leaves out of its live frame those who turned its kind off or silent
     * (kept with `preferences` by their one owner, inbox's Preferences)
     */
    partitionPreferences: (partition: number) => `${part(partition)}preferences`,
    /** string: set once the users' preferences from before partitionPreferences existed were copied into it */
    partitionPreferencesCopied: (partition: number) => `${part(partition)}preferences:copied`,
    /**
     * set of user ids a message was canceled for, read by the previous release's deliveries only
     * (they claimed a message by it; a delivery now claims it by its receipt): drop with them
     */
    messageRecipients: (partition: number, messageId: string) => `${part(partition)}message:${messageId}:recipients`,
    /**
     * hash delivery receipt {userId, source, createdAt, deliveredAt, readAt, muted, expiresAt,
     * expired, dueAt, requestId, canceledAt, retractedAt}, per partition; also the claim of a
     * delivery (idempotency per message id, which names one user): createdAt, expired or
     * canceledAt set, and it is written already
     */
    messageReceipt: (partition: number, messageId: string) => `${part(partition)}message:${messageId}:receipt`,
    /** set of session (device) ids that acked a message, per partition */
    messageDevices: (partition: number, messageId: string) => `${part(partition)}message:${messageId}:devices`,

    // ---- web push (packages/push owns them)
    /**
     * hash subscription id (a digest of its endpoint) → JSON {endpoint, p256dh, auth, createdAt}:
     * the user's Web Push subscriptions, bounded; in the user's partition, so the delivery
     * script can tell whether an offline user has one in the same atomic step
     */
    pushSubscriptions: (userId: string) => `${ofUser(userId)}user:${userId}:push`,
    /**
     * set of the partition's user ids holding at least one subscription: the users a message to
     * everyone may owe a push to (its walk reads them, not every user)
     */
    pushSubscribers: (partition: number) => `${part(partition)}push:subscribers`,
    /** string: set once the users subscribed before pushSubscribers existed were added to it */
    pushSubscribersIndexed: (partition: number) => `${part(partition)}push:subscribers:indexed`,

    // ---- notifier
    /**
     * hash: the idempotency record of a business event, per calling system (`source`, the
     * token's `sub`): two systems' events with one id are two events, and neither can read
     * the other's. The source is base64url-encoded (no `:`), so (source, id) pairs never collide.
     */
    eventOf: (source: string, eventId: string) => `${p}event:${Buffer.from(source).toString('base64url')}:${eventId}`,
    /** sorted set: revoked service-token ids (jti) by their expiry (epoch s), purged once expired */
    revokedServiceTokens: () => `${p}service-tokens:revoked`,
    // ---- webhooks (packages/webhooks owns them). The registry and delivery logs share one
    // slot: a delivery's log entry, failure streak and auto-disable are one script, at low rate.
    /** hash: a webhook endpoint {id, caller, url, events, secret, description, createdAt, status, failures, disabledAt?} */
    webhookEndpoint: (id: string) => `${p}{wh}:endpoint:${id}`,
    /** set of every endpoint id (presence webhooks go to every system subscribed to them) */
    webhookEndpoints: () => `${p}{wh}:endpoints`,
    /** set of a calling system's endpoint ids (the caller base64url-encoded, like eventOf) */
    webhookCallerEndpoints: (caller: string) => `${p}{wh}:caller:${Buffer.from(caller).toString('base64url')}`,
    /** list of JSON delivery attempts of an endpoint, newest first, capped */
    webhookDeliveries: (id: string) => `${p}{wh}:endpoint:${id}:deliveries`,
    /** stream: webhook events that happened in a partition (first ack, read), read by the notifier worker */
    webhookOutbox: (partition: number) => `${part(partition)}webhooks:outbox`,
    /** BullMQ's own key prefix (BullMQ appends `:<queue>:…`); a hash tag: one queue, one slot */
    bullPrefix: () => `${p}{bull}`,
  }
}

export type Keys = ReturnType<typeof createKeys>
