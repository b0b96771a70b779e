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

/**
 * What a herald service holds on a topology — a command client, a gateway's blocked stream
 * reader, a BullMQ queue and worker — keyed under one hash tag.
 */
async function servicesOn(url: string, tag: string) {
  const redis = createRedis(url, 'command', 'failover-test')
  await waitReady(redis, 10_000)
  const key = `${tag}k`
  const stream = `${tag}stream`
  const reader = followStream(url, stream)
  const bull = bullOn(url)
  await redis.set(key, 'before')
  await bull.add('before')
  await redis.xadd(stream, '*', 'v', 'before')
  await waitFor(() => reader.seen.includes('before'), 5000)
  // The kill comes after the worker took the first job. Killed before, the job may not have
  // reached the replica (replication is asynchronous), and a promoted replica would not have it.
  await waitFor(() => bull.processed.includes('before'), 10_000)
  return {
    redis,
    key,
    /** after a kill: the outage until a write is accepted; then the reader and the worker get new entries */
    async carryOn(): Promise<number> {
      const outage = await writeUntilAccepted(redis, key, Date.now())
      await redis.xadd(stream, '*', 'v', 'after')
      await waitFor(() => reader.seen.includes('after'), 10_000)
      await bull.add('after')
      await waitFor(() => bull.processed.includes('after'), 15_000)
      expect(bull.processed).toContain('before')
      expect(await redis.get(key)).toMatch(/^after-/)
      return outage
    },
    /**
     * Stops the reader and the worker. Not while a failover is under way: BullMQ 6's
     * graceful worker.close() then never resolves (taskforcesh/bullmq#2430, #4656).
     */
    async stopReaders() {
      await reader.stop()
      await bull.close()
    },
    async close() {
      await this.stopReaders()
      redis.disconnect()
    },
  }
}

describe('startRedisCluster', () => {
  it('kill -9 of a primary: its replica takes over; writes, a blocked XREAD reader and a BullMQ worker carry on', async () => {
    const t0 = Date.now()
    const cluster = await startRedisCluster({ masters: 3, replicas: 1 })
    const startMs = Date.now() - t0
    try {
      const services = await servicesOn(cluster.url, '{p7}')
      try {
        const killed = await cluster.killPrimaryOf(services.key)
        const outage = await services.carryOn()
        await services.stopReaders()
        await cluster.waitOk()
        expect(await cluster.primaryOf(services.key)).not.toBe(killed)
        // back as a replica, then the slot's primary (whichever it is now) fails over in turn
        await cluster.restartNode(killed)
        const second = await cluster.killPrimaryOf(services.key)
        await writeUntilAccepted(services.redis, services.key, Date.now())
        expect(await cluster.primaryOf(services.key)).not.toBe(second)
        console.log(`cluster: ready in ${startMs} ms; write outage after kill -9 of a primary ${outage} ms`)
      } finally {
        await services.close()
      }
    } finally {
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
    try {
      const services = await servicesOn(set.url, '')
      try {
        const killed = await set.killPrimary()
        const outage = await services.carryOn()
        await services.stopReaders()
        expect(await set.waitFailover(killed)).not.toBe(killed)
        // back as a replica, then the primary (whichever it is now) fails over in turn
        await set.restart(killed)
        const second = await set.killPrimary()
        await writeUntilAccepted(services.redis, services.key, Date.now())
        expect(await set.waitFailover(second)).not.toBe(second)
        console.log(`sentinel: ready in ${startMs} ms; write outage after kill -9 of the primary ${outage} ms`)
      } finally {
        await services.close()
      }
    } finally {
      await set.stop()
    }
    expect([...set.servers, ...set.sentinels].every((p) => !p.running)).toBe(true)
  })
})
