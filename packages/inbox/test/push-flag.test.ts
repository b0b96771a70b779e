import { createKeys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, uniquePrefix } from '@herald/test-utils'
import { UserStore } from '@herald/users'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Inbox, type NewMessage } from '../src/inbox'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('the Web Push flag of a delivery on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  const msg = (id: string, kind = 'chat'): NewMessage => ({
    id,
    kind,
    title: 't',
    body: 'b',
    data: {},
    createdAt: new Date().toISOString(),
  })

  async function setup(push: 'off' | 'offline' | 'undelivered') {
    const keys = createKeys(uniquePrefix('inbox-push'), 4)
    const gw = new PresenceWriter(redis, keys, { replica: 'gw' })
    await gw.heartbeat()
    await gw.connect('c1', 'online', { device: 'd', sessionId: 's', connectedAt: new Date().toISOString() })
    // the push subscriptions hash is packages/push's; here only its existence matters
    for (const u of ['online', 'offline', 'quiet']) await redis.hset(keys.pushSubscriptions(u), 'sub', '{}')
    await redis.hset(keys.preferences('quiet'), 'chat', 'silent')
    const store = new UserStore(redis, keys)
    for (const u of ['online', 'offline', 'quiet', 'nosub']) await store.ensure(u, '+15550000000', u, Date.now() - 1)
    const inbox = new Inbox(redis, keys, { push })
    // a message id names one user, as the notifier's do (messageIdFor(requestId, userId))
    const deliver = async (userId: string, id: string) => {
      const [r] = await inbox.deliver([{ userId, message: msg(inbox.messageIdFor(`${id}_${userId}`, userId)) }])
      return r
    }
    return { deliver, inbox, keys }
  }

  it('says push for an offline user with a subscription, in the same step that found no route', async () => {
    const { deliver } = await setup('offline')
    const r = await deliver('offline', 'm1')
    expect(r?.push).toBe('offline')
    expect(r?.cursor).toMatch(/^\d+$/)
    expect((await deliver('online', 'm1'))?.push).toBeUndefined()
    expect((await deliver('nosub', 'm1'))?.push).toBeUndefined()
    expect((await deliver('quiet', 'm1'))?.push).toBeUndefined()
    // a retried delivery writes nothing; it asks again for the push while it is still owed
    // (the first run's caller may not have queued it; the job id dedupes a second one)
    expect(await deliver('offline', 'm1')).toMatchObject({ cursor: null, push: 'offline' })
    expect(await deliver('online', 'm1')).toEqual({ userId: 'online', messageId: expect.any(String), cursor: null })
    expect(await deliver('quiet', 'm1')).toMatchObject({ cursor: null })
    expect((await deliver('quiet', 'm1'))?.push).toBeUndefined()
  })

  it('a retried delivery asks for no push once one was sent or a device acked the message', async () => {
    const { deliver, inbox } = await setup('offline')
    const pushed = (await deliver('offline', 'p1'))?.messageId as string
    await inbox.markPushed('offline', pushed)
    expect(await deliver('offline', 'p1')).toEqual({ userId: 'offline', messageId: pushed, cursor: null })
    const acked = (await deliver('offline', 'p2'))?.messageId as string
    await inbox.recordAcks('offline', 'device-1', [acked])
    expect(await deliver('offline', 'p2')).toEqual({ userId: 'offline', messageId: acked, cursor: null })
    // retracted: out of the inbox, nothing owed
    const gone = (await deliver('offline', 'p3'))?.messageId as string
    await inbox.retract('offline', gone)
    expect((await deliver('offline', 'p3'))?.push).toBeUndefined()
  })

  it("with 'undelivered' also flags an online user with a subscription; with 'off' never", async () => {
    const on = await setup('undelivered')
    expect((await on.deliver('online', 'm2'))?.push).toBe('undelivered')
    expect((await on.deliver('offline', 'm2'))?.push).toBe('offline')
    const off = await setup('off')
    expect((await off.deliver('offline', 'm3'))?.push).toBeUndefined()
  })

  it('a message to everyone owes a push to the users with no live socket and a subscription (not silent ones), until they read it', async () => {
    const { inbox, keys } = await setup('undelivered')
    const users = ['online', 'offline', 'quiet', 'nosub', 'no-record']
    const pushes = async (id: string, i = inbox) =>
      (
        await Promise.all(
          keys.allPartitions().map((p) =>
            i.announcePushes(
              p,
              users.filter((u) => keys.partitionOf(u) === p),
              id,
            ),
          ),
        )
      ).flat()
    await inbox.announceAll(msg('ann-1.all'))
    expect(await pushes('ann-1.all')).toEqual(['offline'])
    // asked again (a retry): still owed (the first run's caller may not have queued it; the job id dedupes a second one)
    expect(await pushes('ann-1.all')).toEqual(['offline'])
    // taken in, still unread: owed; read: nothing owed
    await inbox.counts('offline')
    expect(await pushes('ann-1.all')).toEqual(['offline'])
    await inbox.markRead('offline', ['ann-1.all'])
    expect(await pushes('ann-1.all')).toEqual([])
    const off = await setup('off')
    await off.inbox.announceAll(msg('ann-2.all'))
    expect(await pushes('ann-2.all', off.inbox)).toEqual([])
  })
})
