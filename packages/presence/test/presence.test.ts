import { createKeys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, uniquePrefix } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getPresence, getStats, PresenceWriter, stillOfflineSince } from '../src'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  const rec = (device: string) => ({ device, sessionId: 's1', connectedAt: new Date().toISOString() })

  describe('presence', () => {
    it('tracks connections per user and replica, and counts distinct online users', async () => {
      const keys = createKeys(uniquePrefix('presence'), 4)
      const a = new PresenceWriter(redis, keys, { replica: 'a' })
      const b = new PresenceWriter(redis, keys, { replica: 'b' })
      await a.heartbeat()
      await b.heartbeat()
      expect((await a.connect('c1', 'u1', rec('laptop'))).ok).toBe(true)
      expect((await a.connect('c1', 'u1', rec('laptop'))).ok).toBe(true) // idempotent
      await b.connect('c2', 'u1', rec('phone'))
      await b.connect('c3', 'u2', rec('phone'))
      expect(await getStats(redis, keys)).toMatchObject({ onlineUsers: 2, connections: 3 })
      const p = await getPresence(redis, keys, 'u1')
      expect(p.connections.map((c) => [c.connId, c.replica, c.device])).toEqual([
        ['c1', 'a', 'laptop'],
        ['c2', 'b', 'phone'],
      ])
      await b.disconnect('c2', 'u1')
      await b.disconnect('c2', 'u1') // a second disconnect counts nothing
      expect(await getStats(redis, keys)).toMatchObject({ onlineUsers: 2, connections: 2 })
      // the partition's replicas holding a connection: where a message to everyone goes
      const p1 = keys.partitionOf('u1')
      expect((await redis.smembers(keys.partitionReplicas(p1))).sort()).toEqual(
        keys.partitionOf('u2') === p1 ? ['a', 'b'] : ['a'],
      )
      await a.disconnect('c1', 'u1')
      expect(await getPresence(redis, keys, 'u1')).toEqual({ userId: 'u1', online: false, connections: [] })
      expect(await getStats(redis, keys)).toMatchObject({ onlineUsers: 1, connections: 1 })
      expect(await redis.smembers(keys.partitionReplicas(p1))).toEqual(keys.partitionOf('u2') === p1 ? ['b'] : [])
    })

    it('notes a user going online and offline on the webhook outbox, a quick reconnect not at all', async () => {
      const keys = createKeys(uniquePrefix('presence'), 4)
      const a = new PresenceWriter(redis, keys, { replica: 'a', settleMs: 300 })
      await a.heartbeat()
      const notes = async () =>
        ((await redis.xrange(keys.webhookOutbox(keys.partitionOf('u1')), '-', '+')) as [string, string[]][]).map(
          ([, f]) => f[1],
        )
      await a.connect('c1', 'u1', rec('laptop'))
      await a.connect('c2', 'u1', rec('phone'))
      await a.disconnect('c1', 'u1')
      expect(await notes()).toEqual(['on'])
      await a.disconnect('c2', 'u1')
      expect(await notes()).toEqual(['on', 'off'])
      const [, fields] = (
        (await redis.xrange(keys.webhookOutbox(keys.partitionOf('u1')), '-', '+')) as [string, string[]][]
      )[1] as [string, string[]]
      expect(fields.slice(6)).toEqual(['w', '300'])
      const since = Number(fields[5])
      expect(await stillOfflineSince(redis, keys, 'u1', since)).toBe(true)
      // back within the window: not announced, and the pending offline is void
      await a.connect('c3', 'u1', rec('laptop'))
      expect(await notes()).toEqual(['on', 'off'])
      expect(await stillOfflineSince(redis, keys, 'u1', since)).toBe(false)
      await a.disconnect('c3', 'u1')
      // a later disconnect supersedes the earlier one
      expect(await stillOfflineSince(redis, keys, 'u1', since)).toBe(false)
      await new Promise((r) => setTimeout(r, 350))
      await a.connect('c4', 'u1', rec('laptop'))
      expect(await notes()).toEqual(['on', 'off', 'off', 'on'])
    })

    it('enforces a per-user cap counting only live replicas', async () => {
      const keys = createKeys(uniquePrefix('presence'), 4)
      const a = new PresenceWriter(redis, keys, { replica: 'a' })
      await a.heartbeat()
      expect((await a.connect('c1', 'u', rec('x'), { maxPerUser: 2 })).ok).toBe(true)
      expect((await a.connect('c2', 'u', rec('x'), { maxPerUser: 2 })).ok).toBe(true)
      expect((await a.connect('c3', 'u', rec('x'), { maxPerUser: 2 })).ok).toBe(false)
    })

    it('filters a dead replica at once, counts users exactly meanwhile, and reaps it on a live replica’s heartbeat', async () => {
      const keys = createKeys(uniquePrefix('presence'), 4)
      const now = Date.now()
      const live = new PresenceWriter(redis, keys, { replica: 'live', replicaTtlMs: 60_000 })
      const dead = new PresenceWriter(redis, keys, { replica: 'dead', replicaTtlMs: 1000 })
      await live.heartbeat(now)
      await dead.heartbeat(now)
      await live.connect('l1', 'shared', rec('x'))
      await dead.connect('d1', 'shared', rec('x'))
      await dead.connect('d2', 'only-dead', rec('x'))
      expect((await getStats(redis, keys, now)).onlineUsers).toBe(2)

      const later = now + 2000
      expect((await getPresence(redis, keys, 'only-dead', later)).online).toBe(false)
      expect((await getPresence(redis, keys, 'shared', later)).connections.map((c) => c.connId)).toEqual(['l1'])
      expect(await getStats(redis, keys, later)).toMatchObject({ onlineUsers: 1, connections: 1 })

      const home = keys.partitionOf('only-dead')
      expect(await redis.sismember(keys.partitionReplicas(home), 'dead')).toBe(1)
      const { reaped } = await live.heartbeat(later)
      expect(reaped).toEqual(['dead'])
      for (const p of keys.allPartitions()) expect(await redis.sismember(keys.partitionReplicas(p), 'dead')).toBe(0)
      expect(
        await redis.exists(keys.presence('only-dead'), keys.replicaConnections(keys.partitionOf('only-dead'), 'dead')),
      ).toBe(0)
      const s = await getStats(redis, keys, later)
      expect(s).toEqual({
        onlineUsers: 1,
        connections: 1,
        replicas: [{ id: 'live', connections: 1, users: 1, alive: true }],
      })
      // the user the dead replica alone held went offline (noted for webhooks); the shared one did not
      const offs = async (u: string) =>
        ((await redis.xrange(keys.webhookOutbox(keys.partitionOf(u)), '-', '+')) as [string, string[]][])
          .map(([, f]) => f)
          .filter((f) => f[1] === 'off' && f[3] === u)
      expect(await offs('only-dead')).toHaveLength(1)
      expect(await offs('shared')).toHaveLength(0)
    })

    it('tells a replica that was reaped while alive to register again', async () => {
      const keys = createKeys(uniquePrefix('presence'), 4)
      const a = new PresenceWriter(redis, keys, { replica: 'a' })
      expect((await a.heartbeat()).rejoined).toBe(true)
      expect((await a.heartbeat()).rejoined).toBe(false)
      await a.leave()
      expect((await a.heartbeat()).rejoined).toBe(true)
    })
  })
})
