import { redisModes, sleep } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cluster, message } from './helpers'

/** Expiry and retraction as a client sees them: the same suite on one Redis, a Cluster and a Sentinel primary. */
describe.each(redisModes())('expiry and retraction on %s Redis', (mode) => {
  let c: Cluster
  beforeEach(() => {
    c = new Cluster(mode)
  })
  afterEach(() => c.close())

  it('delivers a message with its expiry, and does not replay it once past it', async () => {
    const r1 = await c.start()
    const u = await c.user()
    const cl = await c.online(r1, u)
    const expiresAt = new Date(Date.now() + 400).toISOString()
    const short = c.inbox.messageIdFor('short', u.userId)
    const keep = c.inbox.messageIdFor('keep', u.userId)
    await c.inbox.deliver([{ userId: u.userId, message: message(short, { expiresAt }) }])
    await c.inbox.deliver([{ userId: u.userId, message: message(keep) }])
    expect(await cl.next('message')).toMatchObject({ id: short, expiresAt })
    expect((await cl.next('message')).id).toBe(keep)
    await cl.close()
    await sleep(450)
    const again = await c.online(r1, u, '0')
    expect((await again.next('message')).id).toBe(keep)
    await sleep(100)
    expect(again.messages()).toEqual([keep])
  })

  it('does not send an entry it reads after the entry expired (a gateway behind its stream)', async () => {
    const r1 = await c.start()
    const u = await c.user()
    const cl = await c.online(r1, u)
    const p = c.keys.partitionOf(u.userId)
    const stream = c.keys.gatewayStream(p, r1.id)
    const frame = (id: string) => JSON.stringify({ type: 'message', cursor: '1', id, kind: 't', title: 't', body: '' })
    // as the deliver script writes them: the expiry in `x`, one already past, one ahead
    await c.redis.xadd(stream, '*', 'k', 'm', 'u', u.userId, 'c', '1', 'x', Date.now() - 1, 'p', frame('late.p0'))
    await c.redis.xadd(stream, '*', 'k', 'm', 'u', u.userId, 'c', '2', 'x', Date.now() + 60_000, 'p', frame('ok.p0'))
    expect((await cl.next('message')).id).toBe('ok.p0')
    expect(cl.messages()).toEqual(['ok.p0'])
  })

  it("retracts a message on every socket of its user, on every replica, and only its user's", async () => {
    const [r1, r2] = [await c.start(), await c.start()]
    const u = await c.user('laptop')
    const phone = await c.sessions.create({ userId: u.userId, nickname: 'n', phone: 'p', device: 'phone' })
    const other = await c.user()
    const a = await c.online(r1, u)
    const b = await c.online(r2, { userId: u.userId, sessionId: phone.record.id })
    const o = await c.online(r2, other)
    const [id] = await c.deliver(u.userId, 1)
    await a.next('message')
    await b.next('message')
    expect(await c.inbox.retract(u.userId, id as string)).toBe('retracted')
    expect(await a.next('retract')).toEqual({ type: 'retract', ids: [id] })
    expect(await b.next('retract')).toEqual({ type: 'retract', ids: [id] })
    await sleep(100)
    expect(o.of('retract')).toEqual([])
  })

  it('a device away during a read, a state change and a retraction gets them on reconnect, in order', async () => {
    const r1 = await c.start()
    const u = await c.user()
    const cl = await c.online(r1, u)
    const [a, b, d] = await c.deliver(u.userId, 3)
    await cl.next('message')
    await cl.next('message')
    const last = (await cl.next('message')).cursor as string
    await cl.close()
    await c.inbox.markRead(u.userId, [a as string])
    await c.inbox.setState(u.userId, 'archived', { ids: [b as string] })
    expect(await c.inbox.retract(u.userId, d as string)).toBe('retracted')
    const [e] = await c.deliver(u.userId, 1)
    const back = await c.online(r1, u, last)
    await back.next('message')
    expect(back.frames.slice(1)).toEqual([
      { type: 'read', ids: [a] },
      { type: 'state', state: 'archived', ids: [b] },
      { type: 'retract', ids: [d] },
      expect.objectContaining({ type: 'message', id: e }),
    ])
    expect(back.frames[0]).toMatchObject({ type: 'welcome', resumed: true, gap: false })
  })

  it('retracts a message to everyone with one entry per gateway listing its users', async () => {
    const [r1, r2] = [await c.start(), await c.start()]
    const users = await Promise.all([c.user(), c.user(), c.user()])
    const clients = [await c.online(r1, users[0]!), await c.online(r2, users[1]!), await c.online(r2, users[2]!)]
    const ids = users.map((u) => u.userId)
    await c.inbox.announceAll(message('news.all'))
    for (const cl of clients) await cl.next('message')
    await c.inbox.markTakenBack('news.all', 'retracted')
    for (const p of c.keys.allPartitions()) {
      await c.inbox.retractFrom(
        p,
        ids.filter((u) => c.keys.partitionOf(u) === p),
        'news.all',
      )
    }
    for (const cl of clients) expect(await cl.next('retract')).toEqual({ type: 'retract', ids: ['news.all'] })
  })
})
