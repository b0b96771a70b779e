import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import { coalesceWrites } from './coalesce'
import type { RedisClient } from './scripts'
import { parseRedisUrl, type RedisTarget } from './url'

/**
 * Each connection has a role:
 * - `command`: the HTTP path. Fails fast (no offline queue) so a request gets 503, never a hang.
 * - `blocking`: a dedicated connection for XREAD BLOCK; never shared.
 * - `worker`: BullMQ workers (`maxRetriesPerRequest: null`, as BullMQ requires).
 */
export type RedisRole = 'command' | 'blocking' | 'worker'

const ROLE: Record<RedisRole, RedisOptions> = {
  command: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 },
  blocking: { enableOfflineQueue: true, maxRetriesPerRequest: null },
  worker: { enableOfflineQueue: true, maxRetriesPerRequest: null },
}

/** Back off up to 1 s between reconnects: restarts and failovers are survived by reconnecting forever. */
const reconnectDelay = (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000)

/**
 * A demoted primary answers writes with READONLY until the client notices the failover:
 * reconnect (to what Sentinel now names primary) and resend — the write was not applied.
 */
const reconnectOnReadonly = (err: Error) => (err.message.startsWith('READONLY') ? 2 : false)

/**
 * A client for REDIS_URL in the given role: a `Redis` for `redis://`, `rediss://` and
 * `redis+sentinel://` (which follows the sentinels' failovers), a `Cluster` for
 * `redis+cluster://` (which follows MOVED/ASK and retries TRYAGAIN, CLUSTERDOWN and a lost
 * primary). `extra` overrides the options of each connection. Throws on a malformed URL,
 * naming REDIS_URL.
 */
export function createRedis(url: string, role: RedisRole, name: string, extra: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url)
  const node: RedisOptions = {
    connectionName: `herald:${name}:${role}`,
    connectTimeout: 2000,
    lazyConnect: false,
    ...credentialsOf(target),
    ...ROLE[role],
    ...extra,
  }
  const client = target.kind === 'cluster' ? createCluster(target, role, node) : createNode(target, node)
  if (role !== 'blocking' && !isCluster(client)) coalesceWrites(client)
  // Connection errors are retried by ioredis; logging each one is left to the owner's 'error' listener.
  client.on('error', () => {})
  return client
}

function credentialsOf(target: RedisTarget): RedisOptions {
  return {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
  }
}

/**
 * Auto-pipelining (one write for the commands of an event-loop turn) only on a Cluster's HTTP
 * path, where it batches per node. On one server it cost more than it saved: ioredis builds a
 * Pipeline per batch and copies every defined script onto it (herald defines ~35), which at
 * one request in flight doubled the notifier's CPU per request (0.66 → 1.5 ms) and at 32 in
 * flight still lost (0.32 → 0.37 ms). A server's HTTP-path and worker connections get the same
 * one write per turn from a corked socket instead (coalesce.ts), at no cost per command: the
 * worker runs the events of a batch side by side, and before, each of their scripts, and each
 * of BullMQ's commands, was a write of its own (39 % of the worker's busy time at 2000 events/s).
 * Not on a blocking connection, which has one command in flight at a time anyway; BullMQ's
 * blocking reads use a duplicate of the worker connection, which is not corked either.
 */
const clusterAutoPipelining = (role: RedisRole) => role === 'command'

function createNode(target: Exclude<RedisTarget, { kind: 'cluster' }>, node: RedisOptions): Redis {
  if (target.kind === 'single') {
    return new Redis({
      host: target.host,
      port: target.port,
      db: target.db,
      ...(target.tls ? { tls: { servername: target.host } } : {}),
      retryStrategy: reconnectDelay,
      ...node,
    })
  }
  return new Redis({
    sentinels: target.sentinels,
    name: target.name,
    db: target.db,
    ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    // No failoverDetector: its reconnect on +switch-master can land while the connector is
    // still connecting, which ends the client for good ("Connection is closed.", seen under
    // load in the failover test). A lost primary is found again through the sentinels on the
    // next reconnect, and a demoted one by its READONLY answers (below).
    sentinelRetryStrategy: reconnectDelay,
    retryStrategy: reconnectDelay,
    reconnectOnError: reconnectOnReadonly,
    ...node,
  })
}

function createCluster(
  target: Extract<RedisTarget, { kind: 'cluster' }>,
  role: RedisRole,
  node: RedisOptions,
): Cluster {
  // Cluster-level switches live on the Cluster, not on each node's connection.
  const { enableOfflineQueue, lazyConnect, keyPrefix, enableAutoPipelining, ...redisOptions } = node
  const options: ClusterOptions = {
    redisOptions,
    enableOfflineQueue: enableOfflineQueue ?? true,
    lazyConnect: lazyConnect ?? false,
    ...(keyPrefix ? { keyPrefix } : {}),
    // batches the HTTP path's commands per node
    enableAutoPipelining: enableAutoPipelining ?? clusterAutoPipelining(role),
    // a node that does not answer CLUSTER SLOTS in time is skipped for the next one
    slotsRefreshTimeout: 2000,
    slotsRefreshInterval: 5000,
    // a lost primary: refresh the slots and retry until a replica has been promoted
    // (node-timeout + election, ~2-4 s); 16 redirections at these delays cover ~5 s
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    // a slot being migrated: the command is retried (writes during a migration must be idempotent).
    // A script's keys stay split between the two primaries until the last of them has moved,
    // which for a partition's slot of thousands of keys takes seconds: retried for 6 s (a
    // `command` client's commandTimeout ends it sooner, with a 503).
    retryDelayOnTryAgain: 100,
    maxRedirections: 60,
    clusterRetryStrategy: reconnectDelay,
  }
  return new Cluster(target.nodes, options)
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true
}

/** Resolves once the client is ready — a Cluster when it knows its slots (or rejects after `timeoutMs`). */
export async function waitReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup()
      reject(new Error(`Redis not ready within ${timeoutMs} ms`))
    }, timeoutMs)
    const onReady = () => {
      cleanup()
      resolve()
    }
    const onEnd = () => {
      cleanup()
      reject(new Error('Redis connection closed before it was ready'))
    }
    const cleanup = () => {
      clearTimeout(t)
      client.off('ready', onReady)
      client.off('end', onEnd)
    }
    client.on('ready', onReady)
    client.on('end', onEnd)
  })
}

/**
 * Runs `fn` on every primary: each master of a Cluster, or the client itself. For what
 * is per server rather than per key — FLUSHALL in tests, INFO, SCRIPT LOAD.
 */
export async function forEachPrimary<T>(client: RedisClient, fn: (node: Redis) => Promise<T>): Promise<T[]> {
  if (!isCluster(client)) return [await fn(client)]
  return Promise.all(client.nodes('master').map(fn))
}
