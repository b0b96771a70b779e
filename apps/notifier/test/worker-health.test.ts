import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { waitFor } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness } from './helpers'

let h: Harness | undefined
let child: ChildProcess | undefined
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await h?.close()
  h = child = undefined
})

const appDir = fileURLToPath(new URL('..', import.meta.url))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) })
  return { status: res.status, text: await res.text() }
}

describe('the worker process: health and Prometheus like every service', () => {
  it('answers /healthz and /readyz, reports queue depth and job durations on /metrics, and stops on SIGTERM', async () => {
    const hh = await harness()
    h = hh
    const port = await freePort()
    child = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], {
      cwd: appDir,
      env: {
        ...process.env,
        HERALD_DEV: '1',
        HOST: '127.0.0.1',
        WORKER_PORT: String(port),
        REDIS_URL: hh.config.REDIS_URL,
        KEY_PREFIX: hh.config.KEY_PREFIX,
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    await waitFor(async () => (await get(port, '/healthz').catch(() => ({ status: 0 }))).status === 200, 20_000)
    expect((await get(port, '/readyz')).status).toBe(200)

    const res = await hh.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: hh.auth(),
      payload: { id: 'metrics-1', type: 'order.shipped', data: { userId: 'u1', orderId: 'o1' } },
    })
    expect(res.statusCode).toBe(202)
    await waitFor(
      async () => (await hh.app.inject({ url: '/v1/events/metrics-1', headers: hh.auth() })).json().status === 'done',
      15_000,
    )

    // the API reads 'done' from Redis; the worker counts the job when BullMQ emits 'completed'
    // in its own process, just after: wait for the count rather than scrape once
    const metrics = await waitFor(async () => {
      const text = (await get(port, '/metrics')).text
      return /^herald_jobs_total\{type="order.shipped",outcome="completed"\} 1$/m.test(text) ? text : null
    }, 5_000)
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      expect(metrics).toMatch(new RegExp(`^herald_queue_jobs\\{state="${state}"\\} 0$`, 'm'))
    expect(metrics).toMatch(/^herald_job_duration_seconds_count\{type="order.shipped",outcome="completed"\} 1$/m)
    expect(metrics).toMatch(/^herald_jobs_total\{type="order.shipped",outcome="completed"\} 1$/m)
    expect(metrics).toMatch(/^# TYPE herald_webhook_attempts_total counter$/m)

    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
