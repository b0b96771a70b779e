import { Agent, request } from 'node:http'
import { latencyHistogram, nowMs, recordMs, summarize } from '../hist'
import { healthMonitor } from './health'
import { serve } from './ipc'

/**
 * A forked open-loop HTTP generator: requests are scheduled by the wall clock at a fixed
 * rate, never by waiting for replies, and each one's latency is measured from its
 * scheduled time (so a stalled server cannot hide behind a stalled generator). The
 * number of requests and the time are both bounded.
 */
export type SendKind = 'messages' | 'broadcast' | 'events' | 'me' | 'login'

export interface RunRequest {
  kind: SendKind
  base: string
  rate: number
  durationMs: number
  /** service token (messages, broadcast, events) */
  token?: string
  /** user ids addressed round-robin (messages, events) */
  targets?: string[]
  /** ready-made header per session (me): e.g. `authorization: Bearer …` or `cookie: sid=…` */
  credentials?: [string, string][]
  /** a tag that keeps event ids and phone numbers unique across runs */
  tag?: string
  maxInflight?: number
}

export interface RunResult {
  scheduled: number
  ok: number
  failed: number
  dropped: number
  statuses: Record<string, number>
  perTarget: number[]
  http: ReturnType<typeof summarize>
  health: ReturnType<ReturnType<typeof healthMonitor>['read']>
  sendMs: number
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 })
const health = healthMonitor()

function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string; cookie?: string }> {
  return new Promise((resolve) => {
    const u = new URL(path, base)
    const h: Record<string, string | number> = { ...headers }
    if (body !== undefined) {
      h['content-type'] = 'application/json'
      h['content-length'] = Buffer.byteLength(body)
    }
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method, headers: h, agent, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const setCookie = res.headers['set-cookie']?.[0]
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString(),
            ...(setCookie ? { cookie: setCookie.split(';')[0] } : {}),
          })
        })
        res.on('error', () => resolve({ status: 0, text: '' }))
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve({ status: 0, text: '' }))
    req.end(body)
  })
}

async function run(r: RunRequest): Promise<RunResult> {
  const hist = latencyHistogram()
  const targets = r.targets ?? []
  const perTarget = new Array<number>(targets.length).fill(0)
  const statuses: Record<string, number> = {}
  const total = Math.max(1, Math.round((r.rate * r.durationMs) / 1000))
  const interval = 1000 / r.rate
  const maxInflight = r.maxInflight ?? 4000
  const auth = { authorization: `Bearer ${r.token ?? ''}` }
  let inflight = 0
  let ok = 0
  let failed = 0
  let dropped = 0
  const count = (status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1
  }

  /** One scheduled unit of work; resolves true when it succeeded. */
  const fire = async (k: number, at: number): Promise<boolean> => {
    const n = targets.length
    switch (r.kind) {
      case 'messages': {
        const i = k % n
        const body = {
          to: { userIds: [targets[i]] },
          title: 'bench',
          body: 'fanout',
          data: { t: at, s: 1 + Math.floor(k / n) },
        }
        const res = await call(r.base, 'POST', '/v1/messages', auth, JSON.stringify(body))
        recordMs(hist, nowMs() - at)
        count(res.status)
        if (res.status !== 202) return false
        perTarget[i] = (perTarget[i] as number) + 1
        return true
      }
      case 'broadcast': {
        const body = { to: { all: true }, title: 'bench', body: 'broadcast', data: { t: at, s: k + 1 } }
        const res = await call(r.base, 'POST', '/v1/messages', auth, JSON.stringify(body))
        recordMs(hist, nowMs() - at)
        count(res.status)
        return res.status === 202
      }
      case 'events': {
        const i = k % n
        const body = {
          id: `bench-${r.tag}-${k}`,
          type: 'chat.message',
          data: {
            fromUserId: targets[(i + 1) % n],
            toUserId: targets[i],
            text: `bench:${at}:${1 + Math.floor(k / n)}`,
          },
        }
        const res = await call(r.base, 'POST', '/v1/events', auth, JSON.stringify(body))
        recordMs(hist, nowMs() - at)
        count(res.status)
        if (res.status !== 202) return false
        perTarget[i] = (perTarget[i] as number) + 1
        return true
      }
      case 'me': {
        const [name, value] = (r.credentials ?? [])[k % (r.credentials?.length ?? 1)] ?? ['x', '']
        const res = await call(r.base, 'GET', '/auth/me', { [name]: value }, undefined)
        recordMs(hist, nowMs() - at)
        count(res.status)
        return res.status === 200
      }
      case 'login': {
        const phone = `+86139${String(r.tag).padStart(3, '0').slice(-3)}${String(k).padStart(5, '0')}`
        const sent = await call(r.base, 'POST', '/auth/code', {}, JSON.stringify({ phone }))
        recordMs(hist, nowMs() - at)
        count(sent.status)
        if (sent.status !== 202) return false
        let t = nowMs()
        const sms = await call(r.base, 'GET', `/auth/dev/sms/${encodeURIComponent(phone)}`, {}, undefined)
        recordMs(hist, nowMs() - t)
        count(sms.status)
        if (sms.status !== 200) return false
        t = nowMs()
        const code = (JSON.parse(sms.text) as { code: string }).code
        const res = await call(r.base, 'POST', '/auth/login', {}, JSON.stringify({ phone, code, device: 'bench' }))
        recordMs(hist, nowMs() - t)
        count(res.status)
        return res.status === 200
      }
    }
  }

  health.reset()
  const start = nowMs() + 5
  const deadline = start + r.durationMs + 15_000
  let k = 0
  const all: Promise<void>[] = []
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs()
      while (k < total && start + k * interval <= now) {
        const at = start + k * interval
        if (inflight >= maxInflight) dropped++
        else {
          inflight++
          all.push(
            fire(k, at).then(
              (good) => {
                inflight--
                if (good) ok++
                else failed++
              },
              () => {
                inflight--
                failed++
              },
            ),
          )
        }
        k++
      }
      if (k < total && now < deadline) setTimeout(tick, 1)
      else resolve()
    }
    tick()
  })
  const sendMs = nowMs() - start
  await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, Math.max(0, deadline - nowMs())))])
  return {
    scheduled: total,
    ok,
    failed: failed + inflight,
    dropped,
    statuses,
    perTarget,
    http: summarize(hist),
    health: health.read(),
    sendMs,
  }
}

serve(async (msg) => {
  if (msg.cmd === 'run') return run(msg as unknown as RunRequest)
  throw new Error(`unknown command ${String(msg.cmd)}`)
})
