import { describe, expect, it } from 'vitest'
import { DEV_SERVICE_JWT_SECRET, loadNotifierConfig } from '../src/config'
import { parseTtl } from '../src/service-token'

describe('config', () => {
  it('runs with no environment, on port 3003', () => {
    const c = loadNotifierConfig({})
    expect(c.PORT).toBe(3003)
    expect(c.SERVICE_JWT_SECRET).toBe(DEV_SERVICE_JWT_SECRET)
    expect(c.SERVICE_JWT_AUDIENCE).toBe('herald')
    expect(c.EVENT_IDEMPOTENCY_SECONDS).toBe(86_400)
  })

  it('refuses the default service secret in production, naming the variable', () => {
    expect(() => loadNotifierConfig({ NODE_ENV: 'production' })).toThrow(/SERVICE_JWT_SECRET/)
    expect(loadNotifierConfig({ NODE_ENV: 'production', SERVICE_JWT_SECRET: 'x'.repeat(32) }).NODE_ENV).toBe(
      'production',
    )
  })

  it('names a bad variable', () => {
    expect(() => loadNotifierConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/)
    expect(() => loadNotifierConfig({ SERVICE_JWT_SECRET: 'short' })).toThrow(/SERVICE_JWT_SECRET/)
  })

  it('reads token lifetimes', () => {
    expect(parseTtl('30d')).toBe(30 * 86_400)
    expect(parseTtl('15m')).toBe(900)
    expect(parseTtl('90')).toBe(90)
    expect(() => parseTtl('soon')).toThrow(/ttl/)
  })
})
