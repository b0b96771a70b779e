/**
 * The notifier's two throughput figures, on a private redis-server:
 *   1. events/s accepted by POST /v1/events: autocannon against the real API entry
 *      (src/main.ts in its own process) listening on 127.0.0.1;
 *   2. events/s turned into inbox messages by ONE worker process (src/worker-main.ts) draining
 *      what phase 1 queued (no gateway is up, so no stream entry is written: the messages in the
 *      1000 users' inboxes are counted).
 *
 *   pnpm --filter @herald/notifier bench
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=50 BENCH_WORKER_EVENTS=20000 WORKER_CONCURRENCY=16 pnpm --filter @herald/notifier bench
 */

import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createRedis, keysFor, waitReady } from '@herald/service-kit'
import { freePort, startRedisServer } from '@herald/test-utils'
import autocannon from 'autocannon'
import { loadNotifierConfig } from '../src/config'
import { signServiceToken } from '../src/service-token'

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt)
const DURATION = num('BENCH_DURATION', 10)
const CONNECTIONS = num('BENCH_CONNECTIONS', 50)
const WORKER_EVENTS = num('BENCH_WORKER_EVENTS', 20_000)
const CONCURRENCY = num('WORKER_CONCURRENCY', 16)
/** the users the events go to: u0 … u999 */
const USERS = 1000
const appDir = fileURLToPath(new URL('..', import.meta.url))

const server = await startRedisServer()
const port = await freePort()
const env = {
  ...process.env,
  NODE_ENV: 'production',
  SERVICE_JWT_SECRET: randomBytes(48).toString('base64'),
  REDIS_URL: server.url,
  KEY_PREFIX: 'bench:',
  LOG_LEVEL: 'warn',
  PORT: String(port),
  WORKER_CONCURRENCY: String(CONCURRENCY),
  JOB_KEEP_COMPLETED_SECONDS: '60',
}
const config = loadNotifierConfig(env)
const children: ChildProcess[] = []
function run(entry: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: appDir, env, stdio: 'inherit' })
  children.push(child)
  return child
}
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
}

const redis = createRedis(server.url, 'command', 'bench')
await waitReady(redis)
try {
  const api = run('src/main.ts')
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (i > 200) throw new Error('the API did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
  const token = signServiceToken(
    { secret: config.SERVICE_JWT_SECRET, audience: config.SERVICE_JWT_AUDIENCE },
    { sub: 'bench', scope: 'events:write', ttlSeconds: 3600 },
  )

  // ---- 1. POST /v1/events: every request a new event id (no idempotent short-cut)
  let seq = 0
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        setupRequest(req) {
          seq++
          return {
            ...req,
            body: JSON.stringify({
              id: `bench-${seq}`,
              type: 'order.shipped',
              data: { userId: `u${seq % USERS}`, orderId: `o${seq}`, carrier: 'DHL' },
            }),
          }
        },
      },
    ],
  })
  const accepted = result['2xx']
  console.log(
    `POST /v1/events: ${(accepted / result.duration).toFixed(0)} events/s accepted (202) over ${result.duration.toFixed(1)} s, ` +
      `${CONNECTIONS} connections; latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}`,
  )
  await stop(api)

  // ---- 2. one worker process drains the queue: messages written into the users' inboxes per second
  const target = Math.min(WORKER_EVENTS, accepted)
  const keys = keysFor(config)
  const inboxes = Array.from({ length: USERS }, (_, i) => keys.inbox(`u${i}`))
  const count = async () => {
    const p = redis.pipeline()
    for (const k of inboxes) p.zcard(k)
    const replies = (await p.exec()) ?? []
    return replies.reduce((n, [, v]) => n + Number(v ?? 0), 0)
  }
  const t0 = performance.now()
  const worker = run('src/worker-main.ts')
  let written = 0
  let first = 0
  while (written < target && performance.now() - t0 < 180_000) {
    await new Promise((r) => setTimeout(r, 50))
    written = await count()
    if (!first && written > 0) first = performance.now()
  }
  const seconds = (performance.now() - first) / 1000
  console.log(
    `worker (1 process, concurrency ${CONCURRENCY}, EVENT_BATCH_MAX ${config.EVENT_BATCH_MAX}): ` +
      `${(written / seconds).toFixed(0)} events/s turned into inbox messages ` +
      `(${written} events, ${seconds.toFixed(1)} s from the first message; start-up ${((first - t0) / 1000).toFixed(1)} s)`,
  )
  await stop(worker)
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await redis.quit()
  await server.stop()
}
