import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { inject } from 'vitest'

import './provided'

export * from './logs'
export * from './redis-server'

/** The URL of the redis-server started by the global setup. */
export function testRedisUrl(): string {
  return inject('redisUrl')
}

/** A key prefix no other test uses. */
export function uniquePrefix(name = 't'): string {
  return `test:${name}:${randomBytes(6).toString('hex')}:`
}

/** A Redis client for assertions; the caller quits it. */
export function testRedis(): Redis {
  return new Redis(testRedisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v) return v
    } catch (err) {
      last = err
    }
    await sleep(stepMs)
  }
  throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}
