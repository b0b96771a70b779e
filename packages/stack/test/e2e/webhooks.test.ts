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
  it('a system hears "message delivered" when a real WebSocket client acks its message, then "message read"', async () => {
    const token = signServiceToken({
      secret: stack.secrets.SERVICE_JWT_SECRET,
      audience: AUDIENCE,
      sub: 'billing',
      scope: 'webhooks:write messages:write',
    })
    const created = await api<{ id: string; secret: string }>(stack.url, 'POST', '/v1/webhooks', {
      token,
      body: { url: rx.url, events: ['message.delivered', 'message.read'] },
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
    socket.send({ type: 'ack', ids: [id] })
    await until(() => rx.received.length >= 1, 'message.delivered')
    socket.send({ type: 'read', ids: [id] })
    await until(() => rx.received.length >= 2, 'message.read')
    socket.close()

    const [delivered, read] = rx.received.map((r) => r.verified as { type: string; data: Record<string, string> })
    expect(delivered).toMatchObject({ type: 'message.delivered', data: { messageId: id, userId: u.user.id } })
    expect(read).toMatchObject({ type: 'message.read', data: { messageId: id, userId: u.user.id } })

    const log = await api<{ items: { ok: boolean; type: string }[] }>(
      stack.url,
      'GET',
      `/v1/webhooks/${created.body.id}/deliveries`,
      { token },
    )
    expect(log.body.items.map((d) => [d.type, d.ok])).toEqual([
      ['message.read', true],
      ['message.delivered', true],
    ])
    // the signing secret is in no service log
    expect(stack.allLogs()).not.toContain(secret)
  })
})
