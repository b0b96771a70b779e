import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { Redis } from 'ioredis'

/**
 * One redis-server or redis-sentinel child on 127.0.0.1, shared by the single server, the
 * Sentinel set and the Cluster starters. Every child is killed when this process exits.
 */
export interface RedisProcess {
  port: number
  /** the current child (a new one after `restart()`) */
  readonly process: ChildProcess
  readonly running: boolean
  /** kill -9, as a crash would */
  kill(): Promise<void>
  /** starts it again with the same arguments on the same port (and data dir) after a kill or stop */
  restart(): Promise<void>
  /** SIGTERM, SIGKILL after 3 s */
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false
function killOnExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL')
    })
  }
  live.add(child)
  child.once('exit', () => live.delete(child))
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
/** Ports this process handed out lately: the kernel may offer a port again before its taker binds it. */
const handedOut: number[] = []

export async function freePort(): Promise<number> {
  // bounded: the kernel offers a port not handed out lately within a few tries
  for (let i = 0; i < 50; i++) {
    const port = await kernelPort()
    if (handedOut.includes(port)) continue
    handedOut.push(port)
    if (handedOut.length > 512) handedOut.shift()
    return port
  }
  throw new Error('no free port that was not handed out lately')
}

function kernelPort(): Promise<number> {
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

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  for (let i = 0; ports.size < count && i < count * 10; i++) ports.add(await freePort())
  if (ports.size < count) throw new Error(`could not find ${count} free ports`)
  return [...ports]
}

function requireBin(bin: string, pkg: string): string {
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore' })
    return bin
  } catch {
    throw new Error(
      `${bin} not found. Install it: apt-get install ${pkg} (Debian/Ubuntu) or brew install redis (macOS).`,
    )
  }
}

export function redisServerBin(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'): string {
  return requireBin(bin, 'redis-server')
}

export function redisSentinelBin(bin = process.env.REDIS_SENTINEL_BIN ?? 'redis-sentinel'): string {
  return requireBin(bin, 'redis-sentinel')
}

export function redisCliBin(bin = process.env.REDIS_CLI_BIN ?? 'redis-cli'): string {
  return requireBin(bin, 'redis-tools')
}

/**
 * `setpriv --pdeathsig SIGKILL` (util-linux) when this machine has it: the kernel kills the
 * Redis process when its parent dies, even by a signal that skips the 'exit' hook (a test
 * worker killed after a timeout, kill -9 of `pnpm stack`) — so no Redis outlives its owner.
 */
const pdeathsig: string[] = (() => {
  if (process.platform !== 'linux') return []
  try {
    execFileSync('setpriv', ['--pdeathsig', 'SIGKILL', 'true'], { stdio: 'ignore' })
    return ['setpriv', '--pdeathsig', 'SIGKILL']
  } catch {
    return []
  }
})()

export interface SpawnRedisOptions {
  bin: string
  port: number
  args: string[]
  /** its own process group, so a Ctrl-C at the terminal does not reach it before its clients stop */
  detached?: boolean
}

/** Spawns a redis-server/redis-sentinel and waits until it answers PING on its port. */
export async function spawnRedis(opts: SpawnRedisOptions): Promise<RedisProcess> {
  const proc = new RedisChild(opts)
  await proc.restart()
  return proc
}

class RedisChild implements RedisProcess {
  private child: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()

  constructor(private readonly opts: SpawnRedisOptions) {}

  get port(): number {
    return this.opts.port
  }

  get process(): ChildProcess {
    if (!this.child) throw new Error(`${this.opts.bin} on port ${this.port} was never started`)
    return this.child
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null
  }

  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.opts.bin} on port ${this.port} is running`)
    const [command, ...args] = [...pdeathsig, this.opts.bin, ...this.opts.args] as [string, ...string[]]
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: this.opts.detached ?? false,
    })
    this.child = child
    killOnExit(child)
    this.exited = new Promise<void>((r) => child.once('exit', () => r()))
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    try {
      await waitForPort(this.port, child, () => stderr, this.opts.bin)
    } catch (err) {
      await this.kill()
      throw err
    }
  }

  async kill(): Promise<void> {
    if (!this.running) return
    this.child?.kill('SIGKILL')
    await this.exited
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.child?.kill('SIGTERM')
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))])
    await this.kill()
  }
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string, name: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early: ${stderr()}`)
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
  throw new Error(`${name} did not answer on port ${port} within 10 s: ${stderr()}`)
}

/** Sends one command to 127.0.0.1:port on a short-lived connection. */
export async function redisCommand(port: number, command: string, ...args: (string | number)[]): Promise<unknown> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  r.on('error', () => {})
  try {
    await r.connect()
    return await r.call(command, ...args)
  } finally {
    r.disconnect()
  }
}

/** Common redis-server arguments: loopback only, no persistence, logs to stderr at warning. */
export function baseServerArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--loglevel',
    'warning',
  ]
}
