import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { StackRedisMode } from '../src/local-redis'
import { startStack } from '../src/stack'

/**
 * `pnpm stack --redis sentinel|cluster`: the topology starts, every service gets its URL and
 * partitions and comes up ready behind nginx, and stopping leaves no Redis process behind.
 * (The delivery suites run in e2e/ on whichever topology they ask for.)
 */
describe.each<[StackRedisMode, RegExp, string]>([
  ['sentinel', /^redis\+sentinel:\/\/(127\.0\.0\.1:\d+,){2}127\.0\.0\.1:\d+\/mymaster$/, '1'],
  ['cluster', /^redis\+cluster:\/\/(127\.0\.0\.1:\d+,){5}127\.0\.0\.1:\d+$/, '16'],
])('the local stack on Redis %s', (mode, url, partitions) => {
  it('starts every service on it and stops every process', async () => {
    const dir = mkdtempSync(join(tmpdir(), `herald-stack-${mode}-`))
    const stack = await startStack({ port: 0, dir, redis: mode, logToFiles: true, auth: 1, gateways: 2 })
    const redisProcs =
      stack.topology.mode === 'cluster'
        ? stack.topology.cluster.nodes
        : stack.topology.mode === 'sentinel'
          ? [...stack.topology.sentinel.servers, ...stack.topology.sentinel.sentinels]
          : []
    try {
      expect(stack.redisUrl).toMatch(url)
      expect(() => stack.redis).toThrow(/runs on Redis/)
      for (const p of stack.procs) {
        expect(p.spec.env.REDIS_URL).toBe(stack.redisUrl)
        expect(p.spec.env.REDIS_PARTITIONS).toBe(partitions)
      }
      const ready = await Promise.all(
        stack.procs
          .filter((p) => p.spec.port !== undefined)
          .map(async (p) => (await fetch(`http://127.0.0.1:${p.spec.port}/readyz`)).status),
      )
      expect(ready.every((s) => s === 200)).toBe(true)
      expect((await fetch(`${stack.url}/`)).status).toBe(200)
    } finally {
      await stack.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    expect(stack.procs.every((p) => !p.running)).toBe(true)
    expect(redisProcs.length).toBeGreaterThan(0)
    expect(redisProcs.every((p) => !p.running)).toBe(true)
  })
})
