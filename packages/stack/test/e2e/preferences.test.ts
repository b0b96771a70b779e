import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, TestSocket, ticket } from '../client'
import { e2eStack, sendTo } from './helpers'

/**
 * Preferences through the whole stack: `POST /v1/messages` to everyone (`to.all`) is queued,
 * fanned out by a worker and pushed by the gateways; each user's choice for the kind is
 * honoured in that fan-out — on: live and in the inbox, silent: in the inbox only, off: nowhere.
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

async function user(device = 'e2e'): Promise<LoggedIn> {
  const u = await login(stack.url, undefined, device)
  secrets.push(u.token, u.code)
  return u
}
async function socket(u: LoggedIn): Promise<TestSocket> {
  const t = await ticket(stack.url, u.token)
  secrets.push(t)
  return TestSocket.open(stack.wsUrl, t)
}
async function prefer(u: LoggedIn, kinds: Record<string, string>): Promise<void> {
  const res = await api(stack.url, 'PUT', '/inbox/preferences', { token: u.token, body: { kinds } })
  expect(res.status).toBe(200)
}
async function inboxTitles(u: LoggedIn): Promise<string[]> {
  const res = await api<{ items: { title: string }[] }>(stack.url, 'GET', '/inbox?limit=20', { token: u.token })
  return res.body.items.map((i) => i.title)
}

describe('a broadcast honours each user’s preferences', () => {
  it('to.all through real gateways and WebSockets: on gets it live, silent only in the inbox, off not at all', async () => {
    const [plain, silent, muted] = await Promise.all([user(), user(), user()])
    await prefer(silent, { 'news.digest': 'silent' })
    await prefer(muted, { 'news.digest': 'off', 'other.kind': 'silent' })
    const sockets = await Promise.all([plain, silent, muted].map((u) => socket(u)))
    const [plainWs, silentWs, mutedWs] = sockets as [TestSocket, TestSocket, TestSocket]
    expect(new Set(sockets.map((s) => s.welcome?.replica)).size).toBeGreaterThan(1)

    const res = await api<{ requestId: string; ids: string[]; status: string }>(stack.url, 'POST', '/v1/messages', {
      token: stack.serviceToken,
      body: { to: { all: true }, kind: 'news.digest', title: 'Weekly digest', body: 'Five things' },
    })
    expect(res.status).toBe(202)
    await plainWs.waitFrame((f) => f.type === 'message' && f.title === 'Weekly digest', 15_000)

    // the request is an event: done once every user was written; then another kind is a barrier per socket
    const requestId = res.body.requestId
    await expect
      .poll(
        async () =>
          (await api<{ status: string }>(stack.url, 'GET', `/v1/events/${requestId}`, { token: stack.serviceToken }))
            .body.status,
        { timeout: 15_000 },
      )
      .toBe('done')
    await sendTo(stack, [silent.user.id, muted.user.id], 'after the digest')
    for (const ws of [silentWs, mutedWs])
      await ws.waitFrame((f) => f.type === 'message' && f.title === 'after the digest')
    expect(silentWs.messages().map((m) => m.title)).toEqual(['after the digest'])
    expect(mutedWs.messages().map((m) => m.title)).toEqual(['after the digest'])

    expect(await inboxTitles(plain)).toContain('Weekly digest')
    expect(await inboxTitles(silent)).toContain('Weekly digest')
    expect(await inboxTitles(muted)).not.toContain('Weekly digest')
    for (const s of sockets) s.close()
  })

  it('a mandatory kind reaches a user whatever they ask: muting account.login is refused', async () => {
    const u = await user()
    const res = await api<{ code: string }>(stack.url, 'PUT', '/inbox/preferences', {
      token: u.token,
      body: { kinds: { 'account.login': 'silent' } },
    })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('KIND_NOT_MUTABLE')
    const prefs = await api<{ mandatory: string[] }>(stack.url, 'GET', '/inbox/preferences', { token: u.token })
    expect(prefs.body.mandatory).toContain('account.login')
  })
})
