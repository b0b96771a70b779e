import { Redis, type RedisOptions } from 'ioredis'

/**
 * Each connection has a role:
 * - `command`: the HTTP path. Fails fast (no offline queue) so a request gets 503, never a hang.
 * - `blocking`: a dedicated connection for XREAD BLOCK; never shared.
 * - `worker`: BullMQ workers (`maxRetriesPerRequest: null`, as BullMQ requires).
 */
export type RedisRole = 'command' | 'blocking' | 'worker'

export function createRedis(url: string, role: RedisRole, name: string, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectionName: `herald:${name}:${role}`,
    connectTimeout: 2000,
    // Back off up to 1 s between reconnects: Redis restarts are survived by reconnecting forever.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    lazyConnect: false,
  }
  const byRole: Record<RedisRole, RedisOptions> = {
    command: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 },
    blocking: { enableOfflineQueue: true, maxRetriesPerRequest: null },
    worker: { enableOfflineQueue: true, maxRetriesPerRequest: null },
  }
  const client = new Redis(url, { ...base, ...byRole[role], ...extra })
  // Connection errors are retried by ioredis; logging each one is left to the owner's 'error' listener.
  client.on('error', () => {})
  return client
}

/** Resolves once the client is ready (or rejects after `timeoutMs`). */
export async function waitReady(client: Redis, timeoutMs = 5000): Promise<void> {
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
    const cleanup = () => {
      clearTimeout(t)
      client.off('ready', onReady)
    }
    client.on('ready', onReady)
  })
}
