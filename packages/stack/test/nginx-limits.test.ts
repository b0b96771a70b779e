import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@herald/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Proc } from '../src/processes'
import { localNginxConf, type NginxLimits, REPO_ROOT } from '../src/render-nginx'
import { freshAddress, httpFrom } from './support/http'

/**
 * nginx as the stack renders it, in front of a plain HTTP upstream that records what reaches
 * it: the body limit, the per-address request and connection limits, and which client
 * address the services are told (trusted proxies off and on).
 */
interface Seen {
  path: string
  bytes: number
  forwardedFor: string | undefined
}
const seen: Seen[] = []
const held: ServerResponse[] = []
let upstream: Server

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0
    req.on('data', (c: Buffer) => {
      bytes += c.length
    })
    req.on('end', () => {
      seen.push({ path: req.url ?? '', bytes, forwardedFor: req.headers['x-forwarded-for'] as string | undefined })
      if (req.url?.includes('hold')) return void held.push(res)
      if (req.url?.startsWith('/sse')) {
        // an event stream that sends one small event and stays open (no X-Accel-Buffering of its own)
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: {"type":"welcome"}\n\n')
        return void held.push(res)
      }
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    })
  })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
})
afterAll(() => new Promise<void>((r) => upstream.close(() => r())))

const running: Array<{ nginx: Proc; dir: string }> = []
afterEach(async () => {
  for (const res of held.splice(0)) res.end('{}')
  for (const { nginx, dir } of running.splice(0)) {
    await nginx.stop('SIGQUIT', 3000)
    nginx.closeLog()
    rmSync(dir, { recursive: true, force: true })
  }
  seen.length = 0
})

async function startNginx(
  limits: Partial<NginxLimits> = {},
  trustedProxies: string[] = [],
  refuseWebSockets = false,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-nginx-'))
  mkdirSync(join(dir, 'tmp'))
  const port = await freePort()
  const up = (upstream.address() as AddressInfo).port
  writeFileSync(
    join(dir, 'nginx.conf'),
    localNginxConf({
      dir,
      port,
      auth: [up],
      gateway: [up],
      notifier: [up],
      staticRoot: join(REPO_ROOT, 'infra/nginx/www'),
      limits,
      trustedProxies,
      refuseWebSockets,
    }),
  )
  const nginx = new Proc(
    {
      name: 'nginx',
      replica: 1,
      command: 'nginx',
      args: ['-p', dir, '-c', join(dir, 'nginx.conf')],
      cwd: dir,
      env: {},
    },
    dir,
  )
  nginx.start()
  running.push({ nginx, dir })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    if (!nginx.running) throw new Error(`nginx exited: ${nginx.tail.join('\n')}`)
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(500) })
      return url
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('nginx did not answer')
}

describe('nginx in front of the services', () => {
  it('refuses a /v1 body over 64 KiB with 413 PAYLOAD_TOO_LARGE before it reaches the notifier', async () => {
    const url = await startNginx()
    const big = { data: 'x'.repeat(64 * 1024) }
    const res = await httpFrom(freshAddress(), `${url}/v1/events`, 'POST', { body: big })
    expect(res.status).toBe(413)
    expect(res.body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' })
    expect(seen).toEqual([])
    const fits = await httpFrom(freshAddress(), `${url}/v1/events`, 'POST', { body: { data: 'x'.repeat(60_000) } })
    expect(fits.status).toBe(200)
    expect(seen).toHaveLength(1)
  })

  it('limits requests per second per client address on /auth, /v1 and /ws: 429 TOO_MANY_REQUESTS, other addresses unaffected', async () => {
    const url = await startNginx({ authRate: 1, authBurst: 2, apiRate: 1, apiBurst: 2, wsRate: 1, wsBurst: 2 })
    for (const path of ['/auth/me', '/v1/stats', '/ws']) {
      const from = freshAddress()
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) statuses.push((await httpFrom(from, `${url}${path}`, 'GET')).status)
      expect(statuses.filter((s) => s === 200).length, path).toBe(3)
      expect(statuses.slice(3), path).toEqual([429, 429, 429])
      const refused = await httpFrom<{ code: string }>(from, `${url}${path}`, 'GET')
      expect(refused.body.code).toBe('TOO_MANY_REQUESTS')
      expect(refused.headers['retry-after']).toBe('1')
      expect((await httpFrom(freshAddress(), `${url}${path}`, 'GET')).status, path).toBe(200)
    }
  })

  it('limits connections held at once per client address (slow uploads, held requests)', async () => {
    const url = await startNginx({ httpConnections: 2 })
    const from = freshAddress()
    const holding = [httpFrom(from, `${url}/v1/hold`, 'GET'), httpFrom(from, `${url}/v1/hold`, 'GET')]
    for (let i = 0; i < 100 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 20))
    expect(held).toHaveLength(2)
    const third = await httpFrom<{ code: string }>(from, `${url}/v1/stats`, 'GET')
    expect(third.status).toBe(429)
    expect(third.body.code).toBe('TOO_MANY_REQUESTS')
    expect((await httpFrom(freshAddress(), `${url}/v1/stats`, 'GET')).status).toBe(200)
    for (const res of held.splice(0)) res.end('{}')
    await Promise.all(holding)
  })

  it('never believes a client X-Forwarded-For by default; with a trusted proxy range it does', async () => {
    const spoof = { 'x-forwarded-for': '203.0.113.7' }
    let url = await startNginx()
    await httpFrom('127.0.0.1', `${url}/auth/me`, 'GET', { headers: spoof })
    expect(seen.at(-1)?.forwardedFor).toBe('127.0.0.1')
    for (const { nginx } of running) await nginx.stop('SIGQUIT', 3000)
    url = await startNginx({}, ['127.0.0.1'])
    await httpFrom('127.0.0.1', `${url}/auth/me`, 'GET', { headers: spoof })
    expect(seen.at(-1)?.forwardedFor).toBe('203.0.113.7')
  })

  it('passes /sse unbuffered: an event reaches the client while the stream stays open', async () => {
    const url = await startNginx()
    const res = await fetch(`${url}/sse?ticket=t`, { signal: AbortSignal.timeout(5000) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('data: {"type":"welcome"}\n\n')
    expect(held).toHaveLength(1)
    await reader.cancel()
  })

  it('refuseWebSockets (the SSE fallback tests): /ws answers 403 before any upstream, /sse still passes', async () => {
    const url = await startNginx({}, [], true)
    const ws = await httpFrom(freshAddress(), `${url}/ws`, 'GET', {
      headers: { connection: 'upgrade', upgrade: 'websocket' },
    })
    expect(ws.status).toBe(403)
    expect(seen).toEqual([])
    const res = await fetch(`${url}/sse?ticket=t`, { signal: AbortSignal.timeout(5000) })
    expect(res.status).toBe(200)
    await res.body?.cancel()
  })
})
