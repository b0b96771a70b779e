import { afterAll, describe, expect, it } from 'vitest'
import { api, type Frame, type LoggedIn, ResilientClient, TestSocket, ticket } from '../client'
import { containers, deployment, healthy, podman, signIn, until } from './deployment'

/**
 * The real docker-compose.yml, driven only through its nginx (and the stand-in SMS gateway
 * of docker-compose.test.yml), with containers killed the way an operator or the kernel would.
 */
const { url, wsUrl, serviceToken } = deployment
const clients: ResilientClient[] = []
const sockets: TestSocket[] = []
afterAll(() => {
  for (const c of clients) c.stop()
  for (const s of sockets) s.close()
})

async function open(user: LoggedIn, since?: string): Promise<TestSocket> {
  const s = await TestSocket.open(wsUrl, await ticket(url, user.token), since)
  sockets.push(s)
  return s
}

async function resilient(user: LoggedIn): Promise<ResilientClient> {
  const c = new ResilientClient(url, wsUrl, user.token)
  clients.push(c)
  await c.connect()
  return c
}

async function send(userIds: string[], title: string): Promise<string> {
  const res = await api<{ ids: string[] }>(url, 'POST', '/v1/messages', {
    token: serviceToken,
    body: { to: { userIds }, title, body: title },
  })
  if (res.status !== 202) throw new Error(`POST /v1/messages → ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.ids[0] as string
}

/** The titles in the user's inbox, but the `account.login` notice auth sends on every sign-in. */
async function inboxTitles(user: LoggedIn): Promise<string[]> {
  const res = await api<{ items: { title: string; kind: string }[] }>(url, 'GET', '/inbox?limit=100', {
    token: user.token,
  })
  if (res.status !== 200) throw new Error(`GET /inbox → ${res.status}`)
  return res.body.items.filter((i) => i.kind !== 'account.login').map((i) => i.title)
}

/**
 * Kills a container's process with SIGKILL, as the kernel's OOM killer would (`podman kill`
 * counts as a stop by the user, which no restart policy undoes), and waits until its restart
 * policy brought it back healthy.
 */
async function killAndAwaitRestart(service: string, pick = 0): Promise<void> {
  const target = (await containers(service))[pick]
  if (!target) throw new Error(`no running ${service} container`)
  const startedAt = await podman('inspect', '--format', '{{.State.StartedAt}}', target.id)
  process.kill(Number(await podman('inspect', '--format', '{{.State.Pid}}', target.id)), 'SIGKILL')
  await until(
    async () => (await podman('inspect', '--format', '{{.State.StartedAt}}', target.id)) !== startedAt,
    30_000,
    `${target.name} restarted by its restart policy`,
  )
  await until(() => healthy(target), 60_000, `${target.name} healthy again`)
}

describe('docker compose: the deployment a user gets', () => {
  it('serves the demo page, the API documentation and every replica behind nginx', async () => {
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<html')
    const openapi = await api<{ openapi: string; paths: Record<string, unknown> }>(url, 'GET', '/docs/json')
    expect(openapi.status).toBe(200)
    expect(Object.keys(openapi.body.paths)).toContain('/v1/events')
    expect((await containers('auth')).length).toBe(2)
    expect((await containers('gateway')).length).toBe(3)
    expect((await containers('notifier')).length).toBe(2)
    expect((await containers('worker')).length).toBe(1)
  })

  it('signs a user in, delivers an event live over the socket, keeps it in the inbox, and logs out', async () => {
    const user = await signIn()
    const socket = await open(user)
    expect(socket.welcome?.type).toBe('welcome')

    const eventId = `compose:order-${Date.now()}:shipped`
    const posted = await api<{ status: string }>(url, 'POST', '/v1/events', {
      token: serviceToken,
      body: { id: eventId, type: 'order.shipped', data: { userId: user.user.id, orderId: '1001', carrier: 'DHL' } },
    })
    expect(posted.status).toBe(202)
    const frame = await socket.waitFrame((f: Frame) => f.type === 'message' && f.kind === 'order.shipped', 15_000)
    expect(JSON.stringify(frame)).toContain('1001')
    await until(
      async () =>
        (await api<{ status: string }>(url, 'GET', `/v1/events/${eventId}`, { token: serviceToken })).body.status ===
        'done',
      10_000,
      'event done',
    )
    expect((await inboxTitles(user)).length).toBe(1)

    expect((await api(url, 'POST', '/auth/logout', { token: user.token })).status).toBe(204)
    expect((await socket.waitClosed(5000)).code).toBe(4409)
    expect((await api(url, 'GET', '/auth/me', { token: user.token })).status).toBe(401)
  })

  it('a gateway container killed -9: its clients reconnect to another replica and miss nothing', async () => {
    const user = await signIn()
    const client = await resilient(user)
    const sent: string[] = []
    // what the client received of this test's messages (auth's login notice may come too)
    const received = () => client.received.filter((f) => f.kind !== 'account.login').map((f) => f.id as string)
    for (let i = 0; i < 10; i++) sent.push(await send([user.user.id], `before ${i}`))
    await until(async () => received().length >= 10, 15_000, 'the first 10 messages')
    // kill every gateway in turn: whichever one holds the socket dies once
    for (let g = 0; g < 3; g++) {
      await killAndAwaitRestart('gateway', g)
      for (let i = 0; i < 5; i++) sent.push(await send([user.user.id], `after kill ${g}.${i}`))
    }
    await until(async () => received().length >= sent.length, 30_000, 'every message')
    expect(received()).toEqual(sent)
    expect(client.reconnects).toBeGreaterThanOrEqual(1)
  })

  it('the worker container killed while events wait: every event is delivered exactly once after its restart', async () => {
    const user = await signIn()
    const [worker] = await containers('worker')
    if (!worker) throw new Error('no worker container')
    await podman('stop', '--time', '0', worker.id)
    const ids: string[] = []
    for (let i = 0; i < 8; i++) {
      const id = `compose:chat-${Date.now()}-${i}`
      ids.push(id)
      const res = await api(url, 'POST', '/v1/events', {
        token: serviceToken,
        body: { id, type: 'chat.message', data: { fromUserId: 'ops', toUserId: user.user.id, text: `queued ${i}` } },
      })
      expect(res.status).toBe(202)
    }
    await podman('start', worker.id)
    await until(async () => (await inboxTitles(user)).length >= ids.length, 30_000, 'every queued event delivered')
    for (const id of ids) {
      const ev = await api<{ status: string }>(url, 'GET', `/v1/events/${id}`, { token: serviceToken })
      expect(ev.body.status).toBe('done')
    }
    expect((await inboxTitles(user)).length).toBe(ids.length)
  })

  it('Redis killed -9 and restarted by its restart policy: everything accepted before is still there (AOF)', async () => {
    const user = await signIn()
    for (let i = 0; i < 10; i++) await send([user.user.id], `kept ${i}`)
    // appendfsync everysec: what was acknowledged more than a second ago is on disk
    await new Promise((r) => setTimeout(r, 1500))
    await killAndAwaitRestart('redis')
    await until(
      async () => (await api(url, 'GET', '/auth/me', { token: user.token })).status === 200,
      30_000,
      'auth back',
    )
    // every service reconnects on its own (503 meanwhile)
    await until(
      async () => (await api(url, 'GET', '/inbox?limit=1', { token: user.token })).status === 200,
      30_000,
      'notifier back',
    )
    expect((await inboxTitles(user)).filter((t) => t.startsWith('kept ')).length).toBe(10)
    // and the services reconnected: a new message reaches a new socket live
    const socket = await open(user)
    await send([user.user.id], 'after redis restart')
    await socket.waitFrame((f) => f.type === 'message' && JSON.stringify(f).includes('after redis restart'), 15_000)
  })

  it('every container reports healthy after the faults', async () => {
    for (const service of ['redis', 'auth', 'gateway', 'notifier', 'worker', 'nginx']) {
      for (const c of await containers(service)) await until(() => healthy(c), 60_000, `${c.name} healthy`)
    }
  })
})
