import { createRedis } from '@herald/service-kit'
import { describe, expect, it } from 'vitest'
import { harness } from './helpers'

const h = harness()

describe('operations', () => {
  it('answers healthz, readyz and metrics like every herald service', async () => {
    const { app } = h.make()
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' })
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready' })
    await app.inject({ method: 'POST', url: '/auth/code', payload: { phone: 'x' } })
    const metrics = await app.inject('/metrics')
    expect(metrics.statusCode).toBe(200)
    expect(metrics.body).toContain('route="/auth/code"')
  })

  it('answers 404 NOT_FOUND for unknown routes', async () => {
    const { app } = h.make()
    const res = await app.inject('/auth/unknown')
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('NOT_FOUND')
  })

  it('answers 503 SERVICE_UNAVAILABLE, not 500, while Redis is unreachable', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'command', 'dead')
    try {
      const { app } = h.make({}, { redis: dead })
      expect((await app.inject('/readyz')).statusCode).toBe(503)
      for (const req of [
        { method: 'POST' as const, url: '/auth/code', payload: { phone: '+8613812345678' } },
        { method: 'POST' as const, url: '/auth/login', payload: { phone: '+8613812345678', code: '123456' } },
        { method: 'GET' as const, url: '/auth/me', headers: { authorization: '3b241101-e2bb-4255-8caf-4136c566a962' } },
      ]) {
        const res = await app.inject(req)
        expect(res.statusCode, req.url).toBe(503)
        expect(res.json().code).toBe('SERVICE_UNAVAILABLE')
      }
    } finally {
      dead.disconnect()
    }
  })
})
