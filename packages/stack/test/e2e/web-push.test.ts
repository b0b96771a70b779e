import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep, waitFor } from '@herald/test-utils'
import { type PushService, startPushService } from '@herald/test-utils/push-service'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, login, TestSocket, ticket } from '../client'
import { e2eStack, sendTo } from './helpers'

/**
 * Web Push through the whole stack (nginx, the API replicas, the worker process): a user with
 * no open socket is pushed by the real worker to a push service on this machine, which checks
 * the VAPID signature and decrypts the payload; a user with a socket is not pushed. The
 * worker trusts the push service's certificate through NODE_EXTRA_CA_CERTS, and private
 * addresses are allowed (PUSH_ALLOW_PRIVATE) only for this test.
 */
let stack: Stack
let service: PushService
const secrets: string[] = []

beforeAll(async () => {
  service = await startPushService()
  const ca = join(tmpdir(), `herald-push-ca-${process.pid}.pem`)
  writeFileSync(ca, service.ca)
  stack = await e2eStack({ env: { PUSH_ALLOW_PRIVATE: 'true', NODE_EXTRA_CA_CERTS: ca } })
  secrets.push(stack.secrets.PUSH_VAPID_PRIVATE_KEY)
})
afterAll(async () => {
  const logs = stack?.allLogs()
  await stack?.stop()
  await service?.close()
  expect(secrets.filter((s) => logs?.includes(s))).toEqual([])
})

describe('Web Push on the stack', () => {
  it('pushes a message to a user with no open socket, not to one with a socket; the receipt says pushedAt', async () => {
    const u = await login(stack.url, undefined, 'e2e-push')
    secrets.push(u.token, u.code)
    const key = await api<{ publicKey: string }>(stack.url, 'GET', '/inbox/push-subscriptions/key', { token: u.token })
    expect(key.body.publicKey).toBe(stack.secrets.PUSH_VAPID_PUBLIC_KEY)
    const sub = service.subscribe(`e2e-${u.user.id}`)
    secrets.push(sub.endpoint, sub.keys.auth)
    const reg = await api(stack.url, 'POST', '/inbox/push-subscriptions', { token: u.token, body: sub })
    expect(reg.status).toBe(201)

    const [away] = await sendTo(stack, [u.user.id], 'While you were away')
    await waitFor(() => service.received.length >= 1, 15_000, 50, 'the push')
    const got = service.received[0]
    expect(got?.vapidProblem).toBeNull()
    expect(got?.headers.authorization).toContain(`k=${key.body.publicKey}`)
    expect(JSON.parse(got?.payload as string)).toMatchObject({ id: away, title: 'While you were away' })
    await waitFor(
      async () =>
        (await api<{ pushedAt?: string }>(stack.url, 'GET', `/v1/messages/${away}`, { token: stack.serviceToken })).body
          .pushedAt,
      10_000,
      50,
      'pushedAt',
    )

    const t = await ticket(stack.url, u.token)
    secrets.push(t)
    const ws = await TestSocket.open(stack.wsUrl, t)
    await sendTo(stack, [u.user.id], 'While you are here')
    await ws.waitFrame((f) => f.type === 'message' && f.title === 'While you are here', 10_000)
    await sleep(1000)
    expect(service.received).toHaveLength(1)
    ws.close()
  })
})
