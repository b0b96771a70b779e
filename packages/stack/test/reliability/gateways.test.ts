import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, TestSocket, ticket } from '../client'
import { e2eStack } from '../e2e/helpers'
import { SeqSender } from '../support/load'
import { SeqClient } from '../support/seq-client'
import { figure, param, percentile, pool, sleep, until } from '../support/soak'

const KILL_MESSAGES = param('KILL_MESSAGES', 1000, 5000)
const STORM_SOCKETS = param('STORM_SOCKETS', 1500, 5000)
const MAX_SOCKETS = Math.ceil(STORM_SOCKETS * 0.6)

let stack: Stack
let users: LoggedIn[] = []
const open: SeqClient[] = []

beforeAll(async () => {
  stack = await e2eStack({
    env: {
      MAX_SOCKETS: String(MAX_SOCKETS),
      MAX_CONNECTIONS_PER_USER: '0',
      // presence with the default heartbeat (5 s) and replica TTL (15 s)
      HEARTBEAT_INTERVAL_MS: '5000',
      PING_INTERVAL_MS: '2000',
    },
  })
  users = await Promise.all(Array.from({ length: 12 }, () => login(stack.url)))
})
afterAll(async () => {
  for (const c of open) c.stop()
  await stack?.stop()
})

async function clientsFor(list: LoggedIn[], opts: Partial<ConstructorParameters<typeof SeqClient>[0]> = {}) {
  const cs = list.map((u) => new SeqClient({ base: stack.url, wsUrl: stack.wsUrl, token: u.token, ...opts }))
  open.push(...cs)
  await pool(cs, 50, (c) => c.start())
  return cs
}

function missing(sender: SeqSender, pairs: [LoggedIn, SeqClient][]): number {
  let n = 0
  for (const [u, c] of pairs) for (const id of sender.expected(u.user.id)) if (!c.firstSeen.has(id)) n++
  return n
}

async function stats() {
  return api<{ connections: number; replicas: { id: string; alive: boolean; connections: number }[] }>(
    stack.url,
    'GET',
    '/v1/stats',
    { token: stack.serviceToken },
  )
}

async function startGateway(n: number) {
  const p = stack.proc('gateway', n)
  if (!p.running) p.start()
  await p.waitReady()
}

describe('gateway faults through nginx, 3 gateways', () => {
  it(`gateway kill -9 with ${KILL_MESSAGES} messages in flight: 0 lost after resuming with since, duplicates dropped by id, p99 redelivery < 10 s; its presence is gone within 30 s`, async () => {
    const cs = await clientsFor(users)
    const pairs = users.map((u, i) => [u, cs[i]] as [LoggedIn, SeqClient])
    const victims = cs.filter((c) => c.replica === 'gateway-1')
    expect(victims.length).toBeGreaterThan(0)

    // a witness that does not reconnect, so its presence can only disappear through the reap
    const witness = await login(stack.url)
    let w: TestSocket | null = null
    const extra: TestSocket[] = []
    for (let i = 0; i < 6 && !w; i++) {
      const s = await TestSocket.open(stack.wsUrl, await ticket(stack.url, witness.token))
      if (s.welcome?.replica === 'gateway-1') w = s
      else extra.push(s)
    }
    for (const s of extra) s.close()
    expect(w, 'a witness socket on gateway-1').not.toBeNull()

    const sender = new SeqSender(stack)
    const killAt = Math.floor(KILL_MESSAGES * 0.3)
    let killTime = 0
    let presenceGone: Promise<number> | null = null
    await pool(
      Array.from({ length: KILL_MESSAGES }, (_, i) => i),
      8,
      async (i) => {
        if (i === killAt) {
          killTime = Date.now()
          await stack.proc('gateway', 1).stop('SIGKILL')
          presenceGone = (async () => {
            await until(
              async () => {
                const p = await api<{ online: boolean }>(stack.url, 'GET', `/v1/users/${witness.user.id}/presence`, {
                  token: stack.serviceToken,
                })
                const s = await stats()
                return p.body.online === false && !s.body.replicas.some((r) => r.id === 'gateway-1' && r.alive)
              },
              35_000,
              'dead replica presence gone',
            )
            return Date.now() - killTime
          })()
        }
        await sender.send((users[i % users.length] as LoggedIn).user.id)
      },
    )
    expect(sender.errors).toBe(0)
    await until(() => missing(sender, pairs) === 0, 30_000, `all messages (missing ${missing(sender, pairs)})`)

    for (const c of victims) expect(c.welcomes.length).toBeGreaterThan(1)
    // redelivery: messages to a victim sent between the kill and its welcome on another gateway
    const latencies: number[] = []
    for (const [u, c] of pairs) {
      if (!victims.includes(c)) continue
      const back = c.welcomes[1]?.at ?? Number.POSITIVE_INFINITY
      for (const id of sender.expected(u.user.id)) {
        const sent = sender.sentAt.get(id) as number
        if (sent >= killTime && sent <= back) latencies.push((c.firstSeen.get(id) as number) - sent)
      }
    }
    const duplicates = cs.reduce((n, c) => n + c.rawMessages - c.received.length, 0)
    const p99 = percentile(latencies, 99)
    figure(
      'gateway kill -9 in flight',
      `${sender.total} sent, 0 lost, ${duplicates} duplicates dropped, ${victims.length} victims, p99 redelivery ${p99} ms over ${latencies.length} msgs`,
    )
    expect(latencies.length).toBeGreaterThan(0)
    expect(p99).toBeLessThan(10_000)
    const goneMs = await (presenceGone as unknown as Promise<number>)
    figure('dead replica presence gone (kill -9, default heartbeat)', `${goneMs} ms`)
    expect(goneMs).toBeLessThan(30_000)
    w?.close()
    for (const c of cs) c.stop()
    await startGateway(1)
  })

  it('gateway SIGTERM rolling restart of all three: 1012, 0 lost, each exit < 10 s', async () => {
    const cs = await clientsFor(users)
    const pairs = users.map((u, i) => [u, cs[i]] as [LoggedIn, SeqClient])
    const sender = new SeqSender(stack)
    let sending = true
    const load = (async () => {
      for (let i = 0; sending; i++) {
        await sender.send((users[i % users.length] as LoggedIn).user.id, 'r')
        await sleep(5)
      }
    })()
    const exits: number[] = []
    for (const n of [1, 2, 3]) {
      const held = cs.filter((c) => c.replica === `gateway-${n}` && c.open).length
      const before = cs.reduce((k, c) => k + c.closes.filter((x) => x.code === 1012).length, 0)
      exits.push(await stack.proc('gateway', n).stop('SIGTERM'))
      await startGateway(n)
      const after = cs.reduce((k, c) => k + c.closes.filter((x) => x.code === 1012).length, 0)
      expect(after - before, `gateway-${n} closed its ${held} sockets 1012`).toBe(held)
      await until(() => cs.every((c) => c.open), 10_000, 'every client back')
    }
    sending = false
    await load
    expect(sender.errors).toBe(0)
    await until(() => missing(sender, pairs) === 0, 20_000, `all messages (missing ${missing(sender, pairs)})`).catch(
      (err) => {
        for (const [u, c] of pairs)
          for (const id of sender.expected(u.user.id))
            if (!c.firstSeen.has(id))
              console.log('missing', id, 'sent', sender.sentAt.get(id), {
                welcomes: c.welcomes.map((w) => [w.at, w.frame.replica, w.frame.resumed, w.frame.gap]),
                closes: c.closes,
                got: c.received.map((m) => [m.id, m.cursor]).slice(-4),
              })
        throw err
      },
    )
    const codes = new Set(cs.flatMap((c) => c.closes.map((x) => x.code)))
    figure(
      'gateway rolling SIGTERM restart',
      `${sender.total} sent, 0 lost, exits ${exits.join('/')} ms, close codes ${[...codes].join(',')}`,
    )
    expect([...codes]).toEqual([1012])
    for (const ms of exits) expect(ms).toBeLessThan(10_000)
    for (const c of cs) c.stop()
  })

  it('an idle socket behind nginx stays open and is pinged (short form: 8 s at PING_INTERVAL_MS=2000)', async () => {
    const ws = new WebSocket(
      `${stack.wsUrl}?ticket=${encodeURIComponent(await ticket(stack.url, users[0]?.token as string))}`,
    )
    let pings = 0
    let closed: number | null = null
    ws.on('ping', () => pings++)
    ws.on('close', (code) => {
      closed = code
    })
    ws.on('error', () => {})
    await new Promise((r) => ws.once('open', r))
    await sleep(8000)
    figure('idle socket (short)', `${pings} pings in 8 s, open=${ws.readyState === WebSocket.OPEN}`)
    expect(closed).toBeNull()
    expect(pings).toBeGreaterThanOrEqual(3)
    ws.close()
  })

  it(`reconnect storm: ${STORM_SOCKETS} sockets dropped at once come back within 60 s, spread by jitter, no replica over its admission limit (${MAX_SOCKETS})`, async () => {
    const stormUsers = await Promise.all(Array.from({ length: Math.ceil(STORM_SOCKETS / 30) }, () => login(stack.url)))
    const list = Array.from({ length: STORM_SOCKETS }, (_, i) => stormUsers[i % stormUsers.length] as LoggedIn)
    const cs = await clientsFor(list, { auth: 'bearer', backoffBaseMs: 4000, backoffMaxMs: 8000 })
    let maxHeld = 0
    let watching = true
    const watch = (async () => {
      while (watching) {
        const s = await stats().catch(() => null)
        for (const r of s?.body.replicas ?? []) if (r.alive) maxHeld = Math.max(maxHeld, r.connections)
        await sleep(250)
      }
    })()
    const t0 = Date.now()
    await Promise.all([1, 2, 3].map((n) => stack.proc('gateway', n).stop('SIGTERM')))
    await Promise.all([1, 2, 3].map((n) => startGateway(n)))
    await until(() => cs.every((c) => c.welcomes.length >= 2 && c.open), 60_000, 'every socket back').catch((err) => {
      for (const c of cs.filter((x) => !(x.welcomes.length >= 2 && x.open)).slice(0, 5))
        console.log('stuck', c.welcomes.length, c.closes, c.failed, c.gaveUp, c.lastError, c.ws?.readyState)
      throw err
    })
    const backMs = Date.now() - t0
    watching = false
    await watch
    // reconnect attempts per second, from the drop until 99 % of the sockets are back
    const back = cs.map((c) => (c.welcomes[1]?.at as number) - t0).sort((x, y) => x - y)
    const p99Back = back[Math.ceil(back.length * 0.99) - 1] as number
    const bins = new Map<number, number>()
    for (const c of cs)
      for (const at of c.attempts) {
        const t = at - t0
        if (t >= 0 && t <= p99Back) bins.set(Math.floor(t / 1000), (bins.get(Math.floor(t / 1000)) ?? 0) + 1)
      }
    const span = Math.floor(p99Back / 1000) + 1
    const attempts = [...bins.values()].reduce((x, y) => x + y, 0)
    const mean = attempts / span
    const peak = Math.max(...bins.values())
    const refused = cs.reduce((n, c) => n + c.refusals.length, 0)
    figure(
      'reconnect storm',
      `${STORM_SOCKETS} dropped, 99 % back in ${p99Back} ms, all in ${backMs} ms; ${attempts} attempts over ${span} s, peak ${peak}/s vs mean ${mean.toFixed(0)}/s (${(peak / mean).toFixed(2)}×); ${refused} admission refusals (1013), max held ${maxHeld}/${MAX_SOCKETS}`,
    )
    expect(backMs).toBeLessThan(60_000)
    // Jittered: no second holds more than 3.5× the mean rate (a herd puts every socket's attempt
    // in the same second). A slower machine restarts the gateways later, so more first attempts
    // fail and their retries bunch: 3.03× was seen in CI (3066 attempts for 1500 sockets).
    expect(peak).toBeLessThanOrEqual(3.5 * mean)
    expect(maxHeld).toBeLessThanOrEqual(MAX_SOCKETS)
    for (const c of cs) c.stop()
  })
})
