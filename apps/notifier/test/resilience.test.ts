import { createRedis, waitReady } from '@herald/service-kit'
import { startRedisServer } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../src/app'
import { signServiceToken } from '../src/service-token'
import { testConfig } from './helpers'

describe('when Redis is down', () => {
  it('answers 503 SERVICE_UNAVAILABLE within 2 s on every path, and recovers', async () => {
    const server = await startRedisServer()
    const config = testConfig({ REDIS_URL: server.url })
    const redis = createRedis(server.url, 'command', 'test-down')
    await waitReady(redis)
    const app = buildApp(config, { redis })
    await app.ready()
    const token = signServiceToken(
      { secret: config.SERVICE_JWT_SECRET, audience: config.SERVICE_JWT_AUDIENCE },
      { sub: 'billing', scope: 'events:write messages:write stats:read', ttlSeconds: 60 },
    )
    const headers = { authorization: `Bearer ${token}` }
    const event = (id: string) => ({
      method: 'POST' as const,
      url: '/v1/events',
      headers,
      payload: { id, type: 'order.shipped', data: { userId: 'u1', orderId: 'o1' } },
    })
    expect((await app.inject(event('before'))).statusCode).toBe(202)

    await server.process.kill('SIGKILL')
    await new Promise((r) => server.process.once('exit', r))
    for (const req of [
      event('during'),
      { method: 'GET' as const, url: '/v1/events/before', headers },
      { method: 'GET' as const, url: '/v1/stats', headers },
    ]) {
      const t0 = Date.now()
      const res = await app.inject(req)
      expect(Date.now() - t0).toBeLessThan(2000)
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({
        statusCode: 503,
        code: 'SERVICE_UNAVAILABLE',
        error: 'Service Unavailable',
        message: 'Service temporarily unavailable, retry later',
      })
    }
    expect((await app.inject('/readyz')).statusCode).toBe(503)

    const again = await startRedisServer({ port: server.port })
    await waitReady(redis, 10_000)
    expect((await app.inject(event('after'))).statusCode).toBe(202)
    await app.close()
    await redis.quit()
    await again.stop()
    await server.stop()
  })
})
