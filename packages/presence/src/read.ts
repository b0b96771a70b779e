import type { Keys } from '@herald/keys'
import type { Redis } from 'ioredis'

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

/**
 * A user's live connections across the cluster. Connections held by a replica whose
 * heartbeat deadline has passed are left out even before that replica is reaped.
 */
export async function getPresence(redis: Redis, keys: Keys, userId: string, now = Date.now()): Promise<Presence> {
  const all = await redis.hgetall(keys.presence(userId))
  const entries: [string, ConnectionRecord][] = []
  for (const [connId, json] of Object.entries(all)) {
    const rec = parseRecord(json)
    if (rec) entries.push([connId, rec])
  }
  if (entries.length === 0) return { userId, online: false, connections: [] }
  const replicas = [...new Set(entries.map(([, r]) => r.replica))]
  const deadlines = await redis.zmscore(keys.replicas(), ...replicas)
  const alive = new Set(replicas.filter((_, i) => Number(deadlines[i] ?? 0) >= now))
  const connections = entries
    .filter(([, r]) => alive.has(r.replica))
    .map(([connId, r]) => ({ connId, replica: r.replica, device: r.device, connectedAt: r.connectedAt }))
    .sort((a, b) => a.connectedAt.localeCompare(b.connectedAt) || a.connId.localeCompare(b.connId))
  return { userId, online: connections.length > 0, connections }
}

/**
 * Cluster-wide counts. Exact while every known replica is alive (the online-users counter
 * is kept atomically by the presence scripts); while a dead replica awaits its reap, the
 * users are counted as the union of the live replicas' user sets instead.
 */
export async function getStats(redis: Redis, keys: Keys, now = Date.now()): Promise<PresenceStats> {
  const flat = await redis.zrange(keys.replicas(), 0, -1, 'WITHSCORES')
  const ids: string[] = []
  const deadlines: number[] = []
  for (let i = 0; i < flat.length; i += 2) {
    ids.push(flat[i] as string)
    deadlines.push(Number(flat[i + 1]))
  }
  const pipe = redis.pipeline()
  for (const id of ids) pipe.hlen(keys.replicaConnections(id)).hlen(keys.replicaUsers(id))
  pipe.get(keys.onlineUsers())
  const res = (await pipe.exec()) ?? []
  const num = (i: number) => {
    const [err, v] = res[i] ?? [null, 0]
    if (err) throw err
    return Number(v ?? 0)
  }
  const replicas: ReplicaStats[] = ids.map((id, i) => ({
    id,
    connections: num(2 * i),
    users: num(2 * i + 1),
    alive: (deadlines[i] as number) >= now,
  }))
  const live = replicas.filter((r) => r.alive)
  const connections = live.reduce((n, r) => n + r.connections, 0)
  let onlineUsers = num(2 * ids.length)
  if (live.length < replicas.length) {
    const users = new Set<string>()
    for (const r of live) for (const u of await redis.hkeys(keys.replicaUsers(r.id))) users.add(u)
    onlineUsers = users.size
  }
  return { onlineUsers, connections, replicas }
}
