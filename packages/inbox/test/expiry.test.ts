import { createKeys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, sleep, uniquePrefix } from '@herald/test-utils'
import { UserStore } from '@herald/users'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Inbox, type NewMessage } from '../src/inbox'

type Entry = Record<string, string>

/** Expiry, cancel and retraction: the same suite on one Redis, a Cluster and a Sentinel primary. */
describe.each(redisModes())('expiry and retraction on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  const users = ['u', 'v', 'w']
  /** An inbox on 4 partitions and its users; `online()` puts every user on gateway 'gw'. */
  async function setup(opts: Partial<ConstructorParameters<typeof Inbox>[2]> = {}) {
    const keys = createKeys(uniquePrefix('expiry'), 4)
    const inbox = new Inbox(redis, keys, opts)
    const store = new UserStore(redis, keys)
    for (const u of users) await store.ensure(u, '+15550000000', u, Date.now() - 1)
    return {
      keys,
      inbox,
      async online(...who: string[]) {
        const gw = new PresenceWriter(redis, keys, { replica: 'gw' })
        await gw.heartbeat()
        for (const u of who.length ? who : users)
          await gw.connect(`c-${u}`, u, { device: 'd', sessionId: `s-${u}`, connectedAt: new Date().toISOString() })
      },
      /** the gateway's stream entries of user u's partition, as objects */
      async entries(u = 'u'): Promise<Entry[]> {
        const rows = (await redis.xrange(keys.gatewayStream(keys.partitionOf(u), 'gw'), '-', '+')) as [
          string,
          string[],
        ][]
        return rows.map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1] as string]]))))
      },
      ids: async (u = 'u') => (await inbox.page(u, { limit: 50 })).items.map((i) => i.id),
    }
  }
  const msg = (id: string, extra: Partial<NewMessage> = {}): NewMessage => ({
    id,
    kind: 'test',
    title: `title ${id}`,
    body: 'body',
    data: {},
    createdAt: new Date().toISOString(),
    ...extra,
  })
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()

  it('a message past its expiry leaves the list, the counts and the replay (no gap); others stay', async () => {
    const { inbox, keys, online, entries, ids } = await setup()
    await online('u')
    const keep = inbox.messageIdFor('keep', 'u')
    const short = inbox.messageIdFor('short', 'u')
    const expiresAt = inMs(400)
    await inbox.deliver([{ userId: 'u', message: msg(keep) }])
    const [r] = await inbox.deliver([{ userId: 'u', message: msg(short, { expiresAt }) }])
    expect(r?.cursor).toMatch(/^\d+$/)
    const page = await inbox.page('u', { limit: 10 })
    expect(page.items.map((i) => [i.id, i.expiresAt])).toEqual([
      [short, expiresAt],
      [keep, undefined],
    ])
    // the live entry carries its expiry (ms) for the gateway; the frame carries it for clients
    const live = (await entries()).filter((e) => e.k === 'm')
    expect(live.map((e) => e.x)).toEqual([undefined, String(Date.parse(expiresAt))])
    expect(JSON.parse(live[1]?.p as string).expiresAt).toBe(expiresAt)
    expect((await inbox.receipt(short))?.expiresAt).toBe(expiresAt)
    expect((await inbox.receipt(short))?.status).toBe('written')

    await sleep(450)
    expect(await ids()).toEqual([keep])
    expect(await inbox.counts('u')).toEqual({ total: 1, unseen: 1, unread: 1, archived: 0 })
    const replay = await inbox.since('u', '0')
    expect(replay.frames.map((f) => JSON.parse(f).id)).toEqual([keep])
    expect(replay.gap).toBe(false)
    expect(await redis.zcard(keys.inboxExpiring('u'))).toBe(0)
    expect((await inbox.receipt(short))?.status).toBe('expired')
  })

  it('a message already past its expiry when delivered is not written: no inbox entry, no stream entry', async () => {
    const { inbox, online, entries, ids } = await setup()
    await online()
    const id = inbox.messageIdFor('late', 'u')
    const [r] = await inbox.deliver([{ userId: 'u', message: msg(id, { expiresAt: inMs(-1) }) }])
    expect(r).toEqual({ userId: 'u', messageId: id, cursor: null, expired: true })
    expect(await ids()).toEqual([])
    expect(await entries()).toEqual([])
    const receipt = await inbox.receipt(id)
    expect(receipt?.status).toBe('expired')
    expect(receipt?.createdAt).toBeUndefined()
    // a retried delivery writes nothing either
    expect(
      (await inbox.deliver([{ userId: 'u', message: msg(id, { expiresAt: inMs(60_000) }) }]))[0]?.cursor,
    ).toBeNull()

    const all = 'm_late_all.all'
    expect(await inbox.announceAll(msg(all, { expiresAt: inMs(-1) }))).toEqual([null, null, null, null])
    expect((await inbox.receipt(all))?.status).toBe('expired')
    expect(await ids('v')).toEqual([])
  })

  it('an announcement with an expiry leaves every inbox once past it', async () => {
    const { inbox, online, entries, ids } = await setup()
    await online()
    const all = 'm_soon.all'
    expect(await inbox.announceAll(msg(all, { expiresAt: inMs(300) }))).not.toContain(null)
    expect((await entries('v')).find((e) => e.k === 'a')?.x).toMatch(/^\d+$/)
    for (const u of users) expect(await ids(u)).toEqual([all])
    await sleep(350)
    for (const u of users) expect(await ids(u)).toEqual([])
    for (const u of users) expect((await inbox.since(u, '0')).frames).toEqual([])
  })

  it('the count bound drops a trimmed message from the expiring set too; the age bound caps an expiry', async () => {
    const keysUsed = await setup({ maxItems: 2 })
    const { inbox, keys } = keysUsed
    const far = inMs(3_600_000)
    for (const b of ['a', 'b', 'c'])
      await inbox.deliver([{ userId: 'u', message: msg(inbox.messageIdFor(b, 'u'), { expiresAt: far }) }])
    expect(await redis.zcard(keys.inboxExpiring('u'))).toBe(2)
    // an expiry beyond the retention is kept as created + retention in the set
    const aged = await setup({ retentionSeconds: 60 })
    const id = aged.inbox.messageIdFor('x', 'u')
    await aged.inbox.deliver([{ userId: 'u', message: msg(id, { expiresAt: far }) }])
    const score = Number(await redis.zscore(aged.keys.inboxExpiring('u'), id))
    expect(score).toBeLessThanOrEqual(Date.now() + 60_000)
    expect((await aged.inbox.receipt(id))?.expiresAt).toBe(far)
  })

  it('retracts a written message: gone from the list and counts, a retract frame for its gateways, once', async () => {
    const { inbox, online, entries, ids } = await setup()
    await online('u')
    const a = inbox.messageIdFor('a', 'u')
    const b = inbox.messageIdFor('b', 'u')
    await inbox.deliver([
      { userId: 'u', message: msg(a, { source: 'shop' }) },
      { userId: 'u', message: msg(b, { source: 'shop', expiresAt: inMs(60_000) }) },
    ])
    await inbox.setState('u', 'archived', { ids: [b] })
    expect(await inbox.retract('u', a, 1000)).toBe('retracted')
    expect(await inbox.retract('u', b, 2000)).toBe('retracted')
    expect(await inbox.retract('u', a, 3000)).toBe('retracted')
    expect(await ids()).toEqual([])
    expect(await inbox.counts('u')).toEqual({ total: 0, unseen: 0, unread: 0, archived: 0 })
    // a device away meanwhile replays the retractions (the archive of b came in between)
    expect((await inbox.since('u', '0')).frames.map((f) => JSON.parse(f))).toEqual([
      { type: 'state', state: 'archived', ids: [b] },
      { type: 'retract', ids: [a] },
      { type: 'retract', ids: [b] },
    ])
    const syncs = (await entries()).filter((e) => e.k === 'r' && e.p?.includes('"retract"'))
    expect(syncs.map((e) => [e.u, e.o, JSON.parse(e.p as string)])).toEqual([
      ['u', '', { type: 'retract', ids: [a] }],
      ['u', '', { type: 'retract', ids: [b] }],
    ])
    const receipt = await inbox.receipt(a)
    expect(receipt?.status).toBe('retracted')
    expect(receipt?.retractedAt).toBe(new Date(1000).toISOString())
    // a retried delivery of a retracted message writes nothing
    expect((await inbox.deliver([{ userId: 'u', message: msg(a) }]))[0]?.cursor).toBeNull()
  })

  it('cancels a scheduled message before it is written: the delivery then writes nothing', async () => {
    const { inbox, keys, online, entries, ids } = await setup()
    await online('u')
    const id = inbox.messageIdFor('later', 'u')
    const dueAt = Date.now() + 3_600_000
    await inbox.schedule([{ userId: 'u', messageId: id }], { source: 'shop', requestId: 'msg_1', dueAt })
    const scheduled = await inbox.receipt(id)
    expect(scheduled).toMatchObject({ status: 'scheduled', userId: 'u', source: 'shop', requestId: 'msg_1' })
    expect(scheduled?.dueAt).toBe(new Date(dueAt).toISOString())
    expect(await inbox.retract('u', id)).toBe('canceled')
    expect(await inbox.retract('u', id)).toBe('canceled')
    // the marker (the receipt, canceled) outlives the due time by the retention (7 days by default)
    const ttl = await redis.ttl(keys.messageReceipt(keys.partitionOf('u'), id))
    expect(ttl).toBeGreaterThan(7 * 86_400 + 3000)
    // and the recipients set is marked, which the previous release's deliveries claim by
    expect(await redis.sismember(keys.messageRecipients(keys.partitionOf('u'), id), 'u')).toBe(1)
    expect((await inbox.deliver([{ userId: 'u', message: msg(id, { source: 'shop' }) }]))[0]?.cursor).toBeNull()
    expect(await ids()).toEqual([])
    expect(await entries()).toEqual([])
    expect((await inbox.receipt(id))?.status).toBe('canceled')
  })

  it('retracts a message to everyone: marked in every partition first, then removed user by user', async () => {
    const { inbox, keys, online, entries, ids } = await setup()
    await online()
    const all = 'm_news.all'
    await inbox.announceAll(msg(all, { source: 'ops' }))
    // u and v took it in (a read), w did not
    expect(await ids('u')).toEqual([all])
    expect(await ids('v')).toEqual([all])
    await inbox.markTakenBack(all, 'retracted')
    // from now on it is written for nobody (a delivery still under way), and no read takes it in
    expect(await inbox.announceAll(msg(all, { source: 'ops' }))).toEqual([null, null, null, null])
    let removed = 0
    for (const p of keys.allPartitions()) {
      removed += await inbox.retractFrom(
        p,
        users.filter((u) => keys.partitionOf(u) === p),
        all,
      )
    }
    expect(removed).toBe(2)
    for (const u of users) expect(await ids(u)).toEqual([])
    const retracts = (await entries('u')).filter((e) => e.k === 'r')
    expect(retracts.every((e) => JSON.parse(e.p as string).type === 'retract')).toBe(true)
    expect(retracts.flatMap((e) => (e.u as string).split(','))).toContain('u')
    expect((await inbox.receipt(all))?.status).toBe('retracted')
  })

  it('cancels a scheduled message to everyone: no partition writes it then', async () => {
    const { inbox, ids } = await setup()
    const all = 'm_later.all'
    await inbox.schedule([{ userId: '*', messageId: all }], {
      source: 'ops',
      requestId: 'msg_2',
      dueAt: Date.now() + 60_000,
    })
    expect(await inbox.receipt(all)).toMatchObject({ status: 'scheduled', userId: '*', requestId: 'msg_2' })
    await inbox.markTakenBack(all, 'canceled')
    expect(await inbox.announceAll(msg(all, { source: 'ops' }))).toEqual([null, null, null, null])
    for (const u of users) expect(await ids(u)).toEqual([])
    expect((await inbox.receipt(all))?.status).toBe('canceled')
  })
})
