import { captureLogs, testRedisUrl } from '@herald/test-utils'
import { Type } from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServiceApp } from '../src/app'
import { BaseConfig, configWithDefaults, loadConfig } from '../src/config'
import { createRedis, waitReady } from '../src/redis'

const redis = createRedis(testRedisUrl(), 'command', 'test')
beforeAll(() => waitReady(redis))
afterAll(() => redis.quit())

function build(extra: Partial<BaseConfig> = {}) {
  const logs = captureLogs()
  const config = configWithDefaults(BaseConfig, { LOG_LEVEL: 'info', ...extra })
  const app = createServiceApp({ service: 'test', config, redis, logStream: logs.stream })
  app.post(
    '/echo',
    { schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) } },
    async (req) => req.body,
  )
  app.get('/boom', async () => {
    throw new Error('secret internals')
  })
  return { app, logs }
}

describe('service bootstrap', () => {
  it('answers healthz, readyz and metrics', async () => {
    const { app } = build()
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' })
    expect((await app.inject('/readyz')).statusCode).toBe(200)
    const m = await app.inject('/metrics')
    expect(m.body).toContain('http_request_duration_seconds')
    await app.close()
  })

  it('logs one access line per request (method, path without query, status, time), none for health checks', async () => {
    const { app, logs } = build()
    // a marker no request id (a UUID: hex and dashes) can contain by chance
    await app.inject({ method: 'POST', url: '/echo?ticket=query-marker-xyz', payload: { n: 1 } })
    await app.inject('/healthz')
    await app.inject('/readyz')
    await new Promise((r) => setTimeout(r, 20))
    const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const access = lines.filter((l) => l.msg === 'request completed' || l.msg === 'incoming request')
    expect(access).toHaveLength(1)
    expect(access[0]).toMatchObject({
      msg: 'request completed',
      req: { method: 'POST', url: '/echo' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    })
    expect(logs.text()).not.toContain('query-marker-xyz')
    await app.close()
  })

  it('readyz is 503 when Redis is unreachable', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'command', 'dead')
    const config = configWithDefaults(BaseConfig, { LOG_LEVEL: 'silent' })
    const app = createServiceApp({ service: 'test', config, redis: dead })
    expect((await app.inject('/readyz')).statusCode).toBe(503)
    await app.close()
    dead.disconnect()
  })

  it('rejects wrong types, unknown fields, bad JSON and bad content types with stable codes', async () => {
    const { app } = build()
    const post = (payload: string, type = 'application/json') =>
      app.inject({ method: 'POST', url: '/echo', payload, headers: { 'content-type': type } })
    expect((await post('{"n":"1"}')).json().code).toBe('VALIDATION_ERROR')
    expect((await post('{"n":1,"x":2}')).json().code).toBe('VALIDATION_ERROR')
    expect((await post('{"n":')).json().code).toBe('INVALID_JSON')
    const ct = await post('n=1', 'application/x-www-form-urlencoded')
    expect(ct.statusCode).toBe(415)
    expect(ct.json().code).toBe('UNSUPPORTED_MEDIA_TYPE')
    const big = await post(JSON.stringify({ n: 1, pad: 'x'.repeat(70_000) }))
    expect(big.statusCode).toBe(413)
    expect(big.json().code).toBe('PAYLOAD_TOO_LARGE')
    expect((await post('{"n":1}')).json()).toEqual({ n: 1 })
    const nf = await app.inject('/nope?ticket=abc')
    expect(nf.statusCode).toBe(404)
    expect(nf.json().code).toBe('NOT_FOUND')
    await app.close()
  })

  it('never leaks internals of a 500, and logs no query string', async () => {
    const { app, logs } = build()
    const res = await app.inject('/boom?ticket=supersecret')
    expect(res.statusCode).toBe(500)
    expect(res.json()).toEqual({
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      error: 'Internal Server Error',
      message: 'Internal error',
    })
    await app.close()
    expect(logs.text()).not.toContain('supersecret')
    expect(logs.text()).toContain('secret internals')
  })

  it('answers CORS preflights only for the configured origins', async () => {
    const { app } = build({ CORS_ORIGINS: 'https://shop.example' })
    const pre = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/echo',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      })
    const ok = await pre('https://shop.example')
    expect(ok.headers['access-control-allow-origin']).toBe('https://shop.example')
    const other = await pre('https://evil.example')
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
    await app.close()
    const { app: plain } = build()
    const none = await plain.inject({ method: 'OPTIONS', url: '/echo', headers: { origin: 'https://shop.example' } })
    expect(none.headers['access-control-allow-origin']).toBeUndefined()
    await plain.close()
  })

  it('names the bad variable when config is invalid', () => {
    expect(() => loadConfig(BaseConfig, { PORT: 'abc' })).toThrow(/PORT/)
  })
})
