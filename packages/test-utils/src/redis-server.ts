import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export function redisServerBin(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'): string {
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore' })
    return bin
  } catch {
    throw new Error(
      `redis-server not found (looked for "${bin}"). Install it: apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS).`,
    )
  }
}

/** Starts a real redis-server on a free port in its own temp dir; `stop()` kills it and removes the dir. */
export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = redisServerBin(opts.bin)
  const port = opts.port ?? (await freePort())
  const ownDir = !opts.dir
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-redis-'))
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--loglevel',
    'warning',
  ]
  if (opts.appendonly) args.push('--appendfsync', 'everysec')
  if (opts.password) args.push('--requirepass', opts.password)
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: opts.detached ?? false })
  // never outlive the process that started it
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  await waitForPort(port, child, () => stderr)
  const url = opts.password ? `redis://:${opts.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`
  return {
    port,
    url,
    dir,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const { connect } = await import('node:net')
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early: ${stderr()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.write('PING\r\n')
        s.once('data', (d) => {
          s.destroy()
          resolve(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH'))
        })
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server did not answer on port ${port} within 10 s: ${stderr()}`)
}
