import { PresenceWriter } from '@herald/presence'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness } from './helpers'

let h: Harness
afterEach(() => h?.close())

describe('GET /v1/users/:id/presence', () => {
  it('shows the user’s live connections across replicas, and offline users', async () => {
    h = await harness({}, { online: [] })
    const gw1 = new PresenceWriter(h.redis, h.keys, { replica: 'gw-1' })
    const gw2 = new PresenceWriter(h.redis, h.keys, { replica: 'gw-2' })
    await gw1.heartbeat()
    await gw2.heartbeat()
    await gw1.connect('c1', 'u1', { device: 'laptop', sessionId: 's1', connectedAt: '2026-01-01T00:00:00.000Z' })
    await gw2.connect('c2', 'u1', { device: 'phone', sessionId: 's2', connectedAt: '2026-01-01T00:00:01.000Z' })
    const res = await h.app.inject({ url: '/v1/users/u1/presence', headers: h.auth('presence:read') })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      userId: 'u1',
      online: true,
      connections: [
        { connId: 'c1', replica: 'gw-1', device: 'laptop', connectedAt: '2026-01-01T00:00:00.000Z' },
        { connId: 'c2', replica: 'gw-2', device: 'phone', connectedAt: '2026-01-01T00:00:01.000Z' },
      ],
    })
    const off = (await h.app.inject({ url: '/v1/users/u9/presence', headers: h.auth() })).json()
    expect(off).toEqual({ userId: 'u9', online: false, connections: [] })
    expect((await h.app.inject({ url: '/v1/users/bad%20id/presence', headers: h.auth() })).statusCode).toBe(400)
  })
})

describe('POST /v1/users/:id/disconnect', () => {
  it('writes a control entry that closes every socket of the user, and answers 204', async () => {
    h = await harness()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/users/u1/disconnect',
      headers: h.auth('users:disconnect'),
    })
    expect(res.statusCode).toBe(204)
    const entries = await h.entries()
    expect(entries).toHaveLength(1)
    expect(entries[0]![1]).toEqual(['k', 'x', 'u', 'u1', 'p', 'disconnected'])
  })
})

describe('GET /v1/stats', () => {
  it('reports presence, queue counts and the delivery stream', async () => {
    h = await harness({}, { online: [] })
    const empty = (await h.app.inject({ url: '/v1/stats', headers: h.auth('stats:read') })).json()
    expect(empty).toEqual({
      onlineUsers: 0,
      connections: 0,
      replicas: [],
      queue: { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 },
      stream: { length: 0, lastId: null },
    })
    const gw = new PresenceWriter(h.redis, h.keys, { replica: 'gw-1' })
    await gw.heartbeat()
    await gw.connect('c1', 'u1', { device: 'laptop', sessionId: 's1', connectedAt: new Date().toISOString() })
    await gw.connect('c2', 'u1', { device: 'phone', sessionId: 's2', connectedAt: new Date().toISOString() })
    await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: { id: 's-1', type: 'order.shipped', data: { userId: 'u1', orderId: 'o' } },
    })
    await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: {
        id: 's-2',
        type: 'order.shipped',
        data: { userId: 'u1', orderId: 'o' },
        deliverAt: new Date(Date.now() + 60_000).toISOString(),
      },
    })
    await h.app.inject({ method: 'POST', url: '/v1/users/u1/disconnect', headers: h.auth() })
    const stats = (await h.app.inject({ url: '/v1/stats', headers: h.auth() })).json()
    expect(stats).toMatchObject({
      onlineUsers: 1,
      connections: 2,
      replicas: [{ id: 'gw-1', alive: true, connections: 2, users: 1 }],
      queue: { waiting: 1, active: 0, delayed: 1, failed: 0, completed: 0 },
      stream: { length: 1 },
    })
    expect(stats.stream.lastId).toMatch(/^\d+-\d+$/)
  })
})
