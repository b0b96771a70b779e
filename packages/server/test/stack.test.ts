import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Stack, signServiceToken, startStack } from '@herald/stack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HeraldError, HeraldServer } from '../src/index'

/** The client against the real stack (redis-server, every replica, nginx), and its OpenAPI document. */
let stack: Stack
let client: HeraldServer
beforeAll(async () => {
  stack = await startStack({ port: 0, dir: mkdtempSync(join(tmpdir(), 'herald-server-')), logToFiles: true })
  client = new HeraldServer({ baseUrl: stack.url, token: stack.serviceToken })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
})

/** Every route the client calls, as `METHOD /path/{param}`. */
const CLIENT_ROUTES = [
  'post /v1/events',
  'get /v1/events/{id}',
  'delete /v1/events/{id}',
  'post /v1/messages',
  'get /v1/messages/{id}',
  'delete /v1/messages/{id}',
  'get /v1/users/{id}/presence',
  'post /v1/users/{id}/disconnect',
  'get /v1/stats',
  'post /v1/webhooks',
  'get /v1/webhooks',
  'get /v1/webhooks/{id}',
  'delete /v1/webhooks/{id}',
  'post /v1/webhooks/{id}/enable',
  'get /v1/webhooks/{id}/deliveries',
]

describe('@herald/server against the running stack', () => {
  it('calls only routes of the OpenAPI document the notifier serves, and covers every /v1 route', async () => {
    const doc = (await (await fetch(`${stack.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>
    }
    const served = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
    expect(served.sort()).toEqual([...CLIENT_ROUTES].sort())
    expect(
      doc.paths['/v1/messages']?.post?.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
    ).toBe(true)
  })

  it('sends an event, reads it until done, and its message receipt', async () => {
    const accepted = await client.sendEvent({
      id: `server-client-${Date.now()}`,
      type: 'order.shipped',
      data: { userId: 'u_server_client', orderId: '1001', carrier: 'DHL' },
    })
    expect(accepted.status).toBe('queued')
    let view = await client.getEvent(accepted.id)
    for (let i = 0; i < 100 && view.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      view = await client.getEvent(accepted.id)
    }
    expect(view.status).toBe('done')
    const receipt = await client.getMessage(view.messageIds[0] as string)
    expect(receipt.userId).toBe('u_server_client')
  })

  it('answers the same ids when a message is sent again with its idempotency key', async () => {
    const key = HeraldServer.idempotencyKey()
    const message = { to: { userIds: ['u_a', 'u_b'] }, title: 'Invoice paid', body: '€42.00' }
    const first = await client.sendMessage(message, { idempotencyKey: key })
    const again = await client.sendMessage(message, { idempotencyKey: key })
    expect(again.ids).toEqual(first.ids)
    expect(first.ids).toHaveLength(2)
  })

  it('takes a message back, and cancels a scheduled event', async () => {
    const sent = await client.sendMessage({ to: { userIds: ['u_back'] }, title: 'Wrong price', body: '', ttl: 3600 })
    const id = sent.ids[0] as string
    expect((await client.getMessage(id)).status).toBe('written')
    expect(await client.cancelMessage(id)).toEqual({ id, status: 'retracted' })
    expect((await client.getMessage(id)).status).toBe('retracted')
    const later = new Date(Date.now() + 60_000).toISOString()
    const ev = await client.sendEvent({
      id: `server-cancel-${Date.now()}`,
      type: 'order.shipped',
      data: { userId: 'u_back', orderId: '1002' },
      deliverAt: later,
    })
    expect(await client.cancelEvent(ev.id)).toEqual({ id: ev.id, status: 'canceled' })
    expect((await client.getEvent(ev.id)).status).toBe('canceled')
    await expect(client.cancelMessage('m_nope.p0')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 })
  })

  it('reads presence and stats, and disconnects a user', async () => {
    expect(await client.presence('u_nobody')).toMatchObject({ userId: 'u_nobody', online: false, connections: [] })
    const stats = await client.stats()
    expect(stats.replicas.length).toBeGreaterThanOrEqual(3)
    expect(stats.queue).toHaveProperty('waiting')
    await expect(client.disconnect('u_nobody')).resolves.toBeUndefined()
  })

  it('registers a webhook endpoint (secret shown once), lists, reads, enables, pages its deliveries and deletes it', async () => {
    // an address literal: nothing to resolve on a machine without DNS, and never called (event.failed only)
    const created = await client.createWebhook({ url: 'https://1.1.1.1/herald-hooks', events: ['event.failed'] })
    expect(created.secret).toMatch(/^whsec_/)
    expect((await client.listWebhooks()).items.map((w) => w.id)).toContain(created.id)
    expect(await client.getWebhook(created.id)).toMatchObject({ id: created.id, status: 'enabled' })
    expect((await client.enableWebhook(created.id)).status).toBe('enabled')
    expect((await client.webhookDeliveries(created.id, { limit: 5 })).items).toEqual([])
    await client.deleteWebhook(created.id)
    await expect(client.getWebhook(created.id)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 })
  })

  it('throws typed errors carrying herald’s code', async () => {
    const narrow = new HeraldServer({
      baseUrl: stack.url,
      token: signServiceToken({
        secret: stack.secrets.SERVICE_JWT_SECRET,
        audience: 'herald',
        sub: 'server-client-test',
        scope: 'events:write',
      }),
    })
    const scope = await narrow.stats().catch((e) => e)
    expect(scope).toBeInstanceOf(HeraldError)
    expect(scope).toMatchObject({ code: 'INSUFFICIENT_SCOPE', status: 403 })
    await expect(client.getEvent('no-such-event')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 })
    const bad = new HeraldServer({ baseUrl: stack.url, token: 'not-a-token' })
    await expect(bad.stats()).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 })
  })

  it('works from plain JavaScript: the built file has no dependency', async () => {
    const { execFileSync } = await import('node:child_process')
    execFileSync('pnpm', ['exec', 'tsup'], { cwd: new URL('..', import.meta.url).pathname, stdio: 'ignore' })
    const script = `import { HeraldServer } from './dist/index.js'
      const c = new HeraldServer({ baseUrl: process.env.URL, token: process.env.TOKEN })
      const s = await c.stats(); console.log(typeof s.onlineUsers)`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, URL: stack.url, TOKEN: stack.serviceToken },
    })
    expect(out.toString().trim()).toBe('number')
  })
})
