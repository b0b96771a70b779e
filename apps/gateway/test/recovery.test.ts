import { Inbox } from '@herald/inbox'
import { redisModes, sleep, waitFor } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cluster, message } from './helpers'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let c: Cluster
  beforeEach(() => {
    c = new Cluster(mode)
  })
  afterEach(() => c.close())

  describe('recovery with since=<cursor>', () => {
    it('replays exactly the messages missed while disconnected, in order, on another replica, then goes live', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const u = await c.user()
      const first = await c.online(r1, u)
      const seen = await c.deliver(u.userId, 3, 'before')
      await waitFor(() => first.messages().length === 3)
      const last = first.of('message').at(-1)?.cursor as string
      await first.close()

      const missed = await c.deliver(u.userId, 5, 'missed')
      const again = await c.online(r2, u, last)
      expect(again.frames[0]).toMatchObject({ type: 'welcome', resumed: true, gap: false })
      await waitFor(() => again.messages().length === 5)
      expect(again.messages()).toEqual(missed)
      const live = await c.deliver(u.userId, 2, 'live')
      await waitFor(() => again.messages().length === 7)
      expect(again.messages()).toEqual([...missed, ...live])
      expect(again.messages()).not.toContain(seen[0])
    })

    it('a client dropped before its first message resumes from the cursor in its welcome and loses nothing', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const u = await c.user()
      await c.deliver(u.userId, 2, 'before')
      const first = await c.online(r1, u)
      const welcome = first.frames[0] as { cursor?: string }
      expect(welcome).toMatchObject({ type: 'welcome', resumed: false })
      expect(welcome.cursor).toMatch(/^[0-9]+$/)
      // dropped before anything reached it (a gateway restart right after the welcome)
      await first.close()
      const missed = await c.deliver(u.userId, 3, 'missed')
      const again = await c.online(r2, u, welcome.cursor)
      expect(again.frames[0]).toMatchObject({ type: 'welcome', resumed: true, gap: false })
      await waitFor(() => again.messages().length === 3)
      expect(again.messages()).toEqual(missed)
    })

    it('joins replay and live with no gap and no duplicate while messages keep arriving', async () => {
      const r = await c.start({ REPLAY_PAGE_SIZE: 7 })
      const u = await c.user()
      const before = await c.deliver(u.userId, 40, 'old')
      let stop = false
      const sent: string[] = [...before]
      const writer = (async () => {
        for (let i = 0; !stop && i < 400; i++) {
          sent.push(...(await c.deliver(u.userId, 1, `race${i}`)))
          await sleep(1)
        }
      })()
      await sleep(15)
      const cl = await c.online(r, u, '0')
      await sleep(150)
      stop = true
      await writer
      await waitFor(() => cl.messages().length === sent.length, 5000)
      await sleep(200)
      expect(cl.messages()).toEqual(sent)
      expect(new Set(cl.messages()).size).toBe(sent.length)
    })

    it('says gap:true when the cursor is older than what the inbox still holds', async () => {
      const r = await c.start({ INBOX_MAX_ITEMS: 3 })
      const u = await c.user()
      const small = new Inbox(c.redis, c.keys, { maxItems: 3 })
      const [first] = await small.deliver([{ userId: u.userId, message: message('g0') }])
      await small.deliver(['g1', 'g2', 'g3', 'g4'].map((id) => ({ userId: u.userId, message: message(id) })))
      const cl = await c.online(r, u, first?.cursor as string)
      expect(cl.frames[0]).toMatchObject({ type: 'welcome', resumed: true, gap: true })
      await waitFor(() => cl.messages().length === 3)
      expect(cl.messages()).toEqual(['g2', 'g3', 'g4'])
    })

    it('treats an unreadable cursor as a gap and goes live', async () => {
      const r = await c.start()
      const u = await c.user()
      const cl = await c.online(r, u, 'yesterday')
      expect(cl.frames[0]).toMatchObject({ type: 'welcome', resumed: false, gap: true })
    })
  })
})
