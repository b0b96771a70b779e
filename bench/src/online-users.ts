import { createKeys, type Keys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { UserStore } from '@herald/users'

/** The gateway replicas the Redis-only benches spread their users over. */
export const REPLICAS = ['gw-1', 'gw-2', 'gw-3'] as const

/**
 * `users` signed-up users of one partition (keys prefixed `bench`, 1 partition), each online on
 * one of REPLICAS, written through their owners (UserStore, PresenceWriter): what the Redis-only
 * benches (broadcast-write, deliver-write) write to.
 */
export async function onlineUsers(redis: RedisClient, users: number): Promise<{ keys: Keys; ids: string[] }> {
  const keys = createKeys('bench', 1)
  const ids = Array.from({ length: users }, (_, i) => `u_${String(i).padStart(16, '0')}`)
  const store = new UserStore(redis, keys)
  for (const id of ids) await store.ensure(id, '+15550000000', id, Date.now() - 1000)
  const rec = { device: 'bench', sessionId: 's', connectedAt: new Date().toISOString() }
  for (const [r, name] of REPLICAS.entries()) {
    const gw = new PresenceWriter(redis, keys, { replica: name })
    await gw.heartbeat()
    for (let i = r; i < ids.length; i += REPLICAS.length) await gw.connect(`c${i}`, ids[i] as string, rec)
  }
  return { keys, ids }
}
