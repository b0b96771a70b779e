import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sleep } from '@herald/test-utils'
import WebSocket from 'ws'
import { latencyHistogram, nowMs, recordMs, summarize } from './hist'
import { scrape, sumSamples } from './prom'
import { startHerald } from './systems'

/**
 * `pnpm --filter @herald/bench flood`: issue 8's abuse goal — one client sending 1,000 frames
 * per second must not raise the other clients' delivery p99 by more than 10 %. herald alone (its
 * peers have no per-socket frame limit to compare): three gateways behind nginx, `--clients`
 * signed-in clients acking what they get, one message every 10 ms to each of them in turn through
 * `POST /v1/messages`. Phases without (A) and with (B) a flooder on a socket of its own — 10 `ack`
 * frames every 10 ms — alternate A/B/A/B for `--cycles`, each `--phase-ms` long; it prints each
 * phase's p99, the pooled p99 of each side, their ratio, and how many of the flooder's frames the
 * gateways dropped (gateway_frames_rejected_total{reason="rate_limited"}).
 */
const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10' },
    cycles: { type: 'string', default: '3' },
    'phase-ms': { type: 'string', default: '4000' },
  },
})
const clients = Math.min(Math.max(Number(values.clients) || 10, 1), 200)
const cycles = Math.min(Math.max(Number(values.cycles) || 3, 1), 20)
const phaseMs = Math.min(Math.max(Number(values['phase-ms']) || 4000, 1000), 60_000)
const GOAL = 1.1

function connect(
  url: string,
  token: string,
  onMessage?: (ws: WebSocket, frame: Record<string, unknown>, at: number) => void,
) {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false })
    const timer = setTimeout(() => reject(new Error('no welcome within 10 s')), 10_000)
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const at = nowMs()
      const frame = JSON.parse(raw.toString()) as Record<string, unknown>
      if (frame.type === 'welcome') {
        clearTimeout(timer)
        resolve(ws)
      } else onMessage?.(ws, frame, at)
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'herald-flood-'))
const sys = await startHerald({ dir, pingMs: 25_000, replicas: 3 })
try {
  const users = await sys.users(clients + 1)
  const flooderUser = users[clients] as (typeof users)[number]
  /** when each message id first reached a client */
  const arrived = new Map<string, number>()
  await Promise.all(
    users.slice(0, clients).map((u) =>
      connect(sys.wsUrl, u.token, (ws, frame, at) => {
        if (frame.type !== 'message' || typeof frame.id !== 'string') return
        if (!arrived.has(frame.id)) arrived.set(frame.id, at)
        ws.send(JSON.stringify({ type: 'ack', ids: [frame.id] }))
      }),
    ),
  )
  const rejected = async () =>
    (await scrape(sys.gatewayMetricsUrls)).reduce(
      (n, text) => n + sumSamples(text, 'gateway_frames_rejected_total', { reason: 'rate_limited' }),
      0,
    )

  const phase = async (flood: boolean) => {
    const hist = latencyHistogram()
    const sentAt = new Map<string, number>()
    let flooder: WebSocket | undefined
    let floodTimer: NodeJS.Timeout | undefined
    let floodFrames = 0
    let told = 0
    let failed = 0
    const rejected0 = await rejected()
    if (flood) {
      flooder = await connect(sys.wsUrl, flooderUser.token, (_ws, frame) => {
        if (frame.type === 'error' && frame.code === 'RATE_LIMITED') told++
      })
      floodTimer = setInterval(() => {
        for (let i = 0; i < 10; i++) flooder?.send(JSON.stringify({ type: 'ack', ids: [`${floodFrames++}`] }))
      }, 10)
    }
    const t0 = Date.now()
    for (let i = 0; Date.now() - t0 < phaseMs; i++) {
      const user = users[i % clients] as (typeof users)[number]
      const t = nowMs()
      const res = await fetch(`${sys.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sys.serviceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: { userIds: [user.id] }, title: 'flood', body: flood ? 'B' : 'A' }),
      })
      const { ids } = (await res.json()) as { ids?: string[] }
      if (res.status === 202 && ids?.[0]) sentAt.set(ids[0], t)
      else failed++
      await sleep(10)
    }
    clearInterval(floodTimer)
    const missing = () => [...sentAt.keys()].filter((id) => !arrived.has(id)).length
    for (let w = 0; missing() > 0 && w < 100; w++) await sleep(100)
    for (const [id, t] of sentAt) {
      const at = arrived.get(id)
      if (at !== undefined) recordMs(hist, at - t)
    }
    const lost = missing()
    flooder?.close()
    return { hist, ...summarize(hist), lost, failed, floodFrames, told, dropped: (await rejected()) - rejected0 }
  }

  const a: number[] = []
  const b: number[] = []
  const pooled = { a: latencyHistogram(), b: latencyHistogram() }
  console.log(`flood: ${clients} clients through nginx, 3 gateways, phases of ${phaseMs} ms, A/B × ${cycles}`)
  for (let c = 0; c < cycles; c++) {
    for (const flood of [false, true]) {
      const r = await phase(flood)
      const side = flood ? pooled.b : pooled.a
      side.add(r.hist)
      ;(flood ? b : a).push(r.p99)
      console.log(
        `  ${flood ? 'B (flooder)' : 'A          '} p50 ${r.p50} p99 ${r.p99} ms over ${r.count} deliveries, ${r.lost} missing, ${r.failed} refused` +
          (flood ? `; flooder sent ${r.floodFrames} frames, ${r.dropped} dropped, told RATE_LIMITED ${r.told}×` : ''),
      )
    }
  }
  const pA = summarize(pooled.a).p99
  const pB = summarize(pooled.b).p99
  console.log(
    `pooled p99: A ${pA} ms, B ${pB} ms — B/A ${(pB / pA).toFixed(2)} (goal ≤ ${GOAL}, or within 5 ms at single-digit latencies: ${pB <= Math.max(pA * GOAL, pA + 5) ? 'met' : 'not met'})`,
  )
} finally {
  await sys.stop()
  rmSync(dir, { recursive: true, force: true })
}
