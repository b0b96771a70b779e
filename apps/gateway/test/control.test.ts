import { Inbox } from '@herald/inbox'
import { ControlWriter } from '@herald/presence'
import { redisModes, sleep, waitFor } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AckBatcher } from '../src/ack-batcher'
import { Cluster } from './helpers'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let c: Cluster
  let writer: ControlWriter
  beforeEach(() => {
    c = new Cluster(mode)
    writer = new ControlWriter(c.redis, c.keys, 1000)
  })
  afterEach(() => c.close())

  describe('control entries and client frames', () => {
    it('closes only the revoked session’s sockets 4409 within 1 s, on every replica', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const u = await c.user('laptop')
      const other = await c.sessions.create({ userId: u.userId, nickname: 'n', phone: 'p', device: 'phone' })
      const a = await c.online(r1, u)
      const b = await c.online(r2, u)
      const keep = await c.online(r2, { userId: u.userId, sessionId: other.record.id })
      const t0 = Date.now()
      await c.sessions.revoke(u.userId, u.sessionId)
      await writer.close(u.userId, 'logout', u.sessionId)
      expect(await a.closed).toEqual({ code: 4409, reason: 'logout' })
      expect(await b.closed).toEqual({ code: 4409, reason: 'logout' })
      expect(Date.now() - t0).toBeLessThan(1000)
      await sleep(100)
      expect(keep.ws.readyState).toBe(keep.ws.OPEN)
      await waitFor(async () => (await c.redis.hlen(c.keys.presence(u.userId))) === 1)
    })

    it('closes every socket of a user disconnected by the API (no session id) with 4409', async () => {
      const r = await c.start()
      const u = await c.user()
      const other = await c.sessions.create({ userId: u.userId, nickname: 'n', phone: 'p', device: 'phone' })
      const a = await c.online(r, u)
      const b = await c.online(r, { userId: u.userId, sessionId: other.record.id })
      const bystander = await c.online(r, await c.user())
      await writer.close(u.userId, 'disconnected')
      expect((await a.closed).code).toBe(4409)
      expect(await b.closed).toEqual({ code: 4409, reason: 'disconnected' })
      expect(bystander.ws.readyState).toBe(bystander.ws.OPEN)
    })

    it('a read frame marks messages read and reaches the user’s other sockets on another replica, not the sender', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const u = await c.user()
      const a = await c.online(r1, u)
      const b = await c.online(r2, u)
      const ids = await c.deliver(u.userId, 2)
      await waitFor(() => a.messages().length === 2 && b.messages().length === 2)
      a.send({ type: 'read', ids: [ids[0]] })
      expect(await b.next('read')).toEqual({ type: 'read', ids: [ids[0]] })
      await sleep(150)
      expect(a.of('read')).toEqual([])
      expect(await c.redis.zrange(c.keys.inboxUnread(u.userId), 0, -1)).toEqual([ids[1]])
    })

    it('a state change reaches the user’s other sockets on every replica, not the sender; an HTTP one reaches all', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const u = await c.user()
      const a = await c.online(r1, u)
      const b = await c.online(r2, u)
      const b2 = await c.online(r1, u)
      const ids = (await c.deliver(u.userId, 3)) as [string, string, string]
      await waitFor(() => [a, b, b2].every((s) => s.messages().length === 3))
      a.send({ type: 'state', state: 'seen', ids: [ids[0], ids[1]] })
      for (const s of [b, b2])
        expect(await s.next('state')).toEqual({ type: 'state', state: 'seen', ids: [ids[0], ids[1]] })
      a.send({ type: 'state', state: 'archived', ids: [ids[0]] })
      for (const s of [b, b2]) expect(await s.next('state')).toMatchObject({ state: 'archived', ids: [ids[0]] })
      expect(await c.inbox.counts(u.userId)).toEqual({ total: 2, unseen: 1, unread: 2, archived: 1 })
      // a bulk change from elsewhere (POST /inbox/state has no origin): every socket, with the cursor
      const upTo = (await c.inbox.page(u.userId, { limit: 1 })).items[0]?.cursor as string
      await c.inbox.setState(u.userId, 'seen', { upTo })
      for (const s of [a, b, b2]) {
        await waitFor(() => s.of('state').some((f) => f.upTo === upTo))
      }
      a.send({ type: 'state', state: 'deleted', ids: [ids[2]] })
      await waitFor(() => b.of('state').some((f) => f.state === 'deleted' && (f.ids as string[])[0] === ids[2]))
      await sleep(150)
      expect(a.of('state').map((f) => f.state)).toEqual(['seen'])
      expect(a.of('error')).toEqual([])
      expect(await c.inbox.counts(u.userId)).toEqual({ total: 1, unseen: 0, unread: 1, archived: 1 })
    })

    it('an ack frame records a delivery receipt for the device', async () => {
      const r = await c.start()
      const u = await c.user()
      const a = await c.online(r, u)
      const [id] = await c.deliver(u.userId, 1)
      await a.next('message')
      a.send({ type: 'ack', ids: [id] })
      const receipt = await waitFor(async () => {
        const rc = await c.inbox.receipt(id as string)
        return rc?.devices === 1 ? rc : null
      })
      expect(receipt?.deliveredAt).toBeDefined()
      expect(a.of('error')).toEqual([])
    })

    it('records the acks of every socket within ACK_BATCH_MS together, each at its arrival time', async () => {
      const r = await c.start({ ACK_BATCH_MS: 1000 })
      const users = [await c.user(), await c.user(), await c.user()]
      const sockets = await Promise.all(users.map((u) => c.online(r, u)))
      // the three acks must come within one window (a slow machine: the window is 1 s)
      const ids = await Promise.all(users.map(async (u) => (await c.deliver(u.userId, 1))[0] as string))
      for (const s of sockets) await s.next('message')
      const record = Inbox.prototype.recordAckBatch
      const calledAt: number[] = []
      const batches = vi.spyOn(Inbox.prototype, 'recordAckBatch').mockImplementation(function (this: Inbox, acks) {
        calledAt.push(Date.now())
        return record.call(this, acks)
      })
      try {
        for (const [i, s] of sockets.entries()) s.send({ type: 'ack', ids: [ids[i]] })
        const receipts = await waitFor(async () => {
          const all = await Promise.all(ids.map((id) => c.inbox.receipt(id)))
          return all.every((rc) => rc?.devices === 1) ? all : null
        })
        // one call for the window (one script per partition inside it), not one per frame
        expect(batches).toHaveBeenCalledTimes(1)
        const items = batches.mock.calls[0]?.[0] ?? []
        expect(items.map((a) => a.userId).sort()).toEqual(users.map((u) => u.userId).sort())
        // the first ack waited for the window; each receipt says when its ack came, not when it was written
        expect((calledAt[0] as number) - Math.min(...items.map((a) => a.at))).toBeGreaterThanOrEqual(900)
        for (const [i, rc] of (receipts ?? []).entries()) {
          const item = items.find((a) => a.userId === users[i]?.userId)
          expect(Date.parse(rc?.deliveredAt as string)).toBe(item?.at)
        }
      } finally {
        batches.mockRestore()
      }
      for (const s of sockets) expect(s.of('error')).toEqual([])
    })

    it('records the acks still waiting for their window when the replica stops', async () => {
      const r = await c.start({ ACK_BATCH_MS: 1000 })
      const u = await c.user()
      const a = await c.online(r, u)
      const [id] = await c.deliver(u.userId, 1)
      await a.next('message')
      const added = vi.spyOn(AckBatcher.prototype, 'add')
      try {
        a.send({ type: 'ack', ids: [id] })
        await waitFor(() => added.mock.calls.length === 1)
        expect((await c.inbox.receipt(id as string))?.devices).toBe(0)
        await r.close()
        expect((await c.inbox.receipt(id as string))?.devices).toBe(1)
      } finally {
        added.mockRestore()
      }
    })

    it('answers garbage with error frames and closes a socket that keeps sending it 1008', async () => {
      const r = await c.start({ MAX_BAD_FRAMES: 5 })
      const a = await c.online(r, await c.user())
      a.send('not json')
      expect(await a.next('error')).toMatchObject({ code: 'INVALID_FRAME' })
      a.send({ type: 'subscribe', channel: 'x' })
      a.send({ type: 'ack', ids: [] })
      a.send({ type: 'read', ids: Array.from({ length: 101 }, (_, i) => `m${i}`) })
      a.ws.send(Buffer.from([1, 2, 3]), { binary: true })
      expect(await a.closed).toEqual({ code: 1008, reason: 'too many invalid frames' })
      expect(a.of('error')).toHaveLength(4)
      const m = (await r.app.inject('/metrics')).body
      expect(m).toMatch(/gateway_frames_rejected_total\{reason="invalid"\} 4/)
      expect(m).toMatch(/gateway_frames_rejected_total\{reason="binary"\} 1/)
    })

    it('closes a socket that sends a frame over 64 KiB with 1009, and one that breaks the protocol; both leave presence', async () => {
      const r = await c.start()
      const u = await c.user()
      const a = await c.online(r, u)
      a.send({ type: 'ack', ids: ['x'], pad: 'x'.repeat(65 * 1024) })
      expect((await a.closed).code).toBe(1009)
      // invalid UTF-8 in a text frame: an error on the established socket (its listener keeps
      // nothing of the upgrade's request), which is cut
      const b = await c.online(r, u)
      b.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false })
      expect((await b.closed).code).toBe(1007)
      await waitFor(async () => (await c.redis.hlen(c.keys.presence(u.userId))) === 0)
      expect(r.app.gateway.registry.size).toBe(0)
    })

    it('rate-limits client frames per socket: the excess is dropped, and the client told RATE_LIMITED once a second at most', async () => {
      const r = await c.start({ FRAME_RATE_PER_SECOND: 1, FRAME_BURST: 3 })
      const u = await c.user()
      const a = await c.online(r, u)
      const [id] = await c.deliver(u.userId, 1)
      await a.next('message')
      const rejected = async () =>
        Number(
          /gateway_frames_rejected_total\{reason="rate_limited"\} (\d+)/.exec(
            (await r.app.inject('/metrics')).body,
          )?.[1] ?? 0,
        )
      // 3 pass (the burst), 3 are dropped: one notice
      for (let i = 0; i < 6; i++) a.send({ type: 'ack', ids: [id] })
      await waitFor(async () => (await rejected()) === 3)
      await sleep(200)
      expect(a.of('error').map((f) => f.code)).toEqual(['RATE_LIMITED'])
      // a second later, still over the rate: told again
      await sleep(1000)
      for (let i = 0; i < 4; i++) a.send({ type: 'ack', ids: [id] })
      await waitFor(() => a.of('error').length === 2)
      expect(a.of('error').every((f) => f.code === 'RATE_LIMITED')).toBe(true)
      expect(a.ws.readyState).toBe(a.ws.OPEN)
    })
  })
})
