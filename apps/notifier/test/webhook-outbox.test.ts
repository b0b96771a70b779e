import { createKeys } from '@herald/keys'
import { createRedis, waitReady } from '@herald/service-kit'
import { testRedisUrl, uniquePrefix, waitFor } from '@herald/test-utils'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OutboxRelay } from '../src/webhooks/outbox'

type Emitted = [caller: string | null, type: string, data: Record<string, unknown>, key: string, opts?: object]

describe('OutboxRelay', () => {
  const redis = createRedis(testRedisUrl(), 'worker', 'test-outbox')
  beforeAll(() => waitReady(redis))
  afterAll(() => redis.quit())

  function setup(opts: { claimIdleMs?: number } = {}) {
    const keys = createKeys(uniquePrefix('outbox'), 2)
    const emitted: Emitted[] = []
    const relay = new OutboxRelay(
      redis,
      keys,
      {
        emit: async (...args: Emitted) => {
          emitted.push(args)
          return 1
        },
      },
      { pollMs: 20, ...opts },
    )
    const note = (userId: string, ...fields: string[]) =>
      redis.xadd(keys.webhookOutbox(keys.partitionOf(userId)), '*', 'u', userId, ...fields)
    return { keys, relay, emitted, note }
  }

  it('relays each note once: receipts to their system, presence to every system, offline held back', async () => {
    const { relay, emitted, note } = setup()
    const t = Date.now()
    await note('u1', 'e', 'd', 'm', 'm_1.p0', 's', 'shop', 't', String(t))
    await note('u2', 'e', 'r', 'm', 'm_2.p1', 's', 'billing', 't', String(t))
    await note('u1', 'e', 'on', 't', String(t))
    await note('u1', 'e', 'off', 't', String(t), 'w', '10000')
    await note('u1', 'e', 'zz', 't', String(t))
    expect(await relay.pollAll()).toBe(5)
    expect(await relay.pollAll()).toBe(0)
    const byType = Object.fromEntries(emitted.map((e) => [e[1], e]))
    expect(byType['message.delivered']?.slice(0, 4)).toEqual([
      'shop',
      'message.delivered',
      { messageId: 'm_1.p0', userId: 'u1', deliveredAt: new Date(t).toISOString() },
      'm_1.p0',
    ])
    expect(byType['message.read']?.[0]).toBe('billing')
    expect(byType['user.online']?.[0]).toBeNull()
    const off = byType['user.offline'] as Emitted
    expect(off[0]).toBeNull()
    const { delayMs, settle } = off[4] as { delayMs: number; settle: { userId: string; since: number } }
    expect(delayMs).toBeGreaterThan(9000)
    expect(settle).toEqual({ userId: 'u1', since: t })
    expect(emitted).toHaveLength(4)
  })

  it('takes over notes a dead consumer read but never acked', async () => {
    const { keys, relay, emitted, note } = setup({ claimIdleMs: 50 })
    await relay.pollAll() // creates the consumer groups
    await note('u1', 'e', 'd', 'm', 'm_3.p0', 's', 'shop', 't', String(Date.now()))
    // another worker reads it and dies before acking
    const stream = keys.webhookOutbox(keys.partitionOf('u1'))
    const read = await redis.xreadgroup('GROUP', 'webhooks', 'dead-worker', 'COUNT', 10, 'STREAMS', stream, '>')
    expect(read).not.toBeNull()
    expect(await relay.pollAll()).toBe(0)
    await new Promise((r) => setTimeout(r, 80))
    expect(await relay.pollAll()).toBe(1)
    expect(emitted.map((e) => e[3])).toEqual(['m_3.p0'])
  })

  it('looks for stale notes every half claim-idle time, not on every pass: an idle pass is one read per partition', async () => {
    const { keys, relay } = setup({ claimIdleMs: 30_000 })
    const streams = [keys.webhookOutbox(0), keys.webhookOutbox(1)]
    const commands: string[] = []
    let caughtUp = false
    // the test Redis is one server (a Redis, not a Cluster)
    const monitor = await (redis as Redis).monitor()
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => streams.includes(String(a)))) commands.push(String(args[0]).toLowerCase())
      if (args[1] === 'outbox-caught-up') caughtUp = true
    })
    for (let i = 0; i < 5; i++) await relay.pollAll()
    await redis.echo('outbox-caught-up')
    await waitFor(async () => caughtUp)
    monitor.disconnect()
    const count = (c: string) => commands.filter((x) => x === c).length
    // two partitions: claimed on the first pass only, read on each
    expect([count('xautoclaim'), count('xreadgroup')]).toEqual([2, 10])
  })
})
