import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login, TestSocket, ticket } from '../client'
import { e2eStack, sendTo } from '../e2e/helpers'
import { SeqSender } from '../support/load'
import { SeqClient } from '../support/seq-client'
import { figure, percentile, pool, sleep, until } from '../support/soak'

const ORIGIN = 'https://app.example'
const SLOW_CONSUMER_BYTES = 256 * 1024

let stack: Stack
const open: SeqClient[] = []

beforeAll(async () => {
  stack = await e2eStack({
    env: { ALLOWED_ORIGINS: ORIGIN, SLOW_CONSUMER_BYTES: String(SLOW_CONSUMER_BYTES) },
  })
})
afterAll(async () => {
  for (const c of open) c.stop()
  await stack?.stop()
})

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
function resign(jwt: string, change: (claims: Record<string, unknown>) => Record<string, unknown>, secret: string) {
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(change(claims))}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

/** Opens a raw upgrade; resolves with the close code (or the HTTP status of a refused upgrade) and whether a welcome came (then closes it). */
function attempt(query: string, headers: Record<string, string> = {}) {
  return new Promise<{ code: number; welcome: boolean }>((resolve) => {
    const ws = new WebSocket(`${stack.wsUrl}${query}`, { headers })
    let welcome = false
    const timer = setTimeout(() => {
      resolve({ code: -1, welcome })
      ws.terminate()
    }, 5000)
    ws.on('close', () => clearTimeout(timer))
    ws.on('message', (d) => {
      if ((JSON.parse(d.toString()) as { type: string }).type !== 'welcome') return
      welcome = true
      ws.close()
    })
    ws.on('unexpected-response', (_req, res) => {
      resolve({ code: res.statusCode ?? 0, welcome })
      ws.terminate()
    })
    ws.on('error', () => {})
    ws.on('close', (code) => resolve({ code, welcome }))
  })
}

/** gateway_frames_rejected_total{reason="rate_limited"}, summed over the replicas */
async function rateLimitedFrames(): Promise<number> {
  let sum = 0
  for (const n of [1, 2, 3]) {
    const text = await (await fetch(`http://127.0.0.1:${stack.proc('gateway', n).spec.port}/metrics`)).text()
    for (const m of text.matchAll(/^gateway_frames_rejected_total\{[^}]*reason="rate_limited"[^}]*\} (\d+)$/gm))
      sum += Number(m[1])
  }
  return sum
}

async function presence(userId: string) {
  return (
    await api<{ online: boolean; connections: unknown[] }>(stack.url, 'GET', `/v1/users/${userId}/presence`, {
      token: stack.serviceToken,
    })
  ).body
}

describe('WebSocket abuse through nginx', () => {
  it('missing, expired, forged and reused tickets and a bad Origin are refused before any socket is registered', async () => {
    const u = await login(stack.url)
    const good = await ticket(stack.url, u.token)
    const now = Math.floor(Date.now() / 1000)
    const secret = stack.secrets.TICKET_SECRET
    const used = await ticket(stack.url, u.token)
    const first = await attempt(`?ticket=${used}`, { origin: ORIGIN })
    expect(first.welcome).toBe(true)
    await until(async () => !(await presence(u.user.id)).online, 5000, 'first socket gone')
    const cases: Record<string, [string, Record<string, string>]> = {
      missing: ['', { origin: ORIGIN }],
      expired: [
        `?ticket=${resign(good, (c) => ({ ...c, iat: now - 120, exp: now - 60, jti: `${c.jti}x` }), secret)}`,
        {},
      ],
      'wrong secret': [`?ticket=${resign(good, (c) => c, 'x'.repeat(43))}`, {}],
      'alg none': [`?ticket=${b64({ alg: 'none' })}.${good.split('.')[1]}.`, {}],
      'other user': [`?ticket=${resign(good, (c) => ({ ...c, sub: 'someone-else' }), 'y'.repeat(43))}`, {}],
      reused: [`?ticket=${used}`, { origin: ORIGIN }],
      'bad Origin': [`?ticket=${good}`, { origin: 'https://evil.example' }],
      'bad session bearer': ['', { authorization: 'Bearer 00000000-0000-4000-8000-000000000000' }],
    }
    const got: Record<string, number> = {}
    for (const [name, [q, h]] of Object.entries(cases)) {
      const r = await attempt(q, h)
      got[name] = r.code
      expect(r.welcome, name).toBe(false)
      const p = await presence(u.user.id)
      expect(p.connections, `${name}: presence stays empty`).toEqual([])
    }
    figure(
      'ws refusals',
      Object.entries(got)
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    )
    for (const name of Object.keys(cases).filter((n) => n !== 'bad Origin')) expect(got[name], name).toBe(4401)
    expect(got['bad Origin']).toBe(403)
    // the Origin check runs before the ticket is even read: the good ticket was not burned
    const later = await attempt(`?ticket=${good}`, { origin: ORIGIN })
    expect(later.welcome).toBe(true)
  })

  it('a 65 KiB frame closes the socket 1009; malformed frames never crash a replica', async () => {
    const u = await login(stack.url)
    const pids = [1, 2, 3].map((n) => stack.proc('gateway', n).child?.pid)
    // The replica closes 1009 at once, with most of the frame still unread: now and then the
    // kernel answers that unread data with a reset that reaches the client (1006) before the
    // close frame does. A few tries, and at least one must show the 1009 the client is owed.
    const bigCodes: number[] = []
    for (let i = 0; i < 3 && !bigCodes.includes(1009); i++) {
      const big = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token))
      big.ws.send(JSON.stringify({ type: 'ack', ids: ['x'.repeat(65 * 1024)] }))
      bigCodes.push((await big.waitClosed()).code)
    }
    expect(bigCodes).toContain(1009)
    for (const code of bigCodes) expect([1009, 1006]).toContain(code)

    const nasty: Array<[string, (ws: WebSocket) => void]> = [
      ['binary', (ws) => ws.send(Buffer.from([0, 1, 2, 255]), { binary: true })],
      ['invalid UTF-8', (ws) => ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false })],
      ['deep JSON', (ws) => ws.send(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)],
      ['deep object', (ws) => ws.send(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`)],
      ['wrong types', (ws) => ws.send(JSON.stringify({ type: 'ack', ids: 5 }))],
      ['ids of objects', (ws) => ws.send(JSON.stringify({ type: 'read', ids: [{ $gt: '' }, null, 1] }))],
      [
        'many ids',
        (ws) => ws.send(JSON.stringify({ type: 'read', ids: Array.from({ length: 5000 }, (_, i) => `${i}`) })),
      ],
      ['proto', (ws) => ws.send('{"__proto__":{"polluted":1},"type":"ack","ids":["1"]}')],
      ['not JSON', (ws) => ws.send('hello')],
      ['empty', (ws) => ws.send('')],
      ['null', (ws) => ws.send('null')],
      ['unknown type', (ws) => ws.send(JSON.stringify({ type: 'subscribe', channel: '*' }))],
    ]
    const codes: Record<string, number | string> = {}
    for (const [name, act] of nasty) {
      const s = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token))
      act(s.ws)
      await sleep(150)
      codes[name] = s.closed?.code ?? ((s.frames.find((f) => f.type === 'error')?.code as string) || 'open')
      s.close()
    }
    figure(
      'malformed frames',
      `65 KiB → ${bigCodes.join(' then ')}; ${Object.entries(codes)
        .map(([k, v]) => `${k}→${v}`)
        .join(', ')}`,
    )
    await sleep(500)
    expect([1, 2, 3].map((n) => stack.proc('gateway', n).child?.pid)).toEqual(pids)
    for (const n of [1, 2, 3]) expect(stack.proc('gateway', n).running).toBe(true)
    // and every replica still serves
    const s = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token))
    await sendTo(stack, [u.user.id], 'still here')
    await s.waitFrame((f) => f.type === 'message' && f.title === 'still here')
    s.close()
  })

  it('a client that stops reading is cut at its buffer cap', async () => {
    const u = await login(stack.url)
    const s = await TestSocket.open(stack.wsUrl, await ticket(stack.url, u.token))
    // stop reading: the kernel buffers fill, then nginx's, then the gateway's queue
    const raw = (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
    raw.pause()
    const pad = 'x'.repeat(3000)
    const t0 = Date.now()
    let sent = 0
    while (Date.now() - t0 < 60_000) {
      await pool(
        Array.from({ length: 40 }, (_, i) => i),
        8,
        () => sendTo(stack, [u.user.id], 'flood', { pad: pad.repeat(10) }),
      )
      sent += 40
      if (!(await presence(u.user.id)).online) break
    }
    const cutMs = Date.now() - t0
    raw.resume()
    const code = (await s.waitClosed(10_000)).code
    figure(
      'slow reader',
      `cut after ${sent} × 30 KB messages (${cutMs} ms), close ${code}, cap ${SLOW_CONSUMER_BYTES} B`,
    )
    expect((await presence(u.user.id)).online).toBe(false)
    expect([1013, 1006]).toContain(code)
  })

  // The goal beside it — other clients' delivery p99 raised by no more than 10 % — is a speed
  // figure: `pnpm --filter @herald/bench flood` measures it (BENCHMARKS.md), this test only prints it.
  it('1,000 frames/s from one client are dropped at its gateway past the rate, told once a second, while every other client gets every message (A/B/A/B)', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => login(stack.url)))
    const cs = users.map((u) => new SeqClient({ base: stack.url, wsUrl: stack.wsUrl, token: u.token }))
    open.push(...cs)
    await Promise.all(cs.map((c) => c.start()))
    const flooderUser = await login(stack.url)
    const phase = async (flood: boolean) => {
      const sender = new SeqSender(stack)
      let flooder: TestSocket | null = null
      let floodTimer: NodeJS.Timeout | undefined
      let sentFrames = 0
      const dropped0 = await rateLimitedFrames()
      if (flood) {
        flooder = await TestSocket.open(stack.wsUrl, await ticket(stack.url, flooderUser.token))
        // 1,000 frames per second, in 10 ms bursts of 10
        floodTimer = setInterval(() => {
          for (let i = 0; i < 10; i++) flooder?.send({ type: 'ack', ids: [`${sentFrames++}`] })
        }, 10)
      }
      const t0 = Date.now()
      for (let i = 0; Date.now() - t0 < 4000; i++) {
        await sender.send((users[i % users.length] as LoggedIn).user.id, flood ? 'B' : 'A')
        await sleep(10)
      }
      clearInterval(floodTimer)
      await until(
        () => [...sender.sentAt.keys()].every((id) => cs.some((c) => c.firstSeen.has(id))),
        10_000,
        'phase delivered',
      )
      const lat = [...sender.sentAt].map(([id, t]) => {
        const c = cs.find((x) => x.firstSeen.has(id)) as SeqClient
        return (c.firstSeen.get(id) as number) - t
      })
      const limited = flooder?.frames.filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED').length ?? 0
      flooder?.close()
      const dropped = (await rateLimitedFrames()) - dropped0
      return { lat, p99: percentile(lat, 99), n: lat.length, sentFrames, limited, dropped }
    }
    const a1 = await phase(false)
    const b1 = await phase(true)
    const a2 = await phase(false)
    const b2 = await phase(true)
    const pA = percentile([...a1.lat, ...a2.lat], 99)
    const pB = percentile([...b1.lat, ...b2.lat], 99)
    figure(
      'frame flooder A/B/A/B',
      `p99 A ${a1.p99}/${a2.p99} ms, B ${b1.p99}/${b2.p99} ms, pooled A ${pA} B ${pB} (${a1.n + a2.n} / ${b1.n + b2.n} deliveries); flooder sent ${b1.sentFrames}+${b2.sentFrames} frames, told RATE_LIMITED ${b1.limited + b2.limited} times, dropped ${b1.dropped + b2.dropped}`,
    )
    // dropped past the rate before any work (at 20 frames/s, at most ~100 of ~4,000 pass), and
    // told so about once a second (not once per frame) over 4 s
    for (const b of [b1, b2]) {
      expect(b.dropped).toBeGreaterThanOrEqual(b.sentFrames * 0.9)
      expect(b.dropped).toBeLessThanOrEqual(b.sentFrames)
      expect(b.limited).toBeGreaterThanOrEqual(3)
      expect(b.limited).toBeLessThanOrEqual(6)
    }
    // the quiet phases drop nothing: the counter is the flooder's alone
    expect(a1.dropped + a2.dropped).toBe(0)
  })
})
