import type { TestProject } from 'vitest/node'
import type { RedisTestMode } from './provided'
import { startRedisCluster } from './redis-cluster'
import { startRedisSentinel } from './redis-sentinel'
import { startRedisServer } from './redis-server'

import './provided'

const MODES: readonly RedisTestMode[] = ['single', 'cluster', 'sentinel']

/**
 * The topologies this run needs: the package's `test.provide.redisModes`, unless the
 * environment narrows or widens it (`HERALD_REDIS_MODES=single,cluster,sentinel`). `single`
 * is always started: `redisUrl` and most suites use it.
 */
export function requestedModes(configured: readonly string[] | undefined, env = process.env.HERALD_REDIS_MODES) {
  const raw = env?.trim() ? env.split(',') : (configured ?? [])
  const modes = new Set<RedisTestMode>(['single'])
  for (const m of raw.map((s) => s.trim()).filter(Boolean)) {
    if (!MODES.includes(m as RedisTestMode))
      throw new Error(`HERALD_REDIS_MODES / redisModes: unknown mode "${m}" (known: ${MODES.join(', ')})`)
    modes.add(m as RedisTestMode)
  }
  return MODES.filter((m) => modes.has(m))
}

/**
 * vitest globalSetup: one real redis-server per test run, plus a 6-node Cluster and a
 * Sentinel set when the package asks for them (started side by side, ~2.5 s). Tests isolate
 * themselves with a unique key prefix.
 */
export default async function setup(project: TestProject) {
  const modes = requestedModes(project.getProvidedContext().redisModes)
  const [single, cluster, sentinel] = await Promise.all([
    startRedisServer(),
    modes.includes('cluster') ? startRedisCluster({ masters: 3, replicas: 1 }) : undefined,
    modes.includes('sentinel') ? startRedisSentinel({ replicas: 1, sentinels: 3 }) : undefined,
  ])
  project.provide('redisUrl', single.url)
  project.provide('redisModes', modes)
  project.provide('redisUrls', {
    single: single.url,
    ...(cluster ? { cluster: cluster.url } : {}),
    ...(sentinel ? { sentinel: sentinel.url } : {}),
  })
  return async () => {
    await Promise.all([single.stop(), cluster?.stop(), sentinel?.stop()])
  }
}
