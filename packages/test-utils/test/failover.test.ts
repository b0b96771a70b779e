import { createRedis, type RedisClient, waitReady } from '@herald/redis'
import { Queue, Worker } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { startRedisCluster } from '../src/redis-cluster'
import { startRedisSentinel } from '../src/redis-sentinel'
import { waitFor } from '../src/wait'

/** Writes `key` every 50 ms until one write succeeds (at most `limitMs`); resolves with the outage in ms. */
async function writeUntilAccepted(
  redis: RedisClient,
  key: string,
  since: number,
  limitMs = 20_000,
  write: (i: number) => Promise<unknown> = (i) => redis.set(key, `after-${i}`),
) {
  for (let i = 0; Date.now() - since < limitMs; i++) {
    try {
      await write(i)
      return Date.now() - since
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  throw new Error(`no write accepted within ${limitMs} ms`)
}

/** A BullMQ queue and worker under herald's prefix; `processed` lists the jobs' names. */
function bullOn(url: string) {
  const producer = createRedis(url, 'command', 'failover-queue')
  const consumer = createRedis(url, 'worker', 'failover-worker')
  const processed: string[] = []
  const queue = new Queue('failover', { connection: producer, prefix: 'herald:{bull}' })
  const worker = new Worker(
    'failover',
    async (job) => {
      processed.push(job.name)
    },
    { connection: consumer, prefix: 'herald:{bull}' },
  )
  worker.on('error', () => {})
  queue.on('error', () => {})
  return {
    processed,
    /** adds a job, retrying while the queue's connection is down */
    async add(name: string) {
      await writeUntilAccepted(producer, name, Date.now(), 20_000, () => queue.add(name, {}))
    },
    async close() {
      await worker.close()
      await queue.close()
      producer.disconnect()
      consumer.disconnect()
    },
  }
}

/** A reader on its own `blocking` connection, as a gateway reads its stream: XREAD BLOCK in a loop. */
function followStream(url: string, key: string) {
  const blocking = createRedis(url, 'blocking', 'failover-reader')
  const seen: string[] = []
  let stopped = false
  const loop = (async () => {
    let last = '0-0'
    for (let i = 0; !stopped && i < 10_000; i++) {
      try {
        const reply = (await blocking.xread('COUNT', 100, 'BLOCK', 500, 'STREAMS', key, last)) as
          | [string, [string, string[]][]][]
          | null
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          last = id
          seen.push(fields[1] as string)
        }
      } catch {
        if (!stopped) await new Promise((r) => setTimeout(r, 100))
      }
    }
  })()
  return {
    seen,
    async stop() {
      stopped = true
      blocking.disconnect()
      await loop
    },
  }
}

describe('startRedisCluster', () => {
  it('kill -9 of a primary: its replica takes over; writes, a blocked XREAD reader and a BullMQ worker carry on', async () => {
    const t0 = Date.now()
    const cluster = await startRedisCluster({ masters: 3, replicas: 1 })
    const startMs = Date.now() - t0
    const redis = createRedis(cluster.url, 'command', 'failover-test')
    try {
      await waitReady(redis, 10_000)
      const key = '{p7}k'
      await redis.set(key, 'before')
      const reader = followStream(cluster.url, '{p7}stream')
      const bull = bullOn(cluster.url)
      await bull.add('before')
      await redis.xadd('{p7}stream', '*', 'v', 'before')
      await waitFor(() => reader.seen.includes('before'), 5000)
      const killed = await cluster.killPrimaryOf(key)
      const outage = await writeUntilAccepted(redis, key, Date.now())
      // the blocked reader follows the slot to its new primary
      await redis.xadd('{p7}stream', '*', 'v', 'after')
      await waitFor(() => reader.seen.includes('after'), 10_000)
      await reader.stop()
      // a BullMQ worker carries on too (the queue's slot may or may not be the one that moved)
      await bull.add('after')
      await waitFor(() => bull.processed.includes('after'), 15_000)
      expect(bull.processed).toContain('before')
      await bull.close()
      await cluster.waitOk()
      const now = await cluster.primaryOf(key)
      expect(now).not.toBe(killed)
      expect(await redis.get(key)).toMatch(/^after-/)
      // back as a replica: the slot's new primary can fail over in turn
      await cluster.restartNode(killed)
      // (whichever node serves the slot now: on a loaded machine a slow node may have been failed over too)
      const second = await cluster.killPrimaryOf(key)
      await writeUntilAccepted(redis, key, Date.now())
      expect(await cluster.primaryOf(key)).not.toBe(second)
      console.log(`cluster: ready in ${startMs} ms; write outage after kill -9 of a primary ${outage} ms`)
    } finally {
      redis.disconnect()
      await cluster.stop()
    }
    expect(cluster.nodes.every((n) => !n.running)).toBe(true)
  })
})

describe('startRedisSentinel', () => {
  it('kill -9 of the primary: the sentinels promote the replica; writes, a blocked XREAD reader and a BullMQ worker carry on', async () => {
    const t0 = Date.now()
    const set = await startRedisSentinel({ replicas: 1, sentinels: 3 })
    const startMs = Date.now() - t0
    const redis = createRedis(set.url, 'command', 'failover-test')
    try {
      await waitReady(redis, 10_000)
      await redis.set('k', 'before')
      const reader = followStream(set.url, 'stream')
      const bull = bullOn(set.url)
      await bull.add('before')
      await redis.xadd('stream', '*', 'v', 'before')
      await waitFor(() => reader.seen.includes('before'), 5000)
      const killed = await set.killPrimary()
      const outage = await writeUntilAccepted(redis, 'k', Date.now())
      // the blocked reader follows the sentinels to the new primary
      await redis.xadd('stream', '*', 'v', 'after')
      await waitFor(() => reader.seen.includes('after'), 10_000)
      await reader.stop()
      // a BullMQ worker carries on too (the queue's slot may or may not be the one that moved)
      await bull.add('after')
      await waitFor(() => bull.processed.includes('after'), 15_000)
      expect(bull.processed).toContain('before')
      await bull.close()
      const now = await set.waitFailover(killed)
      expect(now).not.toBe(killed)
      expect(await redis.get('k')).toMatch(/^after-/)
      await set.restart(killed)
      const second = await set.killPrimary()
      await writeUntilAccepted(redis, 'k', Date.now())
      expect(await set.waitFailover(second)).not.toBe(second)
      console.log(`sentinel: ready in ${startMs} ms; write outage after kill -9 of the primary ${outage} ms`)
    } finally {
      redis.disconnect()
      await set.stop()
    }
    expect([...set.servers, ...set.sentinels].every((p) => !p.running)).toBe(true)
  })
})
