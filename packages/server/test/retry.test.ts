import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { HeraldError, HeraldServer, parseRetryAfter } from '../src/index'

/**
 * Retry semantics need answers herald gives only under fault (503 while Redis is away, 429 at
 * a limit, a dropped connection): a real HTTP server plays them in order. The happy path and
 * the shapes are tested against the real stack (stack.test.ts).
 */
type Answer = (req: IncomingMessage, res: ServerResponse) => void
let server: Server | undefined
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined))
  server = undefined
})

async function herald(answers: Answer[]): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = []
  const s = createServer((req, res) => {
    seen.push(req)
    req.resume()
    req.on('end', () => (answers[seen.length - 1] ?? answers.at(-1))?.(req, res))
  })
  server = s
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen }
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
const drop: Answer = (req) => req.socket.destroy()
const fast = { retry: { minDelayMs: 1, maxDelayMs: 2000 } }

describe('HeraldServer retries', () => {
  it('waits the Retry-After of a 503 and then succeeds', async () => {
    const { url, seen } = await herald([
      json(503, { statusCode: 503, code: 'SERVICE_UNAVAILABLE', error: 'x', message: 'retry' }, { 'retry-after': '1' }),
      json(202, { id: 'e1', status: 'queued' }),
    ])
    const client = new HeraldServer({ baseUrl: url, token: 't', ...fast })
    const t0 = Date.now()
    expect(await client.sendEvent({ id: 'e1', type: 'order.shipped', data: {} })).toEqual({
      id: 'e1',
      status: 'queued',
    })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950)
    expect(seen).toHaveLength(2)
  })

  it('retries a 429 even for a message without an idempotency key (herald did not take it)', async () => {
    const { url, seen } = await herald([
      json(429, { statusCode: 429, code: 'TOO_MANY_REQUESTS', error: 'x', message: 'slow down' }),
      json(202, { requestId: 'r', ids: ['m1'], status: 'done' }),
    ])
    const client = new HeraldServer({ baseUrl: url, token: 't', ...fast })
    const reply = await client.sendMessage({ to: { userIds: ['u1'] }, title: 'hi', body: 'hi' })
    expect(reply.ids).toEqual(['m1'])
    expect(seen).toHaveLength(2)
  })

  it('retries a dropped connection only when repeating is harmless', async () => {
    const a = await herald([drop, json(202, { requestId: 'r', ids: ['m1'], status: 'queued' })])
    const client = new HeraldServer({ baseUrl: a.url, token: 't', ...fast })
    const key = HeraldServer.idempotencyKey()
    await client.sendMessage({ to: { userIds: ['u1'] }, title: 'hi', body: 'hi' }, { idempotencyKey: key })
    expect(a.seen.map((r) => r.headers['idempotency-key'])).toEqual([key, key])

    await new Promise((r) => server?.close(r))
    const b = await herald([drop, json(202, {})])
    const noKey = new HeraldServer({ baseUrl: b.url, token: 't', ...fast })
    const err = await noKey.sendMessage({ to: { userIds: ['u1'] }, title: 'hi', body: 'hi' }).catch((e) => e)
    expect(err).toBeInstanceOf(HeraldError)
    expect(err.code).toBe('NETWORK_ERROR')
    expect(b.seen).toHaveLength(1)
  })

  it('throws herald’s code at once for an answer that retrying cannot change', async () => {
    const { url, seen } = await herald([
      json(403, {
        statusCode: 403,
        code: 'INSUFFICIENT_SCOPE',
        error: 'Forbidden',
        message: 'This token lacks the scope "stats:read"',
      }),
    ])
    const err = await new HeraldServer({ baseUrl: url, token: 't', ...fast }).stats().catch((e) => e)
    expect(err).toMatchObject({ name: 'HeraldError', code: 'INSUFFICIENT_SCOPE', status: 403 })
    expect(seen).toHaveLength(1)
  })

  it('gives up after `retries` and throws the last answer', async () => {
    const { url, seen } = await herald([
      json(503, { statusCode: 503, code: 'SERVICE_UNAVAILABLE', error: 'x', message: 'down' }),
    ])
    const client = new HeraldServer({ baseUrl: url, token: 't', retry: { retries: 2, minDelayMs: 1 } })
    await expect(client.getEvent('e1')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 })
    expect(seen).toHaveLength(3)
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7)
    expect(parseRetryAfter(new Date(Date.now() + 3000).toUTCString())).toBeGreaterThanOrEqual(2)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(null)).toBeUndefined()
  })
})
