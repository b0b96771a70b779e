import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, type Frame, type LoggedIn, login, TestSocket, ticket } from '../client'
import { e2eStack, postEvent, sendTo } from '../e2e/helpers'
import { SeqClient } from '../support/seq-client'
import { figure, param, pool, sleep, until } from '../support/soak'

const WORKER_EVENTS = param('WORKER_EVENTS', 1000, 5000)
const WORKER_KILLS = param('WORKER_KILLS', 10, 50)
const INBOX_MAX_ITEMS = 50

let stack: Stack
const open: SeqClient[] = []

beforeAll(async () => {
  stack = await e2eStack({
    notifiers: 2,
    workers: 2,
    // a small inbox, so a client away for a while falls out of it
    env: { INBOX_MAX_ITEMS: String(INBOX_MAX_ITEMS) },
    // each job stays open 20 ms after delivering, so a kill -9 always finds jobs in flight
    serviceEnv: { worker: { WORKER_HANDLER_DELAY_MS: '20' } },
  })
})
afterAll(async () => {
  for (const c of open) c.stop()
  await stack?.stop()
})

async function client(u: LoggedIn): Promise<SeqClient> {
  const c = new SeqClient({ base: stack.url, wsUrl: stack.wsUrl, token: u.token })
  open.push(c)
  await c.start()
  return c
}

const orderOf = (m: Frame) => (m.data as { orderId: string }).orderId

describe('delivery through worker and Redis faults, 2 notifiers, 2 workers', () => {
  it(`worker kill -9 ×${WORKER_KILLS} during ${WORKER_EVENTS} events: every event delivered exactly once (raw frames)`, async () => {
    const u = await login(stack.url)
    const c = await client(u)
    let posted = 0
    let killing = true
    const kills = (async () => {
      for (let k = 0; k < WORKER_KILLS && killing; k++) {
        await sleep(Math.max(300, (WORKER_EVENTS * 8) / WORKER_KILLS))
        const w = stack.proc('worker', (k % 2) + 1)
        await w.stop('SIGKILL')
        w.start()
      }
      return WORKER_KILLS
    })()
    const statuses = await pool(
      Array.from({ length: WORKER_EVENTS }, (_, i) => i),
      4,
      async (i) => {
        const res = await postEvent(stack, {
          id: `wk-${u.user.id}-${i}`,
          type: 'order.shipped',
          data: { userId: u.user.id, orderId: `o${i}` },
        })
        posted++
        await sleep(25)
        return res.status
      },
    )
    killing = false
    const killed = await kills
    expect(statuses.every((s) => s === 202)).toBe(true)
    const t0 = Date.now()
    await until(() => c.received.length >= WORKER_EVENTS, 60_000, `all events (got ${c.received.length})`)
    await sleep(2000)
    figure(
      'worker kill -9 loop',
      `${killed} kills, ${posted} events, ${c.received.length} delivered, ${c.rawMessages} raw frames, last ${Date.now() - t0 - 2000} ms after the last POST`,
    )
    expect(new Set(c.received.map(orderOf)).size).toBe(WORKER_EVENTS)
    expect(c.rawMessages).toBe(WORKER_EVENTS)
    expect(c.closes).toEqual([])
    for (const n of [1, 2]) await stack.proc('worker', n).waitReady()
    c.stop()
  })

  it('the same event id POSTed concurrently to both notifier replicas (and through nginx): one message', async () => {
    const u = await login(stack.url)
    const c = await client(u)
    const direct = [1, 2].map((n) => `http://127.0.0.1:${stack.proc('notifier', n).spec.port}`)
    const ids = Array.from({ length: 30 }, (_, i) => `dup-${u.user.id}-${i}`)
    const results = await Promise.all(
      ids.map(async (id) => {
        const body = { id, type: 'order.shipped', data: { userId: u.user.id, orderId: id } }
        const opts = { token: stack.serviceToken, body }
        const all = await Promise.all([
          api(direct[0] as string, 'POST', '/v1/events', opts),
          api(direct[1] as string, 'POST', '/v1/events', opts),
          api(stack.url, 'POST', '/v1/events', opts),
          api(stack.url, 'POST', '/v1/events', opts),
        ])
        return all.map((r) => r.status).sort()
      }),
    )
    for (const r of results) expect(r).toEqual([200, 200, 200, 202])
    await until(() => c.received.length >= ids.length, 20_000, 'every event once')
    await sleep(1500)
    figure('same id to two notifiers', `${ids.length} ids × 4 concurrent POSTs → ${c.rawMessages} messages`)
    expect(c.rawMessages).toBe(ids.length)
    expect(new Set(c.received.map(orderOf))).toEqual(new Set(ids))
    c.stop()
  })

  it('a client away longer than the inbox keeps is told gap:true, never a silent hole; a short absence resumes whole', async () => {
    const u = await login(stack.url)
    const s = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token))
    await sendTo(stack, [u.user.id], 'before')
    await s.waitMessages(1)
    const since = s.lastCursor() as string
    s.close()
    await s.waitClosed()
    for (let i = 0; i < 10; i++) await sendTo(stack, [u.user.id], `short${i}`, { seq: i + 1 })
    const short = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token), since)
    expect(short.welcome?.gap).toBe(false)
    // jobs run concurrently, so the inbox (cursor) order may differ from the POST order; none is missing
    const replayed = await short.waitMessages(10)
    expect(replayed.map((m) => m.title).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `short${i}`))
    const cursors = replayed.map((m) => BigInt(m.cursor as string))
    for (let i = 1; i < cursors.length; i++) expect((cursors[i] as bigint) > (cursors[i - 1] as bigint)).toBe(true)
    short.close()
    await pool(
      Array.from({ length: INBOX_MAX_ITEMS + 20 }, (_, i) => i),
      4,
      (i) => sendTo(stack, [u.user.id], `long${i}`, { seq: i + 11 }),
    )
    const long = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token), since)
    figure('away longer than retention', `welcome gap=${long.welcome?.gap} after ${INBOX_MAX_ITEMS + 30} missed`)
    expect(long.welcome?.resumed).toBe(true)
    expect(long.welcome?.gap).toBe(true)
    long.close()
  })

  it('redis-server restarted under continuous load: 503 while down, recovers by itself, nothing answered 202 is lost', async () => {
    const u = await login(stack.url)
    const c = await client(u)
    const accepted: string[] = []
    const statuses = new Map<number, number>()
    let n = 0
    let running = true
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          const id = `rr-${u.user.id}-${n++}`
          const res = await postEvent(stack, {
            id,
            type: 'order.shipped',
            data: { userId: u.user.id, orderId: id },
          }).catch(() => ({ status: 0 }))
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          if (res.status === 202) accepted.push(id)
          await sleep(res.status === 202 ? 20 : 100)
        }
      }),
    )
    await sleep(1500)
    const t0 = Date.now()
    await stack.restartRedis(3000)
    for (const p of stack.procs.filter((x) => x.spec.port !== undefined)) await p.waitReady(30_000)
    const recoveredMs = Date.now() - t0
    await sleep(2000)
    running = false
    await load
    await until(() => accepted.every((id) => c.received.some((m) => orderOf(m) === id)), 30_000, 'every accepted event')
    const summary = [...statuses].map(([s, k]) => `${s}×${k}`).join(' ')
    figure(
      'redis restart under load',
      `${accepted.length} accepted, 0 lost, statuses ${summary}, ready again ${recoveredMs} ms after the stop`,
    )
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0)
    expect([...statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([])
    c.stop()
  })
})
