import { startReceiver } from '@herald/test-utils/webhook-receiver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, type Stack } from '../../src/stack'
import { signServiceToken } from '../../src/token'
import { api, login, TestSocket, ticket } from '../client'
import { e2eStack } from './helpers'

/** The receiver listens on 127.0.0.1: the notifier and the worker are told private targets are fine. */
const LOCAL_TARGETS = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOW_HTTP: 'true' }

let stack: Stack
let rx: Awaited<ReturnType<typeof startReceiver>>
let secret = ''

beforeAll(async () => {
  rx = await startReceiver({ secret: () => secret })
  stack = await e2eStack({
    serviceEnv: {
      notifier: LOCAL_TARGETS,
      worker: { ...LOCAL_TARGETS, WEBHOOK_OUTBOX_POLL_MS: '100', WEBHOOK_SUBSCRIBERS_CACHE_MS: '0' },
    },
  })
})
afterAll(async () => {
  await stack?.stop()
  await rx?.close()
})

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('webhooks through the real stack', () => {
  it('a system hears a real WebSocket client come online, ack and read its message, and go offline', async () => {
    const token = signServiceToken({
      secret: stack.secrets.SERVICE_JWT_SECRET,
      audience: AUDIENCE,
      sub: 'billing',
      scope: 'webhooks:write messages:write',
    })
    const created = await api<{ id: string; secret: string }>(stack.url, 'POST', '/v1/webhooks', {
      token,
      body: { url: rx.url, events: ['message.delivered', 'message.read', 'user.online', 'user.offline'] },
    })
    expect(created.status).toBe(201)
    secret = created.body.secret

    const u = await login(stack.url, undefined, 'e2e-webhooks')
    const socket = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token))
    const sent = await api<{ ids: string[] }>(stack.url, 'POST', '/v1/messages', {
      token,
      body: { to: { userIds: [u.user.id] }, title: 'Invoice paid', body: '€42' },
    })
    expect(sent.status).toBe(202)
    const id = sent.body.ids[0] as string
    await socket.waitMessages(1)
    type Payload = { type: string; data: Record<string, string> }
    const got = (type: string) =>
      rx.received.map((r) => r.verified as Payload).filter((p) => p?.type === type && p.data.userId === u.user.id)
    await until(() => got('user.online').length === 1, 'user.online')
    socket.send({ type: 'ack', ids: [id] })
    await until(() => got('message.delivered').length === 1, 'message.delivered')
    socket.send({ type: 'read', ids: [id] })
    await until(() => got('message.read').length === 1, 'message.read')
    socket.close()
    // announced once the gateways' settle window (10 s) passed with no reconnect
    await until(() => got('user.offline').length === 1, 'user.offline', 30_000)

    expect(got('message.delivered')[0]?.data.messageId).toBe(id)
    expect(got('message.read')[0]?.data.messageId).toBe(id)
    expect(rx.received.every((r) => r.verified !== null)).toBe(true)

    const log = await api<{ items: { ok: boolean; type: string }[] }>(
      stack.url,
      'GET',
      `/v1/webhooks/${created.body.id}/deliveries`,
      { token },
    )
    expect(log.body.items.map((d) => [d.type, d.ok])).toEqual([
      ['user.offline', true],
      ['message.read', true],
      ['message.delivered', true],
      ['user.online', true],
    ])
    // the signing secret is in no service log
    expect(stack.allLogs()).not.toContain(secret)
  })
})
