import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baseServerArgs, freePort, redisServerBin, spawnRedis } from './redis-process'

export interface RedisServer {
  port: number
  url: string
  dir: string
  process: ChildProcess
  stop(): Promise<void>
}

export interface StartRedisOptions {
  port?: number
  dir?: string
  appendonly?: boolean
  password?: string
  bin?: string
  /** its own process group, so a Ctrl-C at the terminal does not reach it before its clients stop */
  detached?: boolean
}

/** Starts a real redis-server on a free port in its own temp dir; `stop()` kills it and removes the dir. */
export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = redisServerBin(opts.bin)
  const port = opts.port ?? (await freePort())
  const ownDir = !opts.dir
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-redis-'))
  const args = baseServerArgs(port, dir)
  if (opts.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'everysec')
  if (opts.password) args.push('--requirepass', opts.password)
  const proc = await spawnRedis({ bin, port, args, detached: opts.detached ?? false })
  const url = opts.password ? `redis://:${opts.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`
  return {
    port,
    url,
    dir,
    process: proc.process,
    async stop() {
      await proc.stop()
      if (ownDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
