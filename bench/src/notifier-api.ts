import { type ChildProcess, spawn } from 'node:child_process'
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '@herald/stack'
import { freePort, startRedisServer } from '@herald/test-utils'
import { cpuSeconds } from './proc'

/**
 * `pnpm --filter @herald/bench notifier-api [--seconds 6] [--inflight 1,4,32] [--rates 100,1000] [--cpu-prof DIR] [--source-maps]`
 *
 * The notifier API alone — one process of the built app on its own redis-server, no nginx, no
 * gateways — under `POST /v1/messages` to one user each, closed loop with 1, 4 and 32
 * requests in flight: requests per second and the notifier's CPU (utime + stime) per request.
 * With `--rates`, open loop instead: requests paced by the clock at each rate (the process
 * sleeps between them, as a lone request finds it at a low rate). The per-request cost of the
 * API without the rest of the system around it (issue 12). `--source-maps` runs it as the stack
 * does (`--enable-source-maps`).
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    inflight: { type: 'string', default: '1,4,32' },
    rates: { type: 'string', default: '' },
    'source-maps': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
})
const seconds = Math.min(60, Math.max(1, Number(values.seconds) || 6))
const inflights = (values.inflight ?? '1,4,32')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 256)
const rates = (values.rates ?? '')
  .split(',')
  .filter(Boolean)
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 5000)

function serviceToken(secret: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'bench', aud: 'herald', scope: 'messages:write', iat: now, exp: now + 3600, jti: randomUUID() }
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

async function waitHealthy(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`the notifier exited (${child.exitCode})`)
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the notifier did not get ready in 10 s')
}

const redis = await startRedisServer()
const port = await freePort()
const secret = randomBytes(32).toString('base64url')
const prof = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []
const maps = values['source-maps'] ? ['--enable-source-maps'] : []
const child = spawn(process.execPath, [...maps, ...prof, join(REPO_ROOT, 'apps/notifier/dist/main.js')], {
  env: {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL: redis.url,
    SERVICE_JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
})
try {
  await waitHealthy(port, child)
  const token = serviceToken(secret)
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  let k = 0
  const post = () =>
    new Promise<boolean>((resolve) => {
      const body = JSON.stringify({ to: { userIds: [`u${k++ % 1000}`] }, title: 'bench', body: 'api', data: { k } })
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/messages',
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode === 202))
        },
      )
      req.on('error', () => resolve(false))
      req.end(body)
    })
  // warm-up: JIT, connections, scripts loaded
  for (let i = 0; i < 500; i++) await post()
  console.log('| requests in flight | requests/s | notifier CPU per request, ms | notifier CPU, % of a core | failed |')
  console.log('|---|---|---|---|---|')
  for (const n of inflights) {
    let ok = 0
    let failed = 0
    const pid = child.pid ?? 0
    const cpu0 = cpuSeconds(pid)
    const t0 = Date.now()
    const end = t0 + seconds * 1000
    // bounded by time: each loop stops at `end`
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (Date.now() < end) {
          if (await post()) ok++
          else failed++
        }
      }),
    )
    const wall = (Date.now() - t0) / 1000
    const cpu = cpuSeconds(pid) - cpu0
    const perReq = ok > 0 ? ((1000 * cpu) / ok).toFixed(3) : '—'
    console.log(`| ${n} | ${Math.round(ok / wall)} | ${perReq} | ${Math.round((100 * cpu) / wall)} | ${failed} |`)
  }
  if (rates.length > 0) {
    console.log('\n| paced, requests/s | notifier CPU per request, ms | at rest, ms per second | failed |')
    console.log('|---|---|---|---|')
    const pid = child.pid ?? 0
    const rest0 = cpuSeconds(pid)
    await new Promise((r) => setTimeout(r, 2000))
    const restMsPerSec = ((cpuSeconds(pid) - rest0) * 1000) / 2
    for (const rate of rates) {
      let ok = 0
      let failed = 0
      const cpu0 = cpuSeconds(pid)
      const t0 = performance.now()
      const total = rate * seconds
      const inflight: Promise<void>[] = []
      // bounded by count: `total` requests, each at its scheduled time
      for (let i = 0; i < total; i++) {
        const wait = t0 + (i * 1000) / rate - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        inflight.push(
          post().then((good) => {
            if (good) ok++
            else failed++
          }),
        )
      }
      await Promise.all(inflight)
      const wall = (performance.now() - t0) / 1000
      // less what the process burns at rest over the same time
      const cpu = cpuSeconds(pid) - cpu0 - (restMsPerSec / 1000) * wall
      const perReq = ok > 0 ? ((1000 * cpu) / ok).toFixed(3) : '—'
      console.log(`| ${rate} | ${perReq} | ${restMsPerSec.toFixed(1)} | ${failed} |`)
    }
  }
  agent.destroy()
} finally {
  child.kill('SIGINT')
  await new Promise((r) => child.once('exit', r))
  await redis.stop()
}
