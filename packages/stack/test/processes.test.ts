import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { freePort, startRedisServer } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { Proc } from '../src/processes'
import { REPO_ROOT } from '../src/render-nginx'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('a stack process', () => {
  it('is not taken for ready when another process holds its port and answers /readyz: it exits EADDRINUSE', async () => {
    const redis = await startRedisServer()
    cleanups.push(() => redis.stop())
    const port = await freePort()
    // what a test running beside this one might have bound in the meantime
    const impostor: Server = createServer((_req, res) => res.end('{"status":"ready"}'))
    await new Promise<void>((r) => impostor.listen(port, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => impostor.close(r)))
    const proc = new Proc(
      {
        name: 'gateway',
        replica: 1,
        command: process.execPath,
        args: [join(REPO_ROOT, 'apps/gateway/dist/main.js')],
        cwd: REPO_ROOT,
        env: {
          HERALD_DEV: '1',
          HOST: '127.0.0.1',
          PORT: String(port),
          REDIS_URL: redis.url,
          TICKET_SECRET: 'a'.repeat(32),
          LOG_LEVEL: 'warn',
        },
        port,
      },
      null,
      () => null,
    )
    cleanups.push(() => proc.stop('SIGKILL', 1000))
    proc.start()
    const ready = await proc.waitReady(15_000).then(
      () => 'ready',
      (err: Error) => err.message,
    )
    expect(ready).toMatch(/exited/)
    expect(proc.tail.join('\n')).toContain('EADDRINUSE')
  })
})
