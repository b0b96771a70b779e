import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, ResilientClient } from '../client'
import { e2eStack, postEvent, sendTo } from './helpers'

let stack: Stack

beforeAll(async () => {
  // each job stays open 20 ms after delivering, so a kill -9 always finds jobs in flight
  stack = await e2eStack({ serviceEnv: { worker: { WORKER_HANDLER_DELAY_MS: '20' } } })
})
afterAll(async () => {
  await stack?.stop()
})

async function clients(n: number): Promise<{ users: LoggedIn[]; clients: ResilientClient[] }> {
  const users = await Promise.all(Array.from({ length: n }, () => login(stack.url)))
  const cs = users.map((u) => new ResilientClient(stack.url, stack.wsUrl, u.token))
  await Promise.all(cs.map((c) => c.connect()))
  return { users, clients: cs }
}

function expectInOrderNoDuplicates(c: ResilientClient, titles: string[]) {
  expect(c.received.map((m) => m.title)).toEqual(titles)
}

describe('faults a cluster user worries about', () => {
  it('a gateway killed with SIGKILL while messages flow loses nothing for clients that resume with since', async () => {
    const { users, clients: cs } = await clients(9)
    const onVictim = cs.filter((c) => c.welcomes[0]?.replica === 'gateway-1')
    expect(onVictim.length).toBeGreaterThan(0)
    const titles = Array.from({ length: 20 }, (_, i) => `k${i}`)
    for (const [i, t] of titles.entries()) {
      if (i === 8) await stack.proc('gateway', 1).stop('SIGKILL')
      await sendTo(
        stack,
        users.map((u) => u.user.id),
        t,
      )
      await new Promise((r) => setTimeout(r, 25))
    }
    for (const c of cs) await c.waitCount(titles.length, 20_000)
    for (const c of cs) expectInOrderNoDuplicates(c, titles)
    for (const c of onVictim) expect(c.reconnects).toBeGreaterThan(0)
    for (const c of cs) c.stop()
    stack.proc('gateway', 1).start()
    await stack.proc('gateway', 1).waitReady()
  })

  it('a gateway stopped with SIGTERM closes its sockets with 1012 and its clients are back within 2 s', async () => {
    const { users, clients: cs } = await clients(6)
    const victim = cs.filter((c) => c.welcomes[0]?.replica === 'gateway-2')
    expect(victim.length).toBeGreaterThan(0)
    const t0 = Date.now()
    const exitMs = await stack.proc('gateway', 2).stop('SIGTERM')
    expect(exitMs).toBeLessThan(10_000)
    for (const c of victim) expect(c.closes).toContain(1012)
    for (const c of victim) {
      while (c.welcomes.length < 2) {
        if (Date.now() - t0 > 2000 + exitMs) throw new Error('client not back within 2 s')
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(c.welcomes[1]?.replica).not.toBe('gateway-2')
    }
    await sendTo(
      stack,
      users.map((u) => u.user.id),
      'after restart',
    )
    for (const c of cs) await c.waitCount(1)
    for (const c of cs) c.stop()
    stack.proc('gateway', 2).start()
    await stack.proc('gateway', 2).waitReady()
  })

  it('the worker killed mid-load: every event is delivered exactly once after it restarts', async () => {
    const { users, clients: cs } = await clients(1)
    const client = cs[0] as ResilientClient
    const userId = users[0]?.user.id as string
    const total = 300
    const worker = stack.proc('worker', 1)
    let receivedAtKill = -1
    const posting = (async () => {
      for (let i = 0; i < total; i++) {
        const res = await postEvent(stack, {
          id: `w-${userId}-${i}`,
          type: 'order.shipped',
          data: { userId, orderId: `o${i}` },
        })
        expect(res.status).toBe(202)
        if (i === 100) {
          receivedAtKill = client.received.length
          await worker.stop('SIGKILL')
          worker.start()
        }
      }
    })()
    await posting
    expect(receivedAtKill).toBeGreaterThan(0)
    expect(receivedAtKill).toBeLessThan(total)
    await client.waitCount(total, 30_000)
    await new Promise((r) => setTimeout(r, 1000))
    const orders = client.received.map((m) => (m.data as { orderId: string }).orderId)
    expect(new Set(orders).size).toBe(total)
    // exactly once: not even a duplicate the client would have had to drop (the account.login
    // message of the sign-in may come too: only the orders count)
    const isOrder = (f: { type: string; data?: unknown }) =>
      f.type === 'message' && typeof (f.data as { orderId?: unknown })?.orderId === 'string'
    expect(client.socketFrames().filter(isOrder)).toHaveLength(total)
    // and the inbox holds each exactly once
    const inboxOrders: string[] = []
    let before: string | null = null
    for (let page = 0; page < 10; page++) {
      const res: { status: number; body: { items: { type: string; data: unknown }[]; nextBefore: string | null } } =
        await api(stack.url, 'GET', `/inbox?limit=100${before ? `&before=${before}` : ''}`, { token: users[0]?.token })
      expect(res.status).toBe(200)
      for (const item of res.body.items) {
        const orderId = (item.data as { orderId?: string }).orderId
        if (orderId) inboxOrders.push(orderId)
      }
      before = res.body.nextBefore
      if (!before) break
    }
    expect(inboxOrders).toHaveLength(total)
    expect(new Set(inboxOrders).size).toBe(total)
    client.stop()
  })

  it('redis-server restarted: 503 while it is down, services recover by themselves, nothing accepted is lost', async () => {
    const { users, clients: cs } = await clients(2)
    const userIds = users.map((u) => u.user.id)
    const accepted: string[] = []
    for (let i = 0; i < 20; i++) {
      const id = `r-${Date.now()}-${i}`
      const res = await postEvent(stack, { id, type: 'order.shipped', data: { userId: userIds[0], orderId: id } })
      expect(res.status).toBe(202)
      accepted.push(id)
    }
    const restart = stack.restartRedis(2000)
    await new Promise((r) => setTimeout(r, 800))
    const t0 = Date.now()
    const down = await postEvent(stack, {
      id: `down-${Date.now()}`,
      type: 'order.shipped',
      data: { userId: userIds[0], orderId: 'x' },
    })
    expect(down.status).toBe(503)
    expect(Date.now() - t0).toBeLessThan(2500)
    await restart
    // every replica reconnects by itself
    for (const p of stack.procs.filter((x) => x.spec.port !== undefined)) await p.waitReady(20_000)
    for (let i = 0; i < 10; i++) {
      const id = `after-${Date.now()}-${i}`
      let res = await postEvent(stack, { id, type: 'order.shipped', data: { userId: userIds[0], orderId: id } })
      for (let t = 0; res.status === 503 && t < 50; t++) {
        await new Promise((r) => setTimeout(r, 200))
        res = await postEvent(stack, { id, type: 'order.shipped', data: { userId: userIds[0], orderId: id } })
      }
      expect(res.status).toBe(202)
      accepted.push(id)
    }
    await cs[0]?.waitCount(accepted.length, 30_000)
    const orders = new Set(cs[0]?.received.map((m) => (m.data as { orderId: string }).orderId))
    for (const id of accepted) expect(orders.has(id), id).toBe(true)
    for (const c of cs) c.stop()
  })
})
