import { createRedis, type RedisClient, waitReady } from '@herald/redis'
import { describe, expect, it } from 'vitest'
import { startRedisCluster } from '../src/redis-cluster'
import { startRedisSentinel } from '../src/redis-sentinel'

/** Writes `key` every 50 ms until one write succeeds (at most `limitMs`); resolves with the outage in ms. */
async function writeUntilAccepted(redis: RedisClient, key: string, since: number, limitMs = 20_000) {
  for (let i = 0; Date.now() - since < limitMs; i++) {
    try {
      await redis.set(key, `after-${i}`)
      return Date.now() - since
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  throw new Error(`no write accepted within ${limitMs} ms`)
}

describe('startRedisCluster', () => {
  it('kill -9 of a primary: its replica takes over and a write to its slot succeeds', async () => {
    const t0 = Date.now()
    const cluster = await startRedisCluster({ masters: 3, replicas: 1 })
    const startMs = Date.now() - t0
    const redis = createRedis(cluster.url, 'command', 'failover-test')
    try {
      await waitReady(redis, 10_000)
      const key = '{p7}k'
      await redis.set(key, 'before')
      const killed = await cluster.killPrimaryOf(key)
      const outage = await writeUntilAccepted(redis, key, Date.now())
      await cluster.waitOk()
      const now = await cluster.primaryOf(key)
      expect(now).not.toBe(killed)
      expect(await redis.get(key)).toMatch(/^after-/)
      // back as a replica: the slot's new primary can fail over in turn
      await cluster.restartNode(killed)
      const second = await cluster.killPrimaryOf(key)
      expect(second).toBe(now)
      await writeUntilAccepted(redis, key, Date.now())
      expect(await cluster.primaryOf(key)).toBe(killed)
      console.log(`cluster: ready in ${startMs} ms; write outage after kill -9 of a primary ${outage} ms`)
    } finally {
      redis.disconnect()
      await cluster.stop()
    }
    expect(cluster.nodes.every((n) => !n.running)).toBe(true)
  })
})

describe('startRedisSentinel', () => {
  it('kill -9 of the primary: the sentinels promote the replica and a write succeeds', async () => {
    const t0 = Date.now()
    const set = await startRedisSentinel({ replicas: 1, sentinels: 3 })
    const startMs = Date.now() - t0
    const redis = createRedis(set.url, 'command', 'failover-test')
    try {
      await waitReady(redis, 10_000)
      await redis.set('k', 'before')
      const killed = await set.killPrimary()
      const outage = await writeUntilAccepted(redis, 'k', Date.now())
      const now = await set.waitFailover(killed)
      expect(now).not.toBe(killed)
      expect(await redis.get('k')).toMatch(/^after-/)
      await set.restart(killed)
      const second = await set.killPrimary()
      expect(second).toBe(now)
      await writeUntilAccepted(redis, 'k', Date.now())
      expect(await set.waitFailover(second)).toBe(killed)
      console.log(`sentinel: ready in ${startMs} ms; write outage after kill -9 of the primary ${outage} ms`)
    } finally {
      redis.disconnect()
      await set.stop()
    }
    expect([...set.servers, ...set.sentinels].every((p) => !p.running)).toBe(true)
  })
})
