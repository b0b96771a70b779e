import type { Cluster, Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { createRedis, isCluster } from '../src/client'

// lazyConnect: these look at the options each topology and role gets, without a server
const lazy = { lazyConnect: true }

describe('createRedis', () => {
  it('one server: host, port, db, credentials and the role', () => {
    const r = createRedis('redis://app:pw@127.0.0.1:6390/3', 'command', 'auth', lazy) as Redis
    expect(isCluster(r)).toBe(false)
    expect(r.options).toMatchObject({
      host: '127.0.0.1',
      port: 6390,
      db: 3,
      username: 'app',
      password: 'pw',
      connectionName: 'herald:auth:command',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    })
    expect(r.options.tls).toBeUndefined()
  })

  it('rediss:// turns TLS on', () => {
    const r = createRedis('rediss://redis.example.com', 'command', 'x', lazy) as Redis
    expect(r.options.tls).toEqual({ servername: 'redis.example.com' })
  })

  it('Sentinel: the sentinels, the master name and their own password; follows failovers', () => {
    const r = createRedis(
      'redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster?sentinelPassword=sp',
      'blocking',
      'gw',
      lazy,
    ) as Redis
    expect(r.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '127.0.0.1', port: 26380 },
      ],
      name: 'mymaster',
      password: 'pw',
      sentinelPassword: 'sp',
      maxRetriesPerRequest: null,
    })
    expect(r.options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2)
  })

  it('Cluster: node options per role, fail-fast and auto-pipelined on the command path', () => {
    const c = createRedis('redis+cluster://u:p@127.0.0.1:7000,127.0.0.1:7001', 'command', 'api', lazy) as Cluster
    expect(isCluster(c)).toBe(true)
    expect(c.options).toMatchObject({
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      retryDelayOnTryAgain: expect.any(Number),
      retryDelayOnClusterDown: expect.any(Number),
      retryDelayOnFailover: expect.any(Number),
      slotsRefreshTimeout: expect.any(Number),
    })
    expect(c.options.redisOptions).toMatchObject({
      username: 'u',
      password: 'p',
      connectionName: 'herald:api:command',
      maxRetriesPerRequest: 1,
    })
    expect(c.options.redisOptions).not.toHaveProperty('enableOfflineQueue')
  })

  it('Cluster for BullMQ: maxRetriesPerRequest null on every node, no auto-pipelining', () => {
    const c = createRedis('redis+cluster://127.0.0.1:7000', 'worker', 'w', lazy) as Cluster
    expect(c.options.redisOptions?.maxRetriesPerRequest).toBeNull()
    expect(c.options.enableOfflineQueue).toBe(true)
    expect(c.options.enableAutoPipelining).toBe(false)
  })

  it('refuses a malformed REDIS_URL by name, without its password', () => {
    expect(() => createRedis('redis://:hunter2@host:0', 'command', 'x')).toThrow(/^REDIS_URL is invalid/)
    expect(() => createRedis('redis://:hunter2@host:0', 'command', 'x')).not.toThrow(/hunter2/)
  })
})
