/**
 * Gateway benchmark: one replica (its own process, started as production starts it) on a
 * private redis-server, 127.0.0.1 only.
 *   1. opens N idle sockets (Bearer session auth) and reports the replica's RSS and heap per socket;
 *   2. pushes M targeted messages through the delivery stream (Inbox.deliver, as the notifier
 *      does) and reports delivered/s and the stream-to-socket latency (p50/p99).
 *
 *   pnpm --filter @herald/gateway bench            (N=5000 M=20000)
 *   N=10000 M=50000 RATE=0 pnpm --filter @herald/gateway bench
 * RATE: messages per second offered (0: as fast as the sender goes), in batches of BATCH.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Inbox } from '@herald/inbox'
import { createKeys } from '@herald/keys'
import { SessionStore } from '@herald/service-kit'
import { Redis } from 'ioredis'
import WebSocket from 'ws'

const env = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt)
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`)
  return Math.floor(v)
}
const N = Math.min(env('N', 5000), 15_000)
const M = Math.min(env('M', 20_000), 1_000_000)
const BATCH = Math.max(1, env('BATCH', 100))
const RATE = env('RATE', 0)
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    try {
      if (await check()) return
    } catch {}
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

function metric(text: string, name: string): number {
  const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm'))
  return m ? Number(m[1]) : Number.NaN
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const children: ChildProcess[] = []
const dirs: string[] = []
function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
process.on('exit', cleanup)

async function main() {
  // private redis-server
  const redisPort = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'))
  dirs.push(dir)
  const redisProc = spawn(
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  children.push(redisProc)
  const redisUrl = `redis://127.0.0.1:${redisPort}`
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, retryStrategy: () => 50 })
  redis.on('error', () => {})
  await until(() => redis.status === 'ready', 5000, 'redis-server')

  // the replica, in its own process
  const port = await freePort()
  const appDir = fileURLToPath(new URL('..', import.meta.url))
  const gw = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      REDIS_URL: redisUrl,
      REPLICA_ID: 'bench',
      // a local benchmark on loopback: the built-in dev secrets, asked for explicitly
      HERALD_DEV: '1',
      LOG_LEVEL: 'warn',
      MAX_SOCKETS: String(N + 100),
      SESSION_TOUCH_INTERVAL_MS: '60000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  children.push(gw)
  const http = `http://127.0.0.1:${port}`
  await until(async () => (await fetch(`${http}/readyz`)).ok, 20_000, 'the gateway')
  const scrape = async () => (await fetch(`${http}/metrics`)).text()

  const keys = createKeys()
  const sessions = new SessionStore(redis, keys, { idleTtlSeconds: 3600, maxAgeSeconds: 86_400 })
  const inbox = new Inbox(redis, keys, {})
  const users = Array.from({ length: N }, (_, i) => `bench${i}`)
  const tokens: string[] = []
  for (let i = 0; i < N; i += 500) {
    const chunk = users.slice(i, i + 500)
    const made = await Promise.all(
      chunk.map((u) => sessions.create({ userId: u, nickname: u, phone: '+86***', device: 'bench' })),
    )
    tokens.push(...made.map((m) => m.token))
  }

  await sleep(1000)
  const before = await scrape()
  const rss0 = metric(before, 'process_resident_memory_bytes')
  const heap0 = metric(before, 'nodejs_heap_size_used_bytes')

  // 1. N idle sockets
  const latencies: number[] = []
  let received = 0
  let lastAt = 0
  const sockets: WebSocket[] = []
  const t0 = Date.now()
  for (let i = 0; i < N; i += 200) {
    await Promise.all(
      tokens.slice(i, i + 200).map(
        (token) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
              headers: { authorization: `Bearer ${token}` },
              perMessageDeflate: false,
            })
            sockets.push(ws)
            ws.on('error', reject)
            ws.on('close', (code) => reject(new Error(`socket closed ${code}`)))
            ws.on('message', (data) => {
              const s = data.toString()
              if (s.startsWith('{"type":"welcome"')) return resolve()
              const f = JSON.parse(s) as { type: string; data?: { sentAt?: number } }
              if (f.type !== 'message' || !f.data?.sentAt) return
              lastAt = now()
              latencies.push(lastAt - f.data.sentAt)
              received++
            })
          }),
      ),
    )
  }
  const connectMs = Date.now() - t0
  await sleep(2000)
  const after = await scrape()
  const rss1 = metric(after, 'process_resident_memory_bytes')
  const heap1 = metric(after, 'nodejs_heap_size_used_bytes')
  const open = metric(after, 'gateway_open_sockets')

  // 2. M targeted messages through the stream
  const sendStart = now()
  for (let sent = 0; sent < M; ) {
    const n = Math.min(BATCH, M - sent)
    const sentAt = now()
    await inbox.deliver(
      Array.from({ length: n }, (_, j) => ({
        userId: users[(sent + j) % N] as string,
        message: {
          id: `bench-${sent + j}`,
          kind: 'bench',
          title: 'bench',
          body: 'a benchmark message of a typical size for a notification',
          data: { sentAt },
          createdAt: new Date().toISOString(),
        },
      })),
    )
    sent += n
    if (RATE > 0) {
      const due = sendStart + (sent / RATE) * 1000
      const wait = due - now()
      if (wait > 0) await sleep(wait)
    }
  }
  const sendEnd = now()
  const deadline = Date.now() + 60_000
  while (received < M && Date.now() < deadline) await sleep(20)
  const final = await scrape()

  latencies.sort((a, b) => a - b)
  const seconds = (lastAt - sendStart) / 1000
  const mb = (b: number) => (b / 1024 / 1024).toFixed(1)
  console.log(
    JSON.stringify(
      {
        node: process.version,
        sockets: { requested: N, open, connectMs },
        memory: {
          rssBeforeMB: mb(rss0),
          rssAfterMB: mb(rss1),
          heapBeforeMB: mb(heap0),
          heapAfterMB: mb(heap1),
          rssPerSocketKB: ((rss1 - rss0) / N / 1024).toFixed(1),
          heapPerSocketKB: ((heap1 - heap0) / N / 1024).toFixed(1),
        },
        delivery: {
          messages: M,
          received,
          batch: BATCH,
          offeredPerSec: RATE || 'max',
          sendSeconds: ((sendEnd - sendStart) / 1000).toFixed(2),
          deliveredPerSec: Math.round(received / seconds),
          latencyMs: {
            p50: pct(latencies, 50).toFixed(1),
            p99: pct(latencies, 99).toFixed(1),
            max: (latencies.at(-1) ?? Number.NaN).toFixed(1),
          },
          gatewayDelivered: metric(final, 'gateway_messages_delivered_total'),
        },
      },
      null,
      2,
    ),
  )
  for (const ws of sockets) ws.terminate()
  gw.kill('SIGTERM')
  await new Promise((r) => gw.once('exit', r))
  await redis.quit()
  cleanup()
}

main().catch((err) => {
  console.error(err)
  cleanup()
  process.exit(1)
})
