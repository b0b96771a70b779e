import { createRedis, forEachPrimary, type RedisClient, type RedisRole, waitReady } from '@herald/redis'
import { inject } from 'vitest'
import type { RedisTestMode } from './provided'

import './provided'

/**
 * The topologies this run started, for `describe.each(redisModes())`. A package asks for
 * more than `single` in its vitest.config.ts: `test: { provide: { redisModes: ['single',
 * 'cluster', 'sentinel'] } }`; HERALD_REDIS_MODES overrides it for one run.
 */
export function redisModes(): RedisTestMode[] {
  return inject('redisModes') ?? ['single']
}

/** The REDIS_URL of a topology started by the global setup. */
export function redisUrlFor(mode: RedisTestMode): string {
  const url = inject('redisUrls')?.[mode]
  if (!url)
    throw new Error(
      `no ${mode} Redis in this run: add '${mode}' to test.provide.redisModes in the package's vitest.config.ts`,
    )
  return url
}

/** A herald client (createRedis) on a topology, ready; the caller quits it. */
export async function connectFor(
  mode: RedisTestMode,
  role: RedisRole = 'command',
  name = 'test',
): Promise<RedisClient> {
  const client = createRedis(redisUrlFor(mode), role, name)
  await waitReady(client, 10_000)
  return client
}

/** FLUSHALL on every primary (each master of a Cluster). Only for suites that own the whole server. */
export async function flushAll(client: RedisClient): Promise<void> {
  await forEachPrimary(client, (node) => node.flushall())
}
