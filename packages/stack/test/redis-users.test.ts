import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { serviceAclRules } from '../src/redis-users'
import { startStack } from '../src/stack'

describe('Redis users on the local stack', () => {
  it('reads the same rules as docker compose: keys and commands for each service', () => {
    const rules = serviceAclRules()
    expect(Object.keys(rules).sort()).toEqual(['auth', 'gateway', 'notifier', 'worker'])
    expect(rules.auth).toContain('~herald:{ph:*')
    expect(rules.gateway).not.toContain('~herald:{ph:*')
    for (const r of Object.values(rules)) expect(r).toContain('-@dangerous')
  })

  it('starts every service as its own Redis user, which reaches only its own keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-stack-users-'))
    const stack = await startStack({ port: 0, dir, logToFiles: true, auth: 1, gateways: 1 })
    try {
      for (const p of stack.procs) {
        const name = p.spec.name === 'worker' ? 'worker' : p.spec.name
        expect(p.spec.env.REDIS_URL).toMatch(new RegExp(`^redis://${name}:[0-9a-f]{48}@127\\.0\\.0\\.1:\\d+$`))
      }
      const ready = await Promise.all(
        stack.procs
          .filter((p) => p.spec.port !== undefined)
          .map(async (p) => (await fetch(`http://127.0.0.1:${p.spec.port}/readyz`)).status),
      )
      expect(ready.every((s) => s === 200)).toBe(true)
      const gatewayUrl = stack.procs.find((p) => p.spec.name === 'gateway')?.spec.env.REDIS_URL as string
      const gw = new Redis(gatewayUrl, { maxRetriesPerRequest: 1 })
      try {
        expect(await gw.call('ACL', 'WHOAMI')).toBe('gateway')
        await expect(gw.get('herald:{ph:+8613800138000}:otp')).rejects.toThrow(/NOPERM/)
        await expect(gw.keys('*')).rejects.toThrow(/NOPERM/)
        await expect(gw.flushall()).rejects.toThrow(/NOPERM/)
      } finally {
        gw.disconnect()
      }
    } finally {
      await stack.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
