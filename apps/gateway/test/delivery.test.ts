import { forEachPrimary } from '@herald/redis'
import { redisModes, sleep, waitFor } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Client, Cluster, type Frame, message, PARTITIONS } from './helpers'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let c: Cluster
  beforeEach(() => {
    c = new Cluster(mode)
  })
  afterEach(() => c.close())

  describe('delivery from the stream', () => {
    it('sends welcome first, then delivers a message to every device of its user on whichever replica holds them, never to another user', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const alice = await c.user('laptop')
      const alicePhone = await c.sessions.create({ userId: alice.userId, nickname: 'n', phone: 'p', device: 'phone' })
      const bob = await c.user()
      const a1 = await c.online(r1, alice)
      const a2 = await c.online(r2, { userId: alice.userId, sessionId: alicePhone.record.id })
      const b = await c.online(r2, bob)

      expect(a1.frames[0]).toMatchObject({
        type: 'welcome',
        userId: alice.userId,
        replica: r1.id,
        resumed: false,
        gap: false,
      })
      expect(a2.frames[0]).toMatchObject({ type: 'welcome', replica: r2.id })
      expect(a1.frames[0]?.connId).not.toBe(a2.frames[0]?.connId)

      const [id] = await c.deliver(alice.userId, 1)
      const m1 = await a1.next('message')
      const m2 = await a2.next('message')
      expect(m1).toMatchObject({ type: 'message', id, kind: 'test', title: 't', body: 'b' })
      expect(m1.cursor).toMatch(/^[0-9]+$/)
      expect(m2).toEqual(m1)
      await sleep(100)
      expect(b.messages()).toEqual([])
    })

    it('delivers a message to everyone, one entry per partition, to every socket of each user once', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const users = await Promise.all([c.user(), c.user(), c.user()])
      const clients = [
        ...(await Promise.all(users.map((u) => c.online(r1, u)))),
        await c.online(r2, users[0] as { userId: string; sessionId: string }),
      ]
      await c.inbox.announceAll({
        id: 'ann-1.all',
        kind: 'announcement',
        title: 'hi',
        body: 'all',
        data: {},
        createdAt: new Date().toISOString(),
      })
      for (const cl of clients) expect((await cl.next('message')).id).toBe('ann-1.all')
      await sleep(100)
      for (const cl of clients) expect(cl.messages()).toEqual(['ann-1.all'])
    })

    it('messages to everyone reach every user once, in order, while the users hop between replicas and resume with since', async () => {
      const replicas = [await c.start(), await c.start()]
      const users = await Promise.all(Array.from({ length: 8 }, () => c.user()))
      const sockets = new Map<string, Client>()
      for (const u of users) sockets.set(u.userId, await c.online(replicas[0] as { url: string }, u))
      const got = new Map<string, Frame[]>(users.map((u) => [u.userId, []]))
      const sent: string[] = []
      const sending = (async () => {
        for (let i = 0; i < 40; i++) {
          const m = message(`hop-${i}.all`)
          await c.inbox.announceAll(m)
          sent.push(m.id)
          await sleep(3)
        }
      })()
      // each round closes every socket and opens it again on the other replica, from the last
      // cursor it had (its welcome's when no message came yet)
      for (let round = 1; round <= 4; round++) {
        await sleep(25)
        for (const u of users) {
          const old = sockets.get(u.userId) as Client
          old.ws.close()
          await old.closed
          const mine = got.get(u.userId) as Frame[]
          mine.push(...old.of('message'))
          const since = (mine.at(-1)?.cursor ?? old.frames[0]?.cursor) as string
          sockets.set(u.userId, await c.online(replicas[round % 2] as { url: string }, u, since))
        }
      }
      await sending
      for (const u of users) {
        const cl = sockets.get(u.userId) as Client
        const before = (got.get(u.userId) as Frame[]).length
        await waitFor(() => before + cl.of('message').length >= sent.length, 5000)
        await sleep(50)
        const all = [...(got.get(u.userId) as Frame[]), ...cl.of('message')]
        expect(all.map((f) => f.id)).toEqual(sent)
        const cursors = all.map((f) => BigInt(f.cursor as string))
        expect(cursors.every((v, i) => i === 0 || v > (cursors[i - 1] as bigint))).toBe(true)
      }
    })

    it('writes an entry only to the replicas that hold the user: the others read nothing, an offline user costs no entry', async () => {
      const [r1, r2, r3] = [await c.start(), await c.start(), await c.start()]
      const u = await c.user()
      const cl = await c.online(r2, u)
      await c.deliver(u.userId, 5)
      await waitFor(() => cl.messages().length === 5)
      await c.deliver((await c.user()).userId, 5) // offline
      await sleep(200)
      const read = async (r: { app: { inject(u: string): Promise<{ body: string }> } }) =>
        Number((await r.app.inject('/metrics')).body.match(/gateway_stream_entries_total (\d+)/)?.[1] ?? 0)
      expect([await read(r1), await read(r2), await read(r3)]).toEqual([0, 5, 0])
    })

    it('keeps order and counts deliveries in metrics', async () => {
      const r1 = await c.start()
      const u = await c.user()
      const cl = await c.online(r1, u)
      const ids = await c.deliver(u.userId, 50)
      await waitFor(() => cl.messages().length === 50)
      expect(cl.messages()).toEqual(ids)
      const cursors = cl.of('message').map((f) => BigInt(f.cursor))
      expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors)
      const m = (await r1.app.inject('/metrics')).body
      expect(m).toMatch(/gateway_messages_delivered_total\{kind="m"\} 50/)
      expect(m).toMatch(/gateway_open_sockets 1/)
      expect(m).toContain('gateway_stream_delivery_lag_ms_bucket')
    })

    it("sends an announcement entry to every socket of the stream's partition but its excluded users", async () => {
      const r1 = await c.start()
      // user ids picked by partition: three in partition 0, one elsewhere
      const candidates = Array.from({ length: 64 }, (_, i) => `ann${i}-${c.prefix.split(':')[2]}`)
      const ids = candidates.filter((id) => c.keys.partitionOf(id) === 0).slice(0, 3)
      const outsiderId = candidates.find((id) => c.keys.partitionOf(id) !== 0) as string
      const [alice, bob, muted] = await Promise.all(ids.map((id) => c.user('laptop', id)))
      const clients = [await c.online(r1, alice!), await c.online(r1, bob!), await c.online(r1, muted!)]
      const outsider = await c.online(r1, await c.user('laptop', outsiderId))
      const cursor = String(
        [...clients, outsider].reduce((max, cl) => {
          const w = BigInt(cl.frames[0]?.cursor as string)
          return w > max ? w : max
        }, 0n) + 1n,
      )
      const frame = JSON.stringify({ type: 'message', cursor, id: 'ann.all', kind: 't', title: 't', body: '' })
      await c.redis.xadd(c.keys.gatewayStream(0, r1.id), '*', 'k', 'a', 'c', cursor, 'u', muted!.userId, 'p', frame)
      expect(await clients[0]!.next('message')).toMatchObject({ id: 'ann.all', cursor })
      expect(await clients[1]!.next('message')).toMatchObject({ id: 'ann.all', cursor })
      await sleep(100)
      expect(clients[2]!.messages()).toEqual([])
      expect(outsider.messages()).toEqual([])
    })
  })

  describe('stream consumer resilience', () => {
    it('resumes from the last id when its Redis connection is killed: nothing written meanwhile is lost', async () => {
      const r = await c.start()
      const u = await c.user()
      const cl = await c.online(r, u)
      await c.deliver(u.userId, 1)
      await waitFor(() => cl.messages().length === 1)
      // every node: on a Cluster the readers are spread over the primaries that own their partitions
      const killed = await forEachPrimary(c.redis, async (node) => {
        const list = (await node.client('LIST')) as string
        const ids = list
          .split('\n')
          .filter((l) => l.includes(` name=${r.readerName} `))
          .map((l) => l.match(/^id=(\d+)/)?.[1] as string)
        for (const id of ids) await node.client('KILL', 'ID', id)
        return ids.length
      })
      expect(killed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(PARTITIONS)
      const during = await c.deliver(u.userId, 3, 'during')
      await waitFor(() => cl.messages().length === 4, 5000)
      expect(cl.messages().slice(1)).toEqual(during)
    })
  })
})
