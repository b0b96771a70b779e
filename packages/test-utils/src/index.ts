import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { inject } from 'vitest'

import './provided'

export * from './logs'
export * from './modes'
export type { RedisTestMode } from './provided'
export * from './redis-cluster'
export * from './redis-process'
export * from './redis-sentinel'
export * from './redis-server'
export * from './wait'

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
