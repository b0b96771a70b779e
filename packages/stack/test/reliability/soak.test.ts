import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, ticket } from '../client'
import { e2eStack } from '../e2e/helpers'
import { SeqClient } from '../support/seq-client'
import { figure, param, percentile, pool, SOAK, sleep } from '../support/soak'

/**
 * Long form only (`pnpm test:soak`): N sockets, R messages/s, for D seconds, with the
 * default ping period and an idle socket that must survive it all. Sizes:
 * HERALD_SOAK_SOCKETS (10,000), HERALD_SOAK_RATE (500/s), HERALD_SOAK_SECONDS (1,800).
 */
const SOCKETS = param('SOAK_SOCKETS', 10_000, 10_000)
const RATE = param('SOAK_RATE', 500, 500)
const SECONDS = param('SOAK_SECONDS', 1800, 1800)
const SOCKETS_PER_USER = 10
const USERS_PER_POST = 10
const STREAM_MAXLEN = 10_000

let stack: Stack
const clients: SeqClient[] = []

function rssKb(pid: number | undefined): number {
  if (!pid) return 0
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0)
}
/** The longest gateway stream (every key of type stream that is not BullMQ's) */
async function streamLength(redis: Redis): Promise<number> {
  let longest = 0
  for (const key of await redis.keys('*')) {
    if (key.includes('bull')) continue
    if ((await redis.type(key)) === 'stream') longest = Math.max(longest, await redis.xlen(key))
  }
  return longest
}
const gatewayRss = () => [1, 2, 3].map((n) => rssKb(stack.proc('gateway', n).child?.pid ?? undefined))

describe.skipIf(!SOAK)(`soak: ${SOCKETS} sockets, ${RATE} msg/s, ${SECONDS} s`, () => {
  beforeAll(async () => {
    stack = await e2eStack({
      env: {
        MAX_CONNECTIONS_PER_USER: '0',
        MAX_SOCKETS: String(SOCKETS),
        STREAM_MAXLEN: String(STREAM_MAXLEN),
        // the default ping period and heartbeat, as in production
        HEARTBEAT_INTERVAL_MS: '5000',
      },
    })
  }, 600_000)
  afterAll(async () => {
    for (const c of clients) c.stop()
    await stack?.stop()
  })

  it(
    'memory growth < 10 %, stream length bounded, p99 stable, an idle socket stays open (default pings)',
    async () => {
      const users: LoggedIn[] = await pool(
        Array.from({ length: Math.ceil(SOCKETS / SOCKETS_PER_USER) }, (_, i) => i),
        20,
        () => login(stack.url),
      )
      let window: number[] = []
      let received = 0
      for (let i = 0; i < SOCKETS; i++) {
        const u = users[i % users.length] as LoggedIn
        clients.push(
          new SeqClient({
            base: stack.url,
            wsUrl: stack.wsUrl,
            token: u.token,
            auth: 'bearer',
            keep: false,
            onMessage: (f, at) => {
              received++
              window.push(at - ((f.data as { sentAt: number }).sentAt ?? at))
            },
          }),
        )
      }
      await pool(clients, 100, (c) => c.start())
      const idle = new WebSocket(
        `${stack.wsUrl}?ticket=${encodeURIComponent(await ticket(stack.url, (users[0] as LoggedIn).token))}`,
      )
      let idlePings = 0
      let idleClosed: number | null = null
      idle.on('ping', () => idlePings++)
      idle.on('close', (code) => {
        idleClosed = code
      })
      idle.on('error', () => {})

      const redis = new Redis(stack.redisUrl)
      const windows: { p99: number; n: number }[] = []
      const xlens: number[] = []
      let sent = 0
      let errors = 0
      let baseRss: number[] = []
      const t0 = Date.now()
      const postsPerSecond = RATE / USERS_PER_POST
      let u = 0
      while (Date.now() - t0 < SECONDS * 1000) {
        const second = Date.now()
        await Promise.all(
          Array.from({ length: postsPerSecond }, async (_, k) => {
            await sleep((k * 1000) / postsPerSecond)
            const to = Array.from({ length: USERS_PER_POST }, () => (users[u++ % users.length] as LoggedIn).user.id)
            const res = await api(stack.url, 'POST', '/v1/messages', {
              token: stack.serviceToken,
              body: { to: { userIds: to }, title: 's', body: 's', data: { sentAt: Date.now() } },
            }).catch(() => null)
            if (res?.status === 202) sent += USERS_PER_POST
            else errors++
          }),
        )
        await sleep(Math.max(0, 1000 - (Date.now() - second)))
        const elapsed = Date.now() - t0
        if (elapsed >= (windows.length + 1) * Math.max(10_000, (SECONDS * 1000) / 12)) {
          windows.push({ p99: percentile(window, 99), n: window.length })
          window = []
          xlens.push(await streamLength(redis))
          if (baseRss.length === 0 && elapsed >= SECONDS * 200) baseRss = gatewayRss()
        }
      }
      await sleep(3000)
      const endRss = gatewayRss()
      const xlen = Math.max(await streamLength(redis), ...xlens)
      redis.disconnect()
      const growth = endRss.map((r, i) => (r - (baseRss[i] ?? r)) / (baseRss[i] || r))
      const p99s = windows.map((w) => w.p99)
      const open = clients.filter((c) => c.open).length
      figure(
        'soak',
        `${SOCKETS} sockets (${open} open at the end), ${sent} messages sent (${errors} failed POSTs), ${received} frames received; ` +
          `gateway RSS ${baseRss.map((k) => Math.round(k / 1024)).join('/')} → ${endRss.map((k) => Math.round(k / 1024)).join('/')} MiB ` +
          `(growth ${growth.map((g) => `${(g * 100).toFixed(1)}%`).join('/')}); stream length max ${xlen} (${xlens.join('/')}, MAXLEN ${STREAM_MAXLEN}); ` +
          `p99 per window ${p99s.join('/')} ms; idle socket: ${idlePings} pings, ${idleClosed === null ? 'open' : `closed ${idleClosed}`}`,
      )
      expect(errors).toBe(0)
      expect(open).toBe(SOCKETS)
      for (const g of growth) expect(g).toBeLessThan(0.1)
      expect(xlen).toBeLessThanOrEqual(STREAM_MAXLEN * 1.1 + 1000)
      // stable: the last third's p99 within 1.5× (+20 ms) of the first third's
      const third = Math.max(1, Math.floor(p99s.length / 3))
      const first = Math.max(...p99s.slice(0, third))
      const last = Math.max(...p99s.slice(-third))
      expect(last).toBeLessThanOrEqual(first * 1.5 + 20)
      expect(idleClosed).toBeNull()
      expect(idle.readyState).toBe(WebSocket.OPEN)
      idle.close()
    },
    (SECONDS + 900) * 1000,
  )
})
