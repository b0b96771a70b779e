import { configWithDefaults } from '@herald/service-kit'
import { describe, expect, it } from 'vitest'
import {
  assertNotifierConfig,
  DEV_SERVICE_JWT_SECRET,
  loadNotifierConfig,
  loadWorkerConfig,
  NotifierConfig,
} from '../src/config'
import { parseTtl } from '../src/service-token'

const STRONG = 'Q7nZ4xV2pL9kR3sW8yT1uB6mC0dF5gH2jK4lN7qP9rS3vX6zA8bE1cY5'

describe('config', () => {
  it('runs in dev mode (HERALD_DEV=1) with no other environment, on port 3003', () => {
    const c = loadNotifierConfig({ HERALD_DEV: '1' })
    expect(c.PORT).toBe(3003)
    expect(c.SERVICE_JWT_SECRET).toBe(DEV_SERVICE_JWT_SECRET)
    expect(c.SERVICE_JWT_AUDIENCE).toBe('herald')
    expect(c.EVENT_IDEMPOTENCY_SECONDS).toBe(86_400)
  })

  it('fails closed: without dev mode the service secret must be set, whatever NODE_ENV says', () => {
    expect(() => loadNotifierConfig({})).toThrow(/SERVICE_JWT_SECRET must be set .*openssl rand -base64 48/)
    expect(() => loadNotifierConfig({ NODE_ENV: 'production' })).toThrow(/SERVICE_JWT_SECRET/)
    expect(loadNotifierConfig({ NODE_ENV: 'production', SERVICE_JWT_SECRET: STRONG }).NODE_ENV).toBe('production')
  })

  it('starts the worker without the service-token secret: it never checks a service token', () => {
    const c = loadWorkerConfig({ NODE_ENV: 'production' })
    expect(c.NODE_ENV).toBe('production')
    expect('SERVICE_JWT_SECRET' in c).toBe(false)
  })

  it("refuses .env.example's placeholder and weak service secrets, naming the variable", () => {
    for (const bad of ['change-me-service-secret-at-least-32-chars', 'x'.repeat(32), 'dev-service-secret-change-me']) {
      expect(() => loadNotifierConfig({ NODE_ENV: 'production', SERVICE_JWT_SECRET: bad })).toThrow(
        /SERVICE_JWT_SECRET .*openssl rand -base64 48/,
      )
    }
  })

  it('buildApp and the worker refuse the dev secret in a config that is not in dev mode', () => {
    const config = { ...configWithDefaults(NotifierConfig), HERALD_DEV: '0' as const }
    expect(() => assertNotifierConfig(config)).toThrow(/SERVICE_JWT_SECRET/)
  })

  it('takes an optional previous service secret for a rotation, held to the same standard when set', () => {
    expect(loadNotifierConfig({ SERVICE_JWT_SECRET: STRONG }).SERVICE_JWT_PREVIOUS_SECRET).toBe('')
    expect(() => loadNotifierConfig({ SERVICE_JWT_SECRET: STRONG, SERVICE_JWT_PREVIOUS_SECRET: 'old-short' })).toThrow(
      /SERVICE_JWT_PREVIOUS_SECRET/,
    )
    expect(
      loadNotifierConfig({ SERVICE_JWT_SECRET: STRONG, SERVICE_JWT_PREVIOUS_SECRET: `${STRONG}x` })
        .SERVICE_JWT_PREVIOUS_SECRET,
    ).toBe(`${STRONG}x`)
  })

  it('does not need TICKET_SECRET (each service gets only its own secrets)', () => {
    expect(() => loadNotifierConfig({ SERVICE_JWT_SECRET: STRONG })).not.toThrow()
  })

  it('names a bad variable', () => {
    expect(() => loadNotifierConfig({ HERALD_DEV: '1', WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/)
    expect(() => loadNotifierConfig({ HERALD_DEV: '1', SERVICE_JWT_SECRET: 'short' })).toThrow(/SERVICE_JWT_SECRET/)
  })

  it('reads token lifetimes', () => {
    expect(parseTtl('30d')).toBe(30 * 86_400)
    expect(parseTtl('15m')).toBe(900)
    expect(parseTtl('90')).toBe(90)
    expect(() => parseTtl('soon')).toThrow(/ttl/)
  })
})
