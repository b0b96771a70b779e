import { testRedisUrl } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServiceApp } from '../src/app'
import { BaseConfig, configWithDefaults } from '../src/config'
import { createRedis, waitReady } from '../src/redis'
import { API_CSP } from '../src/security-headers'

const redis = createRedis(testRedisUrl(), 'command', 'test-headers')
beforeAll(() => waitReady(redis))
afterAll(() => redis.quit())

describe('security headers', () => {
  it('every response — a route, an error, a 404, health — carries CSP, nosniff, no framing and no referrer', async () => {
    const app = createServiceApp({
      service: 'test',
      config: configWithDefaults(BaseConfig, { LOG_LEVEL: 'silent' }),
      redis,
    })
    app.get('/ok', async () => ({ ok: true }))
    app.get('/boom', async () => {
      throw new Error('internals')
    })
    app.get('/page', async (_req, reply) => {
      reply.header('content-security-policy', "default-src 'self'")
      return reply.type('text/html').send('<p>page</p>')
    })
    try {
      for (const url of ['/ok', '/boom', '/nope', '/healthz']) {
        const res = await app.inject(url)
        expect(res.headers, url).toMatchObject({
          'content-security-policy': API_CSP,
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
        })
        expect(API_CSP).toContain("frame-ancestors 'none'")
      }
      // a route that serves a page keeps its own policy
      expect((await app.inject('/page')).headers['content-security-policy']).toBe("default-src 'self'")
    } finally {
      await app.close()
    }
  })
})
