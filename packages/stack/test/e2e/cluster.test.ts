import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, TestSocket, ticket } from '../client'
import { e2eStack, postEvent, sendTo } from './helpers'

let stack: Stack
const secrets: string[] = []

beforeAll(async () => {
  stack = await e2eStack()
})
afterAll(async () => {
  await stack?.stop()
})

async function user(device = 'e2e'): Promise<LoggedIn> {
  const u = await login(stack.url, undefined, device)
  secrets.push(u.token, u.code)
  return u
}
async function socket(u: LoggedIn, since?: string): Promise<TestSocket> {
  const t = await ticket(stack.url, u.token)
  secrets.push(t)
  return TestSocket.open(stack.wsUrl, t, since)
}

describe('the cluster through nginx', () => {
  it('a session made on one auth replica works on every other', async () => {
    const u = await user()
    for (let i = 0; i < 4; i++) {
      const me = await api<{ id: string }>(stack.url, 'GET', '/auth/me', { token: u.token })
      expect(me.status).toBe(200)
      expect(me.body.id).toBe(u.user.id)
    }
    for (const p of stack.procs.filter((x) => x.spec.name === 'auth')) {
      const me = await api(`http://127.0.0.1:${p.spec.port}`, 'GET', '/auth/me', { token: u.token })
      expect(me.status, p.label).toBe(200)
    }
  })

  it('sockets spread over the gateways and each gets exactly its own messages', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => user()))
    const sockets = await Promise.all(users.map((u) => socket(u)))
    const replicas = new Set(sockets.map((s) => s.welcome?.replica))
    expect(replicas.size).toBe(3)
    for (const [i, u] of users.entries()) await sendTo(stack, [u.user.id], `for ${i}`)
    for (const [i, s] of sockets.entries()) {
      const [m] = await s.waitMessages(1)
      expect(m?.title).toBe(`for ${i}`)
    }
    await new Promise((r) => setTimeout(r, 300))
    for (const s of sockets) expect(s.messages()).toHaveLength(1)
    for (const s of sockets) s.close()
  })

  it('every tab of a user receives, wherever it is connected', async () => {
    const u = await user()
    const tabs = await Promise.all([socket(u), socket(u), socket(u)])
    expect(new Set(tabs.map((t) => t.welcome?.replica)).size).toBeGreaterThan(1)
    await sendTo(stack, [u.user.id], 'to all tabs')
    for (const t of tabs) expect((await t.waitMessages(1))[0]?.title).toBe('to all tabs')
    for (const t of tabs) t.close()
  })

  it('an announcement reaches every connected socket and waits in every inbox', async () => {
    const users = await Promise.all([user(), user(), user()])
    const sockets = await Promise.all(users.map((u) => socket(u)))
    const res = await postEvent(stack, {
      id: `ann-${Date.now()}`,
      type: 'announcement',
      data: { title: 'Maintenance tonight', body: '02:00 UTC' },
    })
    expect(res.status).toBe(202)
    for (const s of sockets) {
      await s.waitFrame((f) => f.type === 'message' && f.title === 'Maintenance tonight', 10_000)
    }
    const inbox = await api<{ items: { title: string }[] }>(stack.url, 'GET', '/inbox?limit=5', {
      token: users[0]?.token,
    })
    expect(inbox.body.items.map((i) => i.title)).toContain('Maintenance tonight')
    for (const s of sockets) s.close()
  })

  it('a client that reconnects with since gets exactly what it missed, in order', async () => {
    const u = await user()
    const first = await socket(u)
    await sendTo(stack, [u.user.id], 'm1')
    const [m1] = await first.waitMessages(1)
    first.close()
    await first.waitClosed()
    for (const t of ['m2', 'm3', 'm4']) await sendTo(stack, [u.user.id], t)
    await new Promise((r) => setTimeout(r, 500))
    const again = await socket(u, m1?.cursor as string)
    expect(again.welcome).toMatchObject({ resumed: true, gap: false })
    const got = await again.waitMessages(3)
    expect(got.map((m) => m.title)).toEqual(['m2', 'm3', 'm4'])
    await sendTo(stack, [u.user.id], 'm5')
    expect((await again.waitMessages(4)).map((m) => m.title)).toEqual(['m2', 'm3', 'm4', 'm5'])
    again.close()
  })

  it('logout closes that session’s sockets with 4409, logout-all closes every session', async () => {
    const phoneUser = await user('phone')
    const s1 = await socket(phoneUser)
    expect((await api(stack.url, 'POST', '/auth/logout', { token: phoneUser.token })).status).toBe(204)
    expect((await s1.waitClosed(2000)).code).toBe(4409)

    const a = await user('laptop')
    await new Promise((r) => setTimeout(r, 1100)) // the resend cooldown (1 s in this stack)
    const b = await login(stack.url, a.phone, 'tablet')
    secrets.push(b.token, b.code)
    const sa = await socket(a)
    const sb = await socket(b)
    const t0 = Date.now()
    expect((await api(stack.url, 'POST', '/auth/logout-all', { token: a.token })).status).toBe(204)
    expect((await sa.waitClosed(2000)).code).toBe(4409)
    expect((await sb.waitClosed(2000)).code).toBe(4409)
    expect(Date.now() - t0).toBeLessThan(1000)
    expect((await api(stack.url, 'GET', '/auth/me', { token: b.token })).status).toBe(401)
  })

  it('reports presence and stats across the replicas', async () => {
    const u = await user()
    const tabs = await Promise.all([socket(u), socket(u)])
    const presence = await api<{ online: boolean; connections: { replica: string }[] }>(
      stack.url,
      'GET',
      `/v1/users/${u.user.id}/presence`,
      { token: stack.serviceToken },
    )
    expect(presence.status).toBe(200)
    expect(presence.body.online).toBe(true)
    expect(presence.body.connections).toHaveLength(2)
    const stats = await api<{ onlineUsers: number; connections: number; replicas: unknown[] }>(
      stack.url,
      'GET',
      '/v1/stats',
      { token: stack.serviceToken },
    )
    expect(stats.status).toBe(200)
    expect(stats.body.connections).toBeGreaterThanOrEqual(2)
    expect(stats.body.replicas.length).toBeGreaterThanOrEqual(3)
    for (const t of tabs) t.close()
    await new Promise((r) => setTimeout(r, 300))
    const after = await api<{ online: boolean }>(stack.url, 'GET', `/v1/users/${u.user.id}/presence`, {
      token: stack.serviceToken,
    })
    expect(after.body.online).toBe(false)
  })

  it('an API disconnect closes the user’s sockets with 4409', async () => {
    const u = await user()
    const s = await socket(u)
    const res = await api(stack.url, 'POST', `/v1/users/${u.user.id}/disconnect`, { token: stack.serviceToken })
    expect(res.status).toBe(204)
    expect((await s.waitClosed(2000)).code).toBe(4409)
  })

  it('a used ticket is refused by every gateway', async () => {
    const u = await user()
    const t = await ticket(stack.url, u.token)
    secrets.push(t)
    const ok = await TestSocket.open(stack.wsUrl, t)
    expect(ok.welcome).toBeDefined()
    for (let i = 0; i < 3; i++) {
      const again = await TestSocket.open(stack.wsUrl, t)
      expect(again.welcome).toBeUndefined()
      expect((await again.waitClosed()).code).toBe(4401)
    }
    ok.close()
  })

  it('no token, code or ticket appears in any service log or in nginx’s access log', async () => {
    await new Promise((r) => setTimeout(r, 500))
    const logs = stack.allLogs()
    expect(logs.length).toBeGreaterThan(1000)
    // a 6-digit code is looked for as a whole number: inside a millisecond timestamp it is a coincidence
    const leaked = secrets.filter((s) =>
      /^[0-9]{6}$/.test(s) ? new RegExp(`(?<![0-9])${s}(?![0-9])`).test(logs) : logs.includes(s),
    )
    expect(leaked).toEqual([])
    expect(logs).not.toMatch(/ticket=ey/)
  })
})
