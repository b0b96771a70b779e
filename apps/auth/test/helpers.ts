import { EVENTS_QUEUE, type EventJob } from '@herald/contracts'
import { createKeys, type Keys } from '@herald/keys'
import { createRedis, type ServiceApp, waitReady } from '@herald/service-kit'
import { captureLogs, testRedis, testRedisUrl, uniquePrefix } from '@herald/test-utils'
import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type AuthDeps, buildApp } from '../src/app'
import { type AuthConfig, authConfig } from '../src/config'

export const PHONE = '+8613812345678'

type Overrides = Parameters<typeof authConfig>[0]

export interface TestApp {
  app: ServiceApp
  config: AuthConfig
  keys: Keys
  queue: Queue<EventJob>
  logs: ReturnType<typeof captureLogs>
}

/**
 * Per test file: a command-role client for the apps (as in production), a plain client for
 * assertions, and `make()` which builds an app on a fresh key prefix and closes it after the test.
 */
export function harness() {
  const redis = createRedis(testRedisUrl(), 'command', 'auth-test')
  const queueRedis = createRedis(testRedisUrl(), 'command', 'auth-test-queue')
  const check: Redis = testRedis()
  const open: Array<() => Promise<unknown>> = []
  beforeAll(() => Promise.all([waitReady(redis), waitReady(queueRedis)]))
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close()
  })
  afterAll(async () => {
    await Promise.all([redis.quit(), queueRedis.quit(), check.quit()])
  })

  function make(overrides: Overrides = {}, deps: Partial<AuthDeps> = {}, prefix = uniquePrefix('auth')): TestApp {
    const config = authConfig({ LOG_LEVEL: 'info', KEY_PREFIX: prefix, ...overrides })
    const keys = createKeys(prefix)
    const queue = new Queue<EventJob>(EVENTS_QUEUE, { connection: queueRedis, prefix: keys.bullPrefix() })
    const logs = captureLogs()
    const app = buildApp(config, { redis, queue, logStream: logs.stream, ...deps })
    open.push(
      () => queue.close(),
      () => app.close(),
    )
    return { app, config, keys, queue, logs }
  }

  /** Keys under a prefix (KEYS is fine in tests, never in the services). */
  async function keysUnder(prefix: string): Promise<string[]> {
    return (await check.keys(`${prefix}*`)).sort()
  }

  /** Keys that hold auth state (codes, users, sessions): not the rate-limit counters or BullMQ's meta. */
  async function stateKeys(prefix: string): Promise<string[]> {
    return (await keysUnder(prefix)).filter(
      (k) => !k.startsWith(`${prefix}rl:`) && !k.startsWith(createKeys(prefix).bullPrefix()),
    )
  }

  return { redis, check, make, keysUnder, stateKeys }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export async function sendCode(app: ServiceApp, phone = PHONE, ip = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/auth/code', payload: { phone }, remoteAddress: ip })
}

export async function devCode(app: ServiceApp, phone = PHONE): Promise<string> {
  const res = await app.inject(`/auth/dev/sms/${encodeURIComponent(phone)}`)
  if (res.statusCode !== 200) throw new Error(`no dev code: ${res.statusCode} ${res.body}`)
  return res.json().code
}

export async function login(app: ServiceApp, phone: string, code: string, extra: Record<string, unknown> = {}) {
  return app.inject({ method: 'POST', url: '/auth/login', payload: { phone, code, ...extra } })
}

/** Code, dev SMS, login: returns the token and the reply. */
export async function signIn(app: ServiceApp, phone = PHONE, device?: string) {
  const sent = await sendCode(app, phone)
  if (sent.statusCode !== 202) throw new Error(`code: ${sent.statusCode} ${sent.body}`)
  const code = await devCode(app, phone)
  const res = await login(app, phone, code, device ? { device } : {})
  if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`)
  const body = res.json() as { token: string; expiresIn: number; user: { id: string; nickname: string; phone: string } }
  return { ...body, code }
}
