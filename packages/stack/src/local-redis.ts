import { rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  type RedisCluster,
  type RedisSentinelSet,
  type RedisServer,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
} from '@herald/test-utils'

/** The Redis topologies `pnpm stack --redis …` can run on. */
export const REDIS_MODES = ['single', 'sentinel', 'cluster'] as const
export type StackRedisMode = (typeof REDIS_MODES)[number]

/** Users' partitions per topology: a Cluster spreads 16 over its primaries; one server or Sentinel needs 1. */
export const PARTITIONS: Record<StackRedisMode, number> = { single: 1, sentinel: 1, cluster: 16 }

export type LocalRedis =
  | { mode: 'single'; url: string; server: RedisServer; describe: string; stop(): Promise<void> }
  | { mode: 'sentinel'; url: string; sentinel: RedisSentinelSet; describe: string; stop(): Promise<void> }
  | { mode: 'cluster'; url: string; cluster: RedisCluster; describe: string; stop(): Promise<void> }

export interface LocalRedisOptions {
  /** the stack's working dir; data lives in <dir>/redis (single) or <dir>/redis-<mode> */
  dir: string
  /** single only: a fixed port */
  port?: number
}

/**
 * Starts the topology on 127.0.0.1 in its own process groups, so a Ctrl-C at the terminal
 * reaches the stack first and the services stop before the Redis they use. A single server
 * keeps its AOF in <dir>/redis between runs; a Sentinel set or a Cluster starts empty each
 * time (their node files name ports that are chosen afresh).
 */
export async function startLocalRedis(mode: StackRedisMode, opts: LocalRedisOptions): Promise<LocalRedis> {
  if (mode === 'single') {
    const dir = join(opts.dir, 'redis')
    const server = await startRedisServer({
      dir,
      appendonly: true,
      detached: true,
      ...(opts.port ? { port: opts.port } : {}),
    })
    return { mode, url: server.url, server, describe: `one redis-server (AOF, ${dir})`, stop: () => server.stop() }
  }
  const dir = join(opts.dir, `redis-${mode}`)
  rmSync(dir, { recursive: true, force: true })
  if (mode === 'sentinel') {
    const sentinel = await startRedisSentinel({ replicas: 1, sentinels: 3, dir, detached: true })
    return {
      mode,
      url: sentinel.url,
      sentinel,
      describe: `Sentinel: primary :${sentinel.servers[0]?.port}, 1 replica, 3 sentinels`,
      stop: () => sentinel.stop(),
    }
  }
  const cluster = await startRedisCluster({ masters: 3, replicas: 1, dir, detached: true })
  return {
    mode,
    url: cluster.url,
    cluster,
    describe: 'Cluster: 3 primaries + 3 replicas',
    stop: () => cluster.stop(),
  }
}
