import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, TestSocket, ticket } from '../client'
import { e2eStack } from './helpers'

/**
 * Expiry and taking messages back through the whole stack: nginx, the notifier APIs, the
 * worker, the gateways and real WebSockets — including a worker killed while it retracts a
 * message to everyone.
 */
let stack: Stack
const secrets: string[] = []

beforeAll(async () => {
  stack = await e2eStack()
})
afterAll(async () => {
  const logs = stack?.allLogs()
  await stack?.stop()
  expect(secrets.filter((s) => logs?.includes(s))).toEqual([])
})

async function user(): Promise<LoggedIn> {
  const u = await login(stack.url)
  secrets.push(u.token, u.code)
  return u
}
async function socket(u: LoggedIn, since?: string): Promise<TestSocket> {
  const t = await ticket(stack.url, u.token)
  secrets.push(t)
  return TestSocket.open(stack.wsUrl, t, since)
}
const service = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) =>
  // biome-ignore lint/suspicious/noExplicitAny: answers of several routes
  api<any>(stack.url, method, path, { token: stack.serviceToken, ...(body === undefined ? {} : { body }) })
async function inboxIds(u: LoggedIn): Promise<string[]> {
  const res = await api<{ items: { id: string }[] }>(stack.url, 'GET', '/inbox?limit=50', { token: u.token })
  return res.body.items.map((i) => i.id)
}

describe('expiry and retraction through the stack', () => {
  it('a message with a ttl reaches every socket with its expiry and leaves the inbox; a retraction reaches open sockets live and a reconnecting one on replay', async () => {
    const u = await user()
    const [a, b] = [await socket(u), await socket(u)]
    const away = await socket(u)
    const short = await service('POST', '/v1/messages', {
      to: { userIds: [u.user.id] },
      title: 'Your driver is outside',
      body: '',
      ttl: 2,
    })
    expect(short.status).toBe(202)
    const shortId = short.body.ids[0] as string
    const kept = await service('POST', '/v1/messages', { to: { userIds: [u.user.id] }, title: 'Wrong price', body: '' })
    const keptId = kept.body.ids[0] as string
    for (const s of [a, b, away]) {
      const m = await s.waitFrame((f) => f.type === 'message' && f.id === shortId)
      expect(Date.parse(m.expiresAt as string) - Date.now()).toBeGreaterThan(500)
      await s.waitFrame((f) => f.type === 'message' && f.id === keptId)
    }
    const since = away.lastCursor() as string
    away.close()
    await away.waitClosed()

    expect((await service('DELETE', `/v1/messages/${keptId}`)).body).toEqual({ id: keptId, status: 'retracted' })
    for (const s of [a, b]) await s.waitFrame((f) => f.type === 'retract' && (f.ids as string[])[0] === keptId)
    const back = await socket(u, since)
    await back.waitFrame((f) => f.type === 'retract' && (f.ids as string[])[0] === keptId)
    expect(back.welcome).toMatchObject({ resumed: true, gap: false })

    await expect.poll(() => inboxIds(u), { timeout: 5000, interval: 200 }).not.toContain(shortId)
    expect(await inboxIds(u)).not.toContain(keptId)
    expect((await service('GET', `/v1/messages/${shortId}`)).body.status).toBe('expired')
    // a socket that resumes from before both sees neither message
    const fresh = await socket(u, '0')
    await new Promise((r) => setTimeout(r, 300))
    expect(fresh.messages().map((m) => m.id)).not.toContain(shortId)
    expect(fresh.messages().map((m) => m.id)).not.toContain(keptId)
    for (const s of [a, b, back, fresh]) s.close()
  })

  it('cancels a scheduled message and a delayed event: nothing arrives when they fall due', async () => {
    const u = await user()
    const ws = await socket(u)
    const deliverAt = new Date(Date.now() + 1500).toISOString()
    const later = await service('POST', '/v1/messages', {
      to: { userIds: [u.user.id] },
      title: 'later',
      body: '',
      deliverAt,
    })
    const laterId = later.body.ids[0] as string
    expect((await service('GET', `/v1/messages/${laterId}`)).body.status).toBe('scheduled')
    expect((await service('DELETE', `/v1/messages/${laterId}`)).body.status).toBe('canceled')
    const evId = `e2e-cancel-${u.user.id}`
    const ev = await service('POST', '/v1/events', {
      id: evId,
      type: 'order.shipped',
      data: { userId: u.user.id, orderId: 'o-cancel' },
      deliverAt,
    })
    expect(ev.body.status).toBe('delayed')
    expect((await service('DELETE', `/v1/events/${evId}`)).body).toEqual({ id: evId, status: 'canceled' })
    await new Promise((r) => setTimeout(r, Date.parse(deliverAt) - Date.now() + 1500))
    expect(ws.messages().filter((m) => m.title === 'later' || (m.data as { orderId?: string })?.orderId)).toEqual([])
    expect((await service('GET', `/v1/events/${evId}`)).body.status).toBe('canceled')
    expect(await inboxIds(u)).not.toContain(laterId)
    ws.close()
  })

  it('retracts a message to everyone from every inbox even when the worker is killed (SIGKILL) while it does', async () => {
    const users = await Promise.all([user(), user(), user()])
    const sockets = await Promise.all(users.map((u) => socket(u)))
    const sent = await service('POST', '/v1/messages', { to: { all: true }, title: 'Maintenance at 2 am', body: '' })
    const id = sent.body.ids[0] as string
    for (const s of sockets) await s.waitFrame((f) => f.type === 'message' && f.id === id, 15_000)
    await expect
      .poll(async () => (await service('GET', `/v1/events/${sent.body.requestId}`)).body.status, { timeout: 15_000 })
      .toBe('done')
    const worker = stack.proc('worker', 1)
    expect((await service('DELETE', `/v1/messages/${id}`)).body).toEqual({ id, status: 'retracted' })
    await worker.stop('SIGKILL')
    worker.start()
    // the job comes back to a worker after its lock (4 s here) if it was taken; either way it runs
    for (const s of sockets) await s.waitFrame((f) => f.type === 'retract' && (f.ids as string[])[0] === id, 30_000)
    for (const u of users) expect(await inboxIds(u)).not.toContain(id)
    expect((await service('GET', `/v1/messages/${id}`)).body.status).toBe('retracted')
    for (const s of sockets) s.close()
  })
})
