import { createKeys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, uniquePrefix } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Inbox, type NewMessage } from '../src/inbox'
import { MAX_PREFERENCES, Preferences } from '../src/preferences'

/** Preferences and device targeting, honoured in the delivery step itself: one Redis, a Cluster, Sentinel. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  function setup() {
    const keys = createKeys(uniquePrefix('prefs'), 4)
    const gw = new PresenceWriter(redis, keys, { replica: 'gw' })
    let n = 0
    return {
      keys,
      inbox: new Inbox(redis, keys),
      prefs: new Preferences(redis, keys),
      async online(...users: string[]) {
        await gw.heartbeat()
        for (const u of users)
          await gw.connect(`c${n++}`, u, { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() })
      },
      async entries() {
        const all = await Promise.all(
          keys.allPartitions().map(async (p) => {
            const rows = (await redis.xrange(keys.gatewayStream(p, 'gw'), '-', '+')) as [string, string[]][]
            return rows.map(([, f]) => {
              const o: Record<string, string> = {}
              for (let i = 0; i < f.length; i += 2) o[f[i] as string] = f[i + 1] as string
              return o
            })
          }),
        )
        return all.flat()
      },
    }
  }
  const msg = (id: string, extra: Partial<NewMessage> = {}): NewMessage => ({
    id,
    kind: 'chat.message',
    title: `title ${id}`,
    body: 'b',
    data: {},
    createdAt: new Date().toISOString(),
    source: 'billing',
    ...extra,
  })

  it("a kind turned 'off' is not written: no inbox item, no stream entry, a receipt marked muted", async () => {
    const { inbox, prefs, online, entries, keys } = setup()
    await online('u1')
    await prefs.replace('u1', { 'chat.message': 'off', 'billing.invoice': 'on' })
    expect(await prefs.get('u1')).toEqual({ 'chat.message': 'off' })
    const [r] = await inbox.deliver([{ userId: 'u1', message: msg('m1') }])
    expect(r).toMatchObject({ cursor: null, muted: true })
    expect(await entries()).toEqual([])
    expect((await inbox.page('u1', { limit: 10 })).items).toEqual([])
    const receipt = await redis.hgetall(keys.messageReceipt(keys.partitionOf('u1'), 'm1'))
    expect(receipt).toMatchObject({ userId: 'u1', source: 'billing', muted: '1' })
    // a retry of the same message stays muted and writes nothing
    const [again] = await inbox.deliver([{ userId: 'u1', message: msg('m1') }])
    expect(again?.cursor).toBeNull()
    // another kind is delivered as before
    const [other] = await inbox.deliver([{ userId: 'u1', message: msg('m2', { kind: 'billing.invoice' }) }])
    expect(other?.cursor).toMatch(/^[0-9]+$/)
    expect(await entries()).toHaveLength(1)
  })

  it("a kind set 'silent' is kept in the inbox (unread) and pushed to no gateway", async () => {
    const { inbox, prefs, online, entries } = setup()
    await online('u1')
    await prefs.replace('u1', { 'chat.message': 'silent' })
    const [r] = await inbox.deliver([{ userId: 'u1', message: msg('m1') }])
    expect(r?.cursor).toMatch(/^[0-9]+$/)
    expect(await entries()).toEqual([])
    const page = await inbox.page('u1', { limit: 10 })
    expect(page.items.map((i) => i.id)).toEqual(['m1'])
    expect(page.unread).toBe(1)
  })

  it('a kind nobody may mute (mandatory) is delivered whatever the user chose', async () => {
    const { inbox, prefs, online, entries } = setup()
    await online('u1')
    await prefs.replace('u1', { 'account.login': 'off' })
    const [r] = await inbox.deliver([{ userId: 'u1', message: msg('m1', { kind: 'account.login', mandatory: true }) }])
    expect(r?.cursor).toMatch(/^[0-9]+$/)
    expect(await entries()).toHaveLength(1)
  })

  it('copies the choices users set before the partition copy existed (an upgrade), once; a copy already there is kept', async () => {
    const { keys, prefs } = setup()
    const users = ['p1', 'p2', 'p3', 'p4']
    // set the way earlier releases did: the user's hash only
    await redis.hset(keys.preferences('p1'), 'news', 'off')
    await redis.hset(keys.preferences('p2'), { news: 'silent', chat: 'off' })
    // changed since the upgrade: its copy is the newer one
    await prefs.replace('p3', { news: 'silent' })
    await redis.hset(keys.preferences('p3'), 'news', 'off')
    const pagesOf = async function* (p: number) {
      yield users.filter((u) => keys.partitionOf(u) === p)
    }
    expect(await prefs.copyToPartitions(pagesOf)).toBe(2)
    const copy = async (u: string) =>
      JSON.parse((await redis.hget(keys.partitionPreferences(keys.partitionOf(u)), u)) ?? 'null')
    expect(await copy('p1')).toEqual({ news: 'off' })
    expect(await copy('p2')).toEqual({ news: 'silent', chat: 'off' })
    expect(await copy('p3')).toEqual({ news: 'silent' })
    expect(await copy('p4')).toBeNull()
    // once per partition
    await redis.hset(keys.preferences('p4'), 'news', 'off')
    expect(await prefs.copyToPartitions(pagesOf)).toBe(0)
    expect(await copy('p4')).toBeNull()
  })

  it('device targeting: the entry names the sessions (or the one left out) and the frame says so', async () => {
    const { inbox, online, entries } = setup()
    await online('u1', 'u2')
    await inbox.deliver([
      { userId: 'u1', message: msg('m1', { sessionIds: ['s-a', 's-b'] }) },
      { userId: 'u2', message: msg('m2', { exceptSessionId: 's-c' }) },
    ])
    const byUser = Object.fromEntries((await entries()).map((e) => [e.u, e]))
    expect(byUser.u1?.d).toBe('s-a,s-b')
    expect(JSON.parse(byUser.u1?.p as string).sessionIds).toEqual(['s-a', 's-b'])
    expect(byUser.u2?.d).toBe('!s-c')
    expect(JSON.parse(byUser.u2?.p as string).exceptSessionId).toBe('s-c')
    // an ordinary message carries no d field
    await inbox.deliver([{ userId: 'u1', message: msg('m3') }])
    expect((await entries()).find((e) => JSON.parse(e.p as string).id === 'm3')?.d).toBeUndefined()
    await expect(inbox.deliver([{ userId: 'u1', message: msg('m4', { sessionIds: ['a,b'] }) }])).rejects.toThrow(
      /invalid session id/,
    )
  })

  it(`keeps at most ${MAX_PREFERENCES} kinds, and replacing drops what is not listed`, async () => {
    const { prefs } = setup()
    const many = Object.fromEntries(Array.from({ length: MAX_PREFERENCES + 1 }, (_, i) => [`k${i}`, 'off' as const]))
    await expect(prefs.replace('u1', many)).rejects.toThrow(/at most/)
    await prefs.replace('u1', { a: 'off', b: 'silent' })
    await prefs.replace('u1', { b: 'off' })
    expect(await prefs.get('u1')).toEqual({ b: 'off' })
  })
})
