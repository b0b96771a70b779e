import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { harness } from './helpers'

const APP_DIR = fileURLToPath(new URL('..', import.meta.url))
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A stack dir, with or without its secrets file. */
function stackDir(secret?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-stack-'))
  dirs.push(dir)
  if (secret) writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ SERVICE_JWT_SECRET: secret }))
  return dir
}

/** `pnpm run token …` as a child process, with only the environment given. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token.ts', ...args],
      { cwd: APP_DIR, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    )
  })
}

describe('pnpm run token', () => {
  it('refuses to sign without SERVICE_JWT_SECRET and without a local stack (no public default)', async () => {
    const r = await cli(['--sub', 'shop', '--scope', 'events:write', '--stack-dir', stackDir()])
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toMatch(/SERVICE_JWT_SECRET is not set/)
  })

  it('refuses a placeholder SERVICE_JWT_SECRET', async () => {
    const r = await cli(['--sub', 'shop', '--stack-dir', stackDir()], {
      SERVICE_JWT_SECRET: 'change-me-service-secret-at-least-32-chars',
    })
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/SERVICE_JWT_SECRET is a placeholder/)
  })

  it('caps --ttl at 365d', async () => {
    const secret = randomBytes(32).toString('base64url')
    const r = await cli(['--sub', 'shop', '--ttl', '36500d', '--stack-dir', stackDir(secret)])
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toMatch(/maximum, 365d/)
    expect((await cli(['--sub', 'shop', '--ttl', '365d', '--stack-dir', stackDir(secret)])).code).toBe(0)
  })

  it("signs with the local stack's own secret, and the notifier running with it accepts the token", async () => {
    const secret = randomBytes(32).toString('base64url')
    const r = await cli(['--sub', 'shop', '--scope', 'events:write messages:write', '--stack-dir', stackDir(secret)])
    expect(r.code).toBe(0)
    const token = r.out.trim()
    const h = await harness({ SERVICE_JWT_SECRET: secret })
    try {
      const res = await h.app.inject({ url: '/v1/events/nope', headers: { authorization: `Bearer ${token}` } })
      expect(res.statusCode).toBe(404)
      const other = await harness()
      const refused = await other.app.inject({ url: '/v1/events/nope', headers: { authorization: `Bearer ${token}` } })
      expect(refused.statusCode).toBe(401)
      await other.close()
    } finally {
      await h.close()
    }
  })
})
