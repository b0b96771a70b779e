import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'

/** What a replica stores for each live connection in the user's presence hash. */
export interface ConnectionRecord {
  replica: string
  device: string
  sessionId: string
  /** ISO date-time */
  connectedAt: string
}

export interface PresenceConnection {
  connId: string
  replica: string
  device: string
  connectedAt: string
}

export interface Presence {
  userId: string
  online: boolean
  connections: PresenceConnection[]
}

export interface ReplicaStats {
  id: string
  connections: number
  users: number
  alive: boolean
}

export interface PresenceStats {
  onlineUsers: number
  connections: number
  replicas: ReplicaStats[]
}

function parseRecord(json: string): ConnectionRecord | null {
  try {
    const v = JSON.parse(json) as Partial<ConnectionRecord>
    return typeof v.replica === 'string' ? (v as ConnectionRecord) : null
  } catch {
    return null
  }
}

/** Replica → heartbeat deadline (epoch ms). */
async function deadlines(redis: RedisClient, keys: Keys): Promise<Map<string, number>> {
  const flat = await redis.zrange(keys.replicas(), 0, -1, 'WITHSCORES')
  const out = new Map<string, number>()
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]))
  return out
}

/**
 * How long presence settles before it is announced: a user whose last socket closed is
 * announced offline (`user.offline` webhook) only if no socket reopened within it, and a
 * reconnect within it is not announced online. The gateways' default; each 'off' note carries
 * the window it was written with, so the notifier worker needs no copy of it.
 */
export const PRESENCE_SETTLE_MS = 10_000
/** Bound of each partition's webhook outbox stream (notes of first acks, reads, presence changes). */
export const WEBHOOK_OUTBOX_MAXLEN = 100_000

/**
 * True when the user should be announced offline for a disconnect at `since` (epoch ms): no
 * live connection now, and no later disconnect (whose own announcement is pending).
 */
export async function stillOfflineSince(redis: RedisClient, keys: Keys, userId: string, since: number) {
  const [presence, offlineAt] = await Promise.all([
    getPresence(redis, keys, userId),
    redis.get(keys.presenceOfflineAt(userId)),
  ])
  return !presence.online && (offlineAt === null || Number(offlineAt) <= since)
}

/**
 * A user's live connections across the cluster. Connections held by a replica whose
 * heartbeat deadline has passed are left out even before that replica is reaped.
 */
export async function getPresence(redis: RedisClient, keys: Keys, userId: string, now = Date.now()): Promise<Presence> {
  const all = await redis.hgetall(keys.presence(userId))
  const entries: [string, ConnectionRecord][] = []
  for (const [connId, json] of Object.entries(all)) {
    const rec = parseRecord(json)
    if (rec) entries.push([connId, rec])
  }
  if (entries.length === 0) return { userId, online: false, connections: [] }
  const replicas = [...new Set(entries.map(([, r]) => r.replica))]
  const scores = await redis.zmscore(keys.replicas(), ...replicas)
  const alive = new Set(replicas.filter((_, i) => Number(scores[i] ?? 0) >= now))
  const connections = entries
    .filter(([, r]) => alive.has(r.replica))
    .map(([connId, r]) => ({ connId, replica: r.replica, device: r.device, connectedAt: r.connectedAt }))
    .sort((a, b) => a.connectedAt.localeCompare(b.connectedAt) || a.connId.localeCompare(b.connId))
  return { userId, online: connections.length > 0, connections }
}

/**
 * Cluster-wide counts, summed over the partitions. Exact while every known replica is alive
 * (the per-partition online-users counters are kept atomically by the presence scripts);
 * while a dead replica awaits its reap, users are counted as the union of the live
 * replicas' user sets instead.
 */
export async function getStats(redis: RedisClient, keys: Keys, now = Date.now()): Promise<PresenceStats> {
  const known = await deadlines(redis, keys)
  const ids = [...known.keys()]
  const parts = keys.allPartitions()
  const perReplica = await Promise.all(
    ids.map(async (id) => {
      const counts = await Promise.all(
        parts.map((p) =>
          Promise.all([redis.hlen(keys.replicaConnections(p, id)), redis.hlen(keys.replicaUsers(p, id))]),
        ),
      )
      return counts.reduce((acc, [c, u]) => [acc[0] + c, acc[1] + u], [0, 0])
    }),
  )
  const replicas: ReplicaStats[] = ids.map((id, i) => ({
    id,
    connections: perReplica[i]?.[0] ?? 0,
    users: perReplica[i]?.[1] ?? 0,
    alive: (known.get(id) ?? 0) >= now,
  }))
  const live = replicas.filter((r) => r.alive)
  const connections = live.reduce((n, r) => n + r.connections, 0)
  let onlineUsers: number
  if (live.length < replicas.length) {
    const users = new Set<string>()
    for (const r of live) {
      for (const p of parts) for (const u of await redis.hkeys(keys.replicaUsers(p, r.id))) users.add(u)
    }
    onlineUsers = users.size
  } else {
    const counts = await Promise.all(parts.map((p) => redis.get(keys.onlineUsers(p))))
    onlineUsers = counts.reduce((n, c) => n + Math.max(0, Number(c ?? 0)), 0)
  }
  return { onlineUsers, connections, replicas }
}
