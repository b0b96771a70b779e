import { createKeys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import { createRedis, type RedisClient, waitReady } from '@herald/redis'
import { type RedisCluster, sleep, startRedisCluster, uniquePrefix } from '@herald/test-utils'
import calculateSlot from 'cluster-key-slot'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Inbox, type NewMessage } from '../src/inbox'

const USERS = 700
const RATE = 200

let cluster: RedisCluster
let client: RedisClient
const admin = new Map<number, Redis>()

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 0 })
  for (const n of cluster.nodes) admin.set(n.port, new Redis({ host: '127.0.0.1', port: n.port, lazyConnect: false }))
  client = createRedis(cluster.url, 'worker', 'migration')
  await waitReady(client, 10_000)
}, 60_000)
afterAll(async () => {
  client?.disconnect()
  for (const a of admin.values()) a.disconnect()
  await cluster?.stop()
})

/** Moves one slot to another primary the way redis-cli does: IMPORTING/MIGRATING, MIGRATE in batches, SETSLOT NODE. */
async function migrateSlot(slot: number, from: Redis, to: Redis): Promise<number> {
  const fromId = (await from.cluster('MYID')) as string
  const toId = (await to.cluster('MYID')) as string
  await to.cluster('SETSLOT', slot, 'IMPORTING', fromId)
  await from.cluster('SETSLOT', slot, 'MIGRATING', toId)
  let moved = 0
  // bounded: every batch moves the keys it lists
  for (let batch = 0; batch < 10_000; batch++) {
    const keys = (await from.cluster('GETKEYSINSLOT', slot, 50)) as string[]
    if (keys.length === 0) break
    await from.migrate('127.0.0.1', to.options.port as number, '', 0, 5000, 'REPLACE', 'KEYS', ...keys)
    moved += keys.length
    // leave the writers room between batches, as a live migration does
    await sleep(5)
  }
  await to.cluster('SETSLOT', slot, 'NODE', toId)
  await from.cluster('SETSLOT', slot, 'NODE', toId)
  for (const a of admin.values()) if (a !== from && a !== to) await a.cluster('SETSLOT', slot, 'NODE', toId)
  return moved
}

const msg = (id: string): NewMessage => ({
  id,
  kind: 'test',
  title: id,
  body: 'b',
  data: {},
  createdAt: new Date().toISOString(),
})

describe('a partition moved to another primary under load', () => {
  it(`moves a partition's slot with ≥ 3,000 keys while ${RATE} deliveries/s go on: 0 lost, 0 written twice`, async () => {
    const keys = createKeys(uniquePrefix('mig'), 16)
    const part = 5
    const slot = calculateSlot(keys.cursor(part))
    const users: string[] = []
    for (let i = 0; users.length < USERS && i < 1_000_000; i++) {
      const u = `u${i}`
      if (keys.partitionOf(u) === part) users.push(u)
    }
    const inbox = new Inbox(client, keys)
    const gw = new PresenceWriter(client, keys, { replica: 'gw' })
    await gw.heartbeat()
    const rec = { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() }
    for (const u of users.slice(0, 100)) await gw.connect(`c-${u}`, u, rec)
    // fill the partition: one message per user (inbox, messages, unread, meta, recipients, receipt keys)
    await inbox.deliver(users.map((u) => ({ userId: u, message: msg(inbox.messageIdFor(`seed-${u}`, u)) })))
    const before = (await admin.get(await cluster.primaryOf(slot))?.cluster('COUNTKEYSINSLOT', slot)) as number
    expect(before).toBeGreaterThanOrEqual(3000)

    const fromPort = await cluster.primaryOf(slot)
    const toPort = cluster.nodes.map((n) => n.port).find((p) => p !== fromPort) as number
    const written: { userId: string; id: string }[] = []
    let failed = 0
    let stop = false
    const t0 = Date.now()
    const load = (async () => {
      // bounded: RATE per second until the migration is over (at most 60 s)
      for (let i = 0; !stop && i < RATE * 60; i++) {
        const due = t0 + (i * 1000) / RATE
        const wait = due - Date.now()
        if (wait > 0) await sleep(wait)
        const u = users[i % users.length] as string
        const id = inbox.messageIdFor(`live-${i}`, u)
        inbox.deliver([{ userId: u, message: msg(id) }]).then(
          () => written.push({ userId: u, id }),
          () => failed++,
        )
      }
    })()
    await sleep(500)
    const moved = await migrateSlot(slot, admin.get(fromPort) as Redis, admin.get(toPort) as Redis)
    await sleep(500)
    stop = true
    await load
    await sleep(1000)
    expect(await cluster.primaryOf(slot)).toBe(toPort)

    // every acknowledged write is in its user's inbox, once; no message was written twice to the stream
    let lost = 0
    for (const w of written) if ((await client.zscore(keys.inbox(w.userId), w.id)) === null) lost++
    const entries = (await client.xrange(keys.gatewayStream(part, 'gw'), '-', '+')) as [string, string[]][]
    const frames = entries.map(([, f]) => JSON.parse(f[f.indexOf('p') + 1] as string) as { id: string })
    const twice = frames.length - new Set(frames.map((f) => f.id)).size
    const after = (await admin.get(toPort)?.cluster('COUNTKEYSINSLOT', slot)) as number
    console.log(
      `[figure] slot migration: ${moved} keys moved (${before} in the slot before), ${written.length} deliveries acknowledged during it (${failed} failed), ${lost} lost, ${twice} written twice, ${after} keys in the slot after`,
    )
    expect(failed).toBe(0)
    expect(lost).toBe(0)
    expect(twice).toBe(0)
  }, 120_000)
})
