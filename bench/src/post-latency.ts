import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'

/**
 * `pnpm --filter @herald/bench post-latency [--to all|one] [--count 300] [--gap 20]`: how long a
 * `POST /v1/messages` takes against a running herald (`pnpm stack`; `--url`, default
 * http://127.0.0.1:8080, and the service token in HERALD_TOKEN), one request at a time `--gap`
 * ms apart: until its answer, and until its frame reaches a socket. The tool signs in one user
 * of its own (the stack's dev SMS provider gives it the code), holds one WebSocket for it
 * through nginx, acks what it gets, and sends to that user (`one`) or to everyone (`all`).
 * Prints p50 and p90 of both, after 10 unmeasured requests.
 */
const { values } = parseArgs({
  options: {
    to: { type: 'string', default: 'all' },
    count: { type: 'string', default: '300' },
    gap: { type: 'string', default: '20' },
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
  },
})
const token = process.env.HERALD_TOKEN
if (!token) throw new Error('HERALD_TOKEN must hold a service token with messages:write (pnpm stack prints one)')
if (values.to !== 'all' && values.to !== 'one') throw new Error('--to must be all or one')
const count = Math.min(Math.max(Number(values.count) || 300, 10), 10_000)
const gapMs = Math.min(Math.max(Number(values.gap) || 0, 0), 1000)
const WARM_UP = 10
const base = values.url
const json = { 'content-type': 'application/json' }

async function call<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}`)
  return (await res.json()) as T
}

// a user of its own: a fresh number each run (a code may not be sent again to one for a while)
const phone = `+86138${String(randomInt(100_000_000)).padStart(8, '0')}`
await call('/auth/code', { method: 'POST', headers: json, body: JSON.stringify({ phone }) })
const { code } = await call<{ code: string }>(`/auth/dev/sms/${encodeURIComponent(phone)}`, {})
const session = await call<{ token: string; user: { id: string } }>('/auth/login', {
  method: 'POST',
  headers: json,
  body: JSON.stringify({ phone, code, device: 'post-latency' }),
})
const { ticket } = await call<{ ticket: string }>('/auth/ws-ticket', {
  method: 'POST',
  headers: { authorization: `Bearer ${session.token}` },
})
const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?ticket=${ticket}`, { headers: { origin: base } })
const waiting = new Map<string, (at: number) => void>()
ws.on('message', (data) => {
  const frame = JSON.parse(data.toString()) as { type: string; id: string; body: string }
  if (frame.type !== 'message') return
  waiting.get(frame.body)?.(performance.now())
  waiting.delete(frame.body)
  ws.send(JSON.stringify({ type: 'ack', ids: [frame.id] }))
})
await new Promise((resolve, reject) => {
  ws.once('open', resolve)
  ws.once('error', reject)
})

const to = values.to === 'all' ? { all: true } : { userIds: [session.user.id] }
const answers: number[] = []
const frames: number[] = []
try {
  for (let i = 0; i < count + WARM_UP; i++) {
    const body = `request ${i} of ${phone}`
    const framed = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame for request ${i} in 10 s`)), 10_000)
      waiting.set(body, (at) => {
        clearTimeout(timer)
        resolve(at)
      })
    })
    const started = performance.now()
    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${token}` },
      body: JSON.stringify({ to, title: 'post-latency', body }),
      signal: AbortSignal.timeout(10_000),
    })
    await res.arrayBuffer()
    const answered = performance.now()
    if (res.status !== 202) throw new Error(`POST /v1/messages answered ${res.status}`)
    const arrived = await framed
    if (i >= WARM_UP) {
      answers.push(answered - started)
      frames.push(arrived - started)
    }
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
} finally {
  ws.close()
}
const at = (sample: number[], q: number) =>
  (sample.sort((a, b) => a - b)[Math.floor(q * (sample.length - 1))] as number).toFixed(2)
console.log(
  `POST /v1/messages to ${values.to === 'all' ? 'everyone' : 'one user'}, ${count} one at a time ${gapMs} ms apart: answer p50 ${at(answers, 0.5)} p90 ${at(answers, 0.9)} ms; frame on the socket p50 ${at(frames, 0.5)} p90 ${at(frames, 0.9)} ms`,
)
