import { isCluster } from '@herald/redis'
import { Queue, Worker } from 'bullmq'
import { describe, expect, inject, it } from 'vitest'
import { requestedModes } from '../src/global-setup'
import { connectFor, flushAll, redisModes, redisUrlFor, uniquePrefix } from '../src/index'

describe('the global setup', () => {
  it('starts every topology the package asks for, and keeps redisUrl', () => {
    // this package's vitest.config.ts asks for all three; HERALD_REDIS_MODES may narrow a run
    expect(redisModes()[0]).toBe('single')
    expect(inject('redisUrl')).toBe(redisUrlFor('single'))
    if (redisModes().includes('cluster'))
      expect(redisUrlFor('cluster')).toMatch(/^redis\+cluster:\/\/(127\.0\.0\.1:\d+,){5}127\.0\.0\.1:\d+$/)
    if (redisModes().includes('sentinel')) expect(redisUrlFor('sentinel')).toMatch(/^redis\+sentinel:\/\/.+\/mymaster$/)
  })

  it('reads the modes from the config, the environment first, single always', () => {
    expect(requestedModes(undefined, '')).toEqual(['single'])
    expect(requestedModes(['sentinel', 'cluster'], '')).toEqual(['single', 'cluster', 'sentinel'])
    expect(requestedModes(['sentinel', 'cluster'], 'cluster')).toEqual(['single', 'cluster'])
    expect(() => requestedModes(['clusters'], '')).toThrow(/unknown mode "clusters"/)
  })
})

describe.each(redisModes())('on %s Redis', (mode) => {
  it('connectFor gives a ready client of the right kind', async () => {
    const redis = await connectFor(mode)
    try {
      expect(isCluster(redis)).toBe(mode === 'cluster')
      const key = `${uniquePrefix(mode)}{p0}k`
      await redis.set(key, 'v')
      expect(await redis.get(key)).toBe('v')
    } finally {
      redis.disconnect()
    }
  })

  it('a BullMQ job added under the herald:{bull} prefix is processed', async () => {
    const producer = await connectFor(mode, 'command', 'test-queue')
    const consumer = await connectFor(mode, 'worker', 'test-worker')
    const name = `jobs-${uniquePrefix(mode).split(':')[2]}`
    const queue = new Queue(name, { connection: producer, prefix: 'herald:{bull}' })
    let worker: Worker | undefined
    try {
      const done = new Promise<unknown>((resolve, reject) => {
        worker = new Worker(name, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
          connection: consumer,
          prefix: 'herald:{bull}',
        })
        worker.on('completed', (_job, result) => resolve(result))
        worker.on('failed', (_job, err) => reject(err))
      })
      await queue.add('double', { n: 21 })
      expect(await done).toEqual({ doubled: 42 })
    } finally {
      await worker?.close()
      await queue.obliterate({ force: true })
      await queue.close()
      producer.disconnect()
      consumer.disconnect()
    }
  })
})

describe.runIf(redisModes().includes('cluster'))('flushAll', () => {
  it('empties every primary of the cluster', async () => {
    // its own database would be cleaner, but a Cluster has only db 0: this run's cluster is shared by this file only
    const redis = await connectFor('cluster')
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `flush:{${i}}`)
      for (const k of keys) await redis.set(k, '1')
      await flushAll(redis)
      const left = await Promise.all(keys.map((k) => redis.exists(k)))
      expect(left.every((n) => n === 0)).toBe(true)
    } finally {
      redis.disconnect()
    }
  })
})
