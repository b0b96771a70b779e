import { createKeys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, sleep, uniquePrefix } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareCursors, Inbox, type NewMessage } from '../src/inbox'

/** Seen, read, unread, archived, deleted: the same suite on one Redis, a Cluster and a Sentinel primary. */
describe.each(redisModes())('inbox states on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  /** An inbox for user 'u' on 4 partitions, held by a gateway 'gw' once `online()` is called. */
  async function setup(opts: Partial<ConstructorParameters<typeof Inbox>[2]> = {}) {
    const keys = createKeys(uniquePrefix('states'), 4)
    const inbox = new Inbox(redis, keys, opts)
    const stream = keys.gatewayStream(keys.partitionOf('u'), 'gw')
    return {
      keys,
      inbox,
      async online() {
        const gw = new PresenceWriter(redis, keys, { replica: 'gw' })
        await gw.heartbeat()
        await gw.connect('c0', 'u', { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() })
      },
      /** delivers messages named by base ids, oldest first; returns their ids and cursors */
      async deliver(bases: string[], extra: Partial<NewMessage> = {}) {
        const ids = bases.map((b) => inbox.messageIdFor(b, 'u'))
        const out = []
        for (const id of ids) out.push(...(await inbox.deliver([{ userId: 'u', message: msg(id, extra) }])))
        return { ids, cursors: out.map((r) => r.cursor as string) }
      },
      /** the state-sync entries ('r') on the gateway's stream: origin and frame */
      async syncs() {
        const rows = (await redis.xrange(stream, '-', '+')) as [string, string[]][]
        return rows
          .map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1] as string]]))))
          .filter((e) => e.k === 'r')
          .map((e) => ({ o: e.o, frame: JSON.parse(e.p as string) }))
      },
      states: async (state?: 'unread' | 'read' | 'archived', kind?: string) =>
        (await inbox.page('u', { limit: 50, ...(state ? { state } : {}), ...(kind ? { kind } : {}) })).items.map(
          (i) => ({ id: i.id, seen: i.seen, read: i.read, archived: i.archived }),
        ),
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

  it('a new message is unseen, unread and not archived; seen (listed) is distinct from read (opened)', async () => {
    const { inbox, online, deliver, syncs, states } = await setup()
    await online()
    const {
      ids: [a, b, c],
    } = await deliver(['a', 'b', 'c'])
    expect(await inbox.counts('u')).toEqual({ total: 3, unseen: 3, unread: 3, archived: 0 })
    expect(await inbox.setState('u', 'seen', { ids: [a as string, a as string, 'nope.p0'] }, { origin: 'c9' })).toEqual(
      [a],
    )
    expect(await inbox.setState('u', 'seen', { ids: [a as string] })).toEqual([])
    expect(await inbox.setState('u', 'read', { ids: [b as string] })).toEqual([b])
    // a read message is seen: marking it seen changes nothing
    expect(await inbox.setState('u', 'seen', { ids: [b as string] })).toEqual([])
    expect(await states()).toEqual([
      { id: c, seen: false, read: false, archived: false },
      { id: b, seen: true, read: true, archived: false },
      { id: a, seen: true, read: false, archived: false },
    ])
    expect(await inbox.counts('u')).toEqual({ total: 3, unseen: 1, unread: 2, archived: 0 })
    expect(await syncs()).toEqual([
      { o: 'c9', frame: { type: 'state', state: 'seen', ids: [a] } },
      { o: '', frame: { type: 'read', ids: [b] } },
    ])
  })

  it('marks a read message unread again (still seen); its first read is noted on the webhook outbox only once', async () => {
    const { inbox, keys, online, deliver, syncs, states } = await setup()
    await online()
    const {
      ids: [a],
    } = await deliver(['a'], { source: 'shop', hooks: 'dr' })
    const id = a as string
    await inbox.setState('u', 'read', { ids: [id] }, { now: 1000 })
    expect(await inbox.setState('u', 'unread', { ids: [id] }, { origin: 'c1' })).toEqual([id])
    expect(await inbox.setState('u', 'unread', { ids: [id] })).toEqual([])
    expect(await states()).toEqual([{ id, seen: true, read: false, archived: false }])
    expect(await inbox.counts('u')).toEqual({ total: 1, unseen: 0, unread: 1, archived: 0 })
    expect(await inbox.setState('u', 'read', { ids: [id] }, { now: 2000 })).toEqual([id])
    expect((await inbox.receipt(id))?.readAt).toBe(new Date(1000).toISOString())
    const notes = (await redis.xrange(keys.webhookOutbox(keys.partitionOf('u')), '-', '+')) as [string, string[]][]
    expect(notes.filter(([, f]) => f[1] === 'r')).toHaveLength(1)
    expect((await syncs()).map((s) => s.frame)).toEqual([
      { type: 'read', ids: [id] },
      { type: 'state', state: 'unread', ids: [id] },
      { type: 'read', ids: [id] },
    ])
  })

  it('archives: hidden from the list and the unread counts, listed under archived, back on unarchive', async () => {
    const { inbox, deliver, states } = await setup()
    const {
      ids: [a, b],
    } = await deliver(['a', 'b'])
    expect(await inbox.setState('u', 'archived', { ids: [a as string] })).toEqual([a])
    expect(await inbox.setState('u', 'archived', { ids: [a as string] })).toEqual([])
    expect((await states()).map((i) => i.id)).toEqual([b])
    expect((await states('unread')).map((i) => i.id)).toEqual([b])
    expect(await states('archived')).toEqual([{ id: a, seen: false, read: false, archived: true }])
    expect(await inbox.counts('u')).toEqual({ total: 1, unseen: 1, unread: 1, archived: 1 })
    expect((await inbox.page('u', { limit: 5 })).unread).toBe(1)
    // an archived message keeps its read state
    await inbox.setState('u', 'seen', { ids: [a as string] })
    expect(await inbox.counts('u')).toEqual({ total: 1, unseen: 1, unread: 1, archived: 1 })
    expect(await inbox.setState('u', 'unarchived', { ids: [a as string] })).toEqual([a])
    expect(await states()).toEqual([
      { id: b, seen: false, read: false, archived: false },
      { id: a, seen: true, read: false, archived: false },
    ])
    expect(await inbox.counts('u')).toEqual({ total: 2, unseen: 1, unread: 2, archived: 0 })
  })

  it('pages past archived messages: a page of one skips every newer archived message', async () => {
    const { inbox, deliver } = await setup()
    const { ids } = await deliver(['a', 'b', 'c', 'd'])
    await inbox.setState('u', 'archived', { ids: ids.slice(1) })
    const page = await inbox.page('u', { limit: 1 })
    expect(page.items.map((i) => i.id)).toEqual([ids[0]])
    expect(page.nextBefore).toBeNull()
    expect((await inbox.page('u', { limit: 2, state: 'archived' })).items.map((i) => i.id)).toEqual([ids[3], ids[2]])
  })

  it('deletes: gone from the list, the counts and the replay, and a retried delivery does not bring it back', async () => {
    const { inbox, online, deliver, syncs, states } = await setup()
    await online()
    const {
      ids: [a, b],
    } = await deliver(['a', 'b'])
    await inbox.setState('u', 'archived', { ids: [a as string] })
    expect(await inbox.setState('u', 'deleted', { ids: [a as string] }, { origin: 'c1' })).toEqual([a])
    expect(await inbox.setState('u', 'deleted', { ids: [a as string] })).toEqual([])
    expect(await states('archived')).toEqual([])
    expect((await states()).map((i) => i.id)).toEqual([b])
    expect(await inbox.counts('u')).toEqual({ total: 1, unseen: 1, unread: 1, archived: 0 })
    // the replay: b, then the changes made since (a device away meanwhile applies them too)
    expect((await inbox.since('u', '0')).frames.map((f) => JSON.parse(f))).toEqual([
      expect.objectContaining({ type: 'message', id: b }),
      { type: 'state', state: 'archived', ids: [a] },
      { type: 'state', state: 'deleted', ids: [a] },
    ])
    expect((await inbox.deliver([{ userId: 'u', message: msg(a as string) }]))[0]?.cursor).toBeNull()
    expect((await states()).map((i) => i.id)).toEqual([b])
    expect((await syncs()).at(-1)).toEqual({ o: 'c1', frame: { type: 'state', state: 'deleted', ids: [a] } })
  })

  it('filters by state and kind, paging by cursor within the filter', async () => {
    const { inbox, deliver, states } = await setup()
    const order = await deliver(['o1', 'o2', 'o3', 'o4'], { kind: 'order.shipped' })
    const chat = await deliver(['c1', 'c2'], { kind: 'chat.message' })
    const [o1, o2, o3, o4] = order.ids as [string, string, string, string]
    await inbox.setState('u', 'read', { ids: [o1, o3, chat.ids[0] as string] })
    await inbox.setState('u', 'archived', { ids: [o4] })
    expect((await states('read', 'order.shipped')).map((i) => i.id)).toEqual([o3, o1])
    expect((await states('unread', 'order.shipped')).map((i) => i.id)).toEqual([o2])
    expect((await states('archived', 'order.shipped')).map((i) => i.id)).toEqual([o4])
    expect((await states(undefined, 'chat.message')).map((i) => i.id)).toEqual([...chat.ids].reverse())
    expect(await states(undefined, 'chat')).toEqual([])
    const p1 = await inbox.page('u', { limit: 1, kind: 'order.shipped' })
    expect(p1.items.map((i) => i.id)).toEqual([o3])
    const p2 = await inbox.page('u', { limit: 1, kind: 'order.shipped', before: p1.nextBefore as string })
    expect(p2.items.map((i) => i.id)).toEqual([o2])
    const p3 = await inbox.page('u', { limit: 1, kind: 'order.shipped', before: p2.nextBefore as string })
    expect(p3.items.map((i) => i.id)).toEqual([o1])
    expect(p3.nextBefore).toBeNull()
  })

  it('marks every message up to a cursor seen, read or archived in one call, and says so with the cursor', async () => {
    const { inbox, online, deliver, syncs } = await setup()
    await online()
    const { ids, cursors } = await deliver(['a', 'b', 'c', 'd'])
    const [a, b, c] = ids as [string, string, string]
    expect(await inbox.setState('u', 'seen', { upTo: cursors[2] as string }, { origin: 'c1' })).toEqual([a, b, c])
    expect(await inbox.counts('u')).toEqual({ total: 4, unseen: 1, unread: 4, archived: 0 })
    expect(await inbox.setState('u', 'read', { upTo: cursors[1] as string })).toEqual([a, b])
    expect(await inbox.setState('u', 'archived', { upTo: cursors[0] as string })).toEqual([a])
    expect(await inbox.counts('u')).toEqual({ total: 3, unseen: 1, unread: 2, archived: 1 })
    expect((await syncs()).map((s) => s.frame)).toEqual([
      { type: 'state', state: 'seen', upTo: cursors[2] },
      { type: 'read', ids: [a, b] },
      { type: 'state', state: 'archived', upTo: cursors[0] },
    ])
    await expect(inbox.setState('u', 'deleted', { upTo: cursors[0] as string })).rejects.toThrow(/invalid bulk/)
    await expect(inbox.setState('u', 'seen', { upTo: 'x' })).rejects.toThrow(/invalid bulk/)
  })

  it('drops a message trimmed by the count or age bound from the seen and archived sets too', async () => {
    const { inbox, keys, deliver } = await setup({ maxItems: 2 })
    const first = await deliver(['a', 'b'])
    await inbox.setState('u', 'seen', { ids: first.ids })
    await inbox.setState('u', 'archived', { ids: first.ids })
    await deliver(['c'])
    const [a, b] = first.ids
    expect(await redis.zrange(keys.inboxSeen('u'), 0, -1)).toEqual([b])
    expect(await redis.zrange(keys.inboxArchived('u'), 0, -1)).toEqual([b])
    expect(await inbox.counts('u')).toEqual({ total: 1, unseen: 1, unread: 1, archived: 1 })
    expect(a).toBeDefined()

    const aged = await setup({ retentionSeconds: 1 })
    const old = await aged.deliver(['old'])
    await aged.inbox.setState('u', 'seen', { ids: old.ids })
    await aged.inbox.setState('u', 'archived', { ids: old.ids })
    await sleep(1100)
    await aged.deliver(['new'])
    expect(await redis.exists(aged.keys.inboxSeen('u'), aged.keys.inboxArchived('u'))).toBe(0)
    expect(await aged.inbox.counts('u')).toEqual({ total: 1, unseen: 1, unread: 1, archived: 0 })
  })
})

/** The change log: what a device that was away replays besides messages. */
describe.each(redisModes())('the change log on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  const msg = (id: string): NewMessage => ({
    id,
    kind: 'test',
    title: id,
    body: '',
    data: {},
    createdAt: new Date().toISOString(),
  })
  const kinds = (frames: string[]) =>
    frames.map((f) => {
      const j = JSON.parse(f)
      return j.type === 'message' ? j.id : `${j.type}${j.state ? `:${j.state}` : ''}:${j.ids ?? j.upTo}`
    })

  it('replays messages and changes merged in cursor order, page by page, up to a cursor', async () => {
    const keys = createKeys(uniquePrefix('changes'), 4)
    const inbox = new Inbox(redis, keys)
    const a = inbox.messageIdFor('a', 'u')
    const b = inbox.messageIdFor('b', 'u')
    const [ra] = await inbox.deliver([{ userId: 'u', message: msg(a) }])
    await inbox.markRead('u', [a])
    const [rb] = await inbox.deliver([{ userId: 'u', message: msg(b) }])
    await inbox.setState('u', 'archived', { ids: [b] })
    const all = await inbox.since('u', '0')
    expect(kinds(all.frames)).toEqual([a, `read:${a}`, b, `state:archived:${b}`])
    expect(all.more).toBe(false)
    // pages of 2: the second starts after the change that ended the first
    const first = await inbox.since('u', '0', 2)
    expect(kinds(first.frames)).toEqual([a, `read:${a}`])
    expect(first.more).toBe(true)
    const second = await inbox.since('u', first.lastCursor as string, 2)
    expect(kinds(second.frames)).toEqual([b, `state:archived:${b}`])
    expect((await inbox.since('u', second.lastCursor as string)).frames).toEqual([])
    // from a's cursor: what came after it; up to b's cursor: not the archive
    expect(kinds((await inbox.since('u', ra?.cursor as string)).frames)).toEqual([
      `read:${a}`,
      b,
      `state:archived:${b}`,
    ])
    expect(kinds((await inbox.since('u', '0', 100, rb?.cursor as string)).frames)).toEqual([a, `read:${a}`, b])
    expect(all.gap).toBe(false)
  })

  it('keeps the last 500 changes: a device behind the dropped ones is told of a gap', async () => {
    const keys = createKeys(uniquePrefix('changes'), 4)
    const inbox = new Inbox(redis, keys)
    const ids = Array.from({ length: 510 }, (_, i) => inbox.messageIdFor(`m${i}`, 'u'))
    const written = await inbox.deliver(ids.map((id) => ({ userId: 'u', message: msg(id) })))
    const cursor = written
      .map((r) => r.cursor as string)
      .sort(compareCursors)
      .at(-1) as string
    // one change each (the same frame twice is one entry, moved to its later cursor)
    for (const id of ids) await inbox.markRead('u', [id])
    expect(await redis.zcard(keys.inboxChanges('u'))).toBe(500)
    const behind = await inbox.since('u', cursor, 1000)
    expect(behind.gap).toBe(true)
    expect(behind.frames).toHaveLength(500)
    expect(JSON.parse(behind.frames[0] as string)).toEqual({ type: 'read', ids: [ids[10]] })
    const recent = await inbox.since('u', behind.lastCursor as string)
    expect(recent.gap).toBe(false)
  })
})
