import { ControlWriter } from '@herald/presence'
import { redisModes, waitFor } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cluster, floodSlowConsumer, type Replica } from './helpers'
import { SseClient } from './sse-client'

const streams: SseClient[] = []
afterEach(() => {
  for (const s of streams.splice(0)) s.close()
})

/** `GET /sse` on a replica with a fresh ticket (or the given one). */
function stream(
  c: Cluster,
  r: Replica,
  u: { userId: string; sessionId: string },
  q: { since?: string; ticket?: string } = {},
  headers: Record<string, string> = {},
) {
  const ticket = q.ticket ?? c.ticket({ sub: u.userId, sid: u.sessionId })
  const s = new SseClient(`${r.http}/sse?ticket=${ticket}${q.since === undefined ? '' : `&since=${q.since}`}`, headers)
  streams.push(s)
  return s
}

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let c: Cluster
  let writer: ControlWriter
  beforeEach(() => {
    c = new Cluster(mode)
    writer = new ControlWriter(c.redis, c.keys, 1000)
  })
  afterEach(() => c.close())

  describe('the SSE transport (GET /sse)', () => {
    it('opens an unbuffered event stream: welcome with its cursor as id, then live messages with theirs', async () => {
      const r = await c.start()
      const u = await c.user()
      const s = stream(c, r, u)
      expect(await s.opened).toBe(200)
      expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(s.headers['x-accel-buffering']).toBe('no')
      expect(s.headers['cache-control']).toContain('no-cache')
      const welcome = await s.next('welcome')
      expect(welcome).toMatchObject({ userId: u.userId, replica: r.id, resumed: false, gap: false })
      expect(welcome.eventId).toBe(welcome.cursor)
      expect(s.retry).toBe(1000)
      const ids = await c.deliver(u.userId, 3)
      await waitFor(() => s.messages().length === 3)
      expect(s.messages()).toEqual(ids)
      for (const e of s.events.filter((e) => e.event === 'message').slice(1)) {
        expect(e.id).toBe((JSON.parse(e.data) as { cursor: string }).cursor)
      }
    })

    it('Last-Event-ID resumes exactly like since, on another replica, and wins over an older since', async () => {
      const [r1, r2] = [await c.start(), await c.start()]
      const u = await c.user()
      const first = stream(c, r1, u)
      await first.next('welcome')
      const stale = first.lastEventId() as string
      const seen = await c.deliver(u.userId, 3, 'seen')
      await waitFor(() => first.messages().length === 3)
      const last = first.lastEventId() as string
      first.close()
      const missed = await c.deliver(u.userId, 4, 'missed')
      // what an EventSource does: the same URL (since now stale), plus the header
      const again = stream(c, r2, u, { since: stale }, { 'last-event-id': last })
      expect(await again.next('welcome')).toMatchObject({ resumed: true, gap: false })
      await waitFor(() => again.messages().length === 4)
      const live = await c.deliver(u.userId, 2, 'live')
      await waitFor(() => again.messages().length === 6)
      expect(again.messages()).toEqual([...missed, ...live])
      expect(again.messages()).not.toContain(seen[2])
    })

    it('a logout control entry ends the stream with close 4409', async () => {
      const r = await c.start()
      const u = await c.user()
      const s = stream(c, r, u)
      await s.next('welcome')
      await c.sessions.revoke(u.userId, u.sessionId)
      await writer.close(u.userId, 'logout', u.sessionId)
      expect(await s.closed).toEqual({ code: 4409, reason: 'logout' })
      await waitFor(async () => (await c.redis.hlen(c.keys.presence(u.userId))) === 0)
    })

    it('a stream and a socket of one user both get the read sync of a third', async () => {
      const r = await c.start()
      const u = await c.user()
      const s = stream(c, r, u)
      await s.next('welcome')
      const ws = await c.online(r, u)
      const sender = await c.online(r, u)
      const [id] = await c.deliver(u.userId, 1)
      await waitFor(() => s.messages().length === 1 && sender.messages().length === 1)
      sender.send({ type: 'read', ids: [id] })
      expect(await s.next('read')).toMatchObject({ type: 'read', ids: [id] })
      expect(await ws.next('read')).toEqual({ type: 'read', ids: [id] })
    })
  })
})

describe('SSE: tickets, limits, liveness and drain', () => {
  let c: Cluster
  beforeEach(() => {
    c = new Cluster()
  })
  afterEach(() => c.close())

  it('burns the ticket like /ws: a reused ticket is refused 401 (4401 on a socket)', async () => {
    const r = await c.start()
    const u = await c.user()
    const ticket = c.ticket({ sub: u.userId, sid: u.sessionId })
    const s = stream(c, r, u, { ticket })
    await s.next('welcome')
    // refused before the stream starts: an HTTP error, so an EventSource stops instead of retrying it
    const again = stream(c, r, u, { ticket })
    expect(await again.refused()).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED', message: 'ticket already used' },
    })
    const ws = c.connect(`${r.url}?ticket=${ticket}`)
    expect((await ws.closed).code).toBe(4401)
    const none = new SseClient(`${r.http}/sse`)
    streams.push(none)
    expect(await none.refused()).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED', message: 'missing ticket' },
    })
  })

  it('keeps the CORS and security headers of the app on the stream, and never logs the ticket', async () => {
    const r = await c.start({ CORS_ORIGINS: 'https://app.example', ALLOWED_ORIGINS: 'https://app.example' })
    const u = await c.user()
    const ticket = c.ticket({ sub: u.userId, sid: u.sessionId })
    const s = stream(c, r, u, { ticket }, { origin: 'https://app.example' })
    await s.next('welcome')
    expect(s.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(s.headers['x-content-type-options']).toBe('nosniff')
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    s.close()
    await waitFor(() => r.app.gateway.registry.size === 0)
    expect(r.logs.containsAny([ticket, u.token])).toEqual([])
  })

  it('accepts a session token in Authorization, like /ws', async () => {
    const r = await c.start()
    const u = await c.user()
    const s = new SseClient(`${r.http}/sse`, { authorization: `Bearer ${u.token}` })
    streams.push(s)
    expect(await s.next('welcome')).toMatchObject({ userId: u.userId })
  })

  it('refuses a bad since, a bad Last-Event-ID and a foreign Origin with an HTTP error and a stable code', async () => {
    const r = await c.start({ ALLOWED_ORIGINS: 'https://app.example' })
    const u = await c.user()
    const long = '9'.repeat(65)
    const bad = await r.app.inject({ url: `/sse?ticket=t&since=${long}` })
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_ERROR' })
    const badHeader = await r.app.inject({ url: '/sse?ticket=t', headers: { 'last-event-id': long } })
    expect(badHeader.statusCode).toBe(400)
    expect(badHeader.json()).toMatchObject({ code: 'VALIDATION_ERROR' })
    const foreign = stream(c, r, u, {}, { origin: 'https://evil.example' })
    expect(await foreign.opened).toBe(403)
    await foreign.closed
    expect(JSON.parse(foreign.body)).toMatchObject({ code: 'FORBIDDEN' })
    const ok = stream(c, r, u, {}, { origin: 'https://app.example' })
    await ok.next('welcome')
  })

  it('an unreadable cursor cannot be resumed from: the welcome says gap', async () => {
    const r = await c.start()
    const u = await c.user()
    const s = stream(c, r, u, {}, { 'last-event-id': 'not-a-cursor' })
    expect(await s.next('welcome')).toMatchObject({ resumed: false, gap: true })
  })

  it('counts streams and sockets together against the per-user cap (429) and MAX_SOCKETS (503 + Retry-After)', async () => {
    const r = await c.start({ MAX_CONNECTIONS_PER_USER: 2, MAX_SOCKETS: 3, ADMISSION_RETRY_AFTER_SECONDS: 7 })
    const u = await c.user()
    await c.online(r, u)
    await stream(c, r, u).next('welcome')
    expect(await stream(c, r, u).refused()).toMatchObject({
      status: 429,
      body: { code: 'TOO_MANY_REQUESTS', message: 'too many connections' },
    })
    await waitFor(() => r.app.gateway.registry.size === 2)
    await stream(c, r, await c.user()).next('welcome')
    // the socket is not a stream; the refused stream is gone
    expect((await r.app.inject('/metrics')).body).toMatch(/^gateway_sse_streams 2$/m)
    expect(await stream(c, r, await c.user()).refused()).toMatchObject({
      status: 503,
      body: { code: 'SERVICE_UNAVAILABLE' },
      retryAfter: '7',
    })
  })

  it('takes client frames as POST /sse/frames on any replica: an ack records the receipt, a read syncs the other tabs', async () => {
    const [r1, r2] = [await c.start(), await c.start()]
    const u = await c.user()
    const s = stream(c, r1, u)
    await s.next('welcome')
    const other = await c.online(r1, u)
    const [id, id2] = await c.deliver(u.userId, 2)
    await waitFor(() => s.messages().length === 2)
    const post = (body: unknown, token: string | null = u.token) =>
      fetch(`${r2.http}/sse/frames`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      })
    expect((await post({ type: 'ack', ids: [id] })).status).toBe(204)
    const receipt = await c.inbox.receipt(id as string)
    expect(receipt?.devices).toBe(1)
    expect((await post({ type: 'read', ids: [id2] })).status).toBe(204)
    expect(await other.next('read')).toEqual({ type: 'read', ids: [id2] })
    expect(await s.next('read')).toMatchObject({ type: 'read', ids: [id2] })
    expect(await c.redis.zrange(c.keys.inboxUnread(u.userId), 0, -1)).toEqual([id])
    expect((await post({ type: 'state', state: 'archived', ids: [id] })).status).toBe(204)
    expect(await other.next('state')).toEqual({ type: 'state', state: 'archived', ids: [id] })
    expect(await s.next('state')).toMatchObject({ type: 'state', state: 'archived', ids: [id] })

    const anonymous = await post({ type: 'ack', ids: [id] }, null)
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' })
    for (const bad of [
      { type: 'subscribe', ids: [id] },
      { type: 'ack', ids: [] },
      { type: 'ack', ids: [id], x: 1 },
      { type: 'state', state: 'hidden', ids: [id] },
    ]) {
      const res = await post(bad)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'VALIDATION_ERROR' })
    }
  })

  it('limits POST /sse/frames per session like a socket: past the burst 429 TOO_MANY_REQUESTS with Retry-After, then refilled', async () => {
    const r = await c.start({ FRAME_RATE_PER_SECOND: 2, FRAME_BURST: 3 })
    const [u, other] = [await c.user(), await c.user()]
    const [id] = await c.deliver(u.userId, 1)
    const post = (token: string) =>
      fetch(`${r.http}/sse/frames`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ type: 'ack', ids: [id] }),
      })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await post(u.token)).status)
    expect(statuses).toEqual([204, 204, 204, 429])
    const refused = await post(u.token)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ code: 'TOO_MANY_REQUESTS' })
    // another session has its own bucket; this one refills at 2 frames per second
    expect((await post(other.token)).status).toBe(204)
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect((await post(u.token)).status).toBe(204)
  })

  it('sends a comment line every ping period', async () => {
    const r = await c.start({ PING_INTERVAL_MS: 100 })
    const s = stream(c, r, await c.user())
    await s.next('welcome')
    await waitFor(() => s.comments.filter((x) => x === 'ping').length >= 3, 3000)
    expect(r.app.gateway.registry.size).toBe(1)
  })

  it('closes a stream whose client stopped reading with 1013 (slow consumer) without delaying a fast one', async () => {
    const r = await c.start({ SLOW_CONSUMER_BYTES: 256 * 1024 })
    const slowUser = await c.user()
    const fastUser = await c.user()
    const slow = stream(c, r, slowUser)
    const fast = stream(c, r, fastUser)
    await slow.next('welcome')
    await fast.next('welcome')
    slow.res?.socket?.pause()
    const { fastIds, closedAt } = await floodSlowConsumer(c, r, slowUser.userId, fastUser.userId)
    expect(closedAt).toBeGreaterThanOrEqual(0)
    await waitFor(() => fast.messages().length === fastIds.length)
    expect(fast.messages()).toEqual(fastIds)
    slow.res?.socket?.resume()
    expect(await slow.closed).toEqual({ code: 1013, reason: 'slow consumer' })
    expect(r.app.gateway.registry.size).toBe(1)
  })

  it('drain ends every stream with close 1012 and refuses new ones while draining', async () => {
    const r = await c.start()
    const u = await c.user()
    const s = stream(c, r, u)
    await s.next('welcome')
    const closing = r.app.gateway.drain()
    expect(await s.closed).toEqual({ code: 1012, reason: 'restarting' })
    // a new stream while draining: 503, which nginx hands to the next gateway
    expect(await stream(c, r, u).refused()).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } })
    await closing
  })
})
