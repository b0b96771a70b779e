import { execFileSync } from 'node:child_process'
import { createECDH, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, type RedisServer, startRedisServer } from '@herald/test-utils'
import { type LocalRedis, PARTITIONS, type StackRedisMode, startLocalRedis } from './local-redis'
import { createLogFormatter } from './log-format'
import { Proc, type ProcSpec } from './processes'
import { createServiceUsers, type ServiceUser } from './redis-users'
import { localNginxConf, REPO_ROOT } from './render-nginx'
import { ALL_SCOPES, signServiceToken } from './token'

export interface StackOptions {
  /** nginx port; 0 picks a free one @default 8080 */
  port?: number
  /** the Redis topology: one redis-server, a Sentinel set or a 6-node Cluster @default 'single' */
  redis?: StackRedisMode
  /** redis-server port (single), e.g. to put a proxy in front of it before the services start; 0 or unset picks a free one */
  redisPort?: number
  /** working dir for redis data, nginx config and logs @default <repo>/.stack */
  dir?: string
  auth?: number
  gateways?: number
  notifiers?: number
  workers?: number
  /** write each service's output to <dir>/logs/ instead of the terminal */
  logToFiles?: boolean
  /**
   * the terminal's format: `json` prints each service's lines as they are; `pretty` one
   * coloured line each, without per-request lines unless `verbose` @default 'json'
   */
  logFormat?: 'json' | 'pretty'
  /** pretty: every line, requests included, and LOG_LEVEL=debug */
  verbose?: boolean
  /** extra environment for every service / per service */
  env?: Record<string, string>
  serviceEnv?: Partial<Record<'auth' | 'gateway' | 'notifier' | 'worker', Record<string, string>>>
  /** node options that NODE_OPTIONS refuses (e.g. `--cpu-prof`), per service */
  nodeArgs?: Partial<Record<'auth' | 'gateway' | 'notifier' | 'worker', string[]>>
  /** nginx answers 403 to every WebSocket upgrade on /ws (a network that blocks them: the SSE fallback's tests) */
  refuseWebSockets?: boolean
}

export interface Secrets {
  TICKET_SECRET: string
  OTP_SECRET: string
  SERVICE_JWT_SECRET: string
  /** Web Push's VAPID pair (the stack turns Web Push on) */
  PUSH_VAPID_PUBLIC_KEY: string
  PUSH_VAPID_PRIVATE_KEY: string
}

/** A VAPID key pair (P-256, base64url: the public key uncompressed, the private key 32 bytes). */
function vapidKeys(): Pick<Secrets, 'PUSH_VAPID_PUBLIC_KEY' | 'PUSH_VAPID_PRIVATE_KEY'> {
  const ecdh = createECDH('prime256v1')
  const pub = ecdh.generateKeys()
  const priv = ecdh.getPrivateKey()
  return {
    PUSH_VAPID_PUBLIC_KEY: pub.toString('base64url'),
    PUSH_VAPID_PRIVATE_KEY: Buffer.concat([Buffer.alloc(32 - priv.length), priv]).toString('base64url'),
  }
}

export interface Stack {
  url: string
  wsUrl: string
  redisUrl: string
  dir: string
  secrets: Secrets
  serviceToken: string
  procs: Proc[]
  /** the Redis topology the services run on */
  topology: LocalRedis
  /** the single redis-server (throws on a Sentinel or Cluster stack: see `topology`) */
  redis: RedisServer
  nginx: Proc
  proc(name: string, replica: number): Proc
  /** stops redis-server and starts it again on the same port and data dir (AOF replays); single only */
  restartRedis(downMs?: number): Promise<void>
  /** every line every service and nginx logged, for secret scans */
  allLogs(): string
  stop(): Promise<void>
}

export const AUDIENCE = 'herald'

export function requireBinary(bin: string, pkg: string): void {
  try {
    execFileSync(bin, ['-v'], { stdio: 'ignore' })
  } catch {
    throw new Error(`${bin} not found on the PATH. Install it: apt-get install ${pkg}`)
  }
}

function loadSecrets(dir: string): Secrets {
  const file = join(dir, 'secrets.json')
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>) : null
  // a file from before Web Push gets a VAPID pair; the rest is kept
  if (old?.TICKET_SECRET && old.PUSH_VAPID_PUBLIC_KEY) return old as Secrets
  const s: Secrets = {
    TICKET_SECRET: old?.TICKET_SECRET ?? randomBytes(32).toString('base64url'),
    OTP_SECRET: old?.OTP_SECRET ?? randomBytes(32).toString('base64url'),
    SERVICE_JWT_SECRET: old?.SERVICE_JWT_SECRET ?? randomBytes(32).toString('base64url'),
    ...vapidKeys(),
  }
  writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 })
  return s
}

const vapidOf = (s: Secrets) => ({
  PUSH_VAPID_PUBLIC_KEY: s.PUSH_VAPID_PUBLIC_KEY,
  PUSH_VAPID_PRIVATE_KEY: s.PUSH_VAPID_PRIVATE_KEY,
})

function staticRoot(): string {
  const web = join(REPO_ROOT, 'apps/web/dist')
  return existsSync(join(web, 'index.html')) ? web : join(REPO_ROOT, 'infra/nginx/www')
}

/** Starts redis-server, every replica and nginx on this machine. The apps must be built (`pnpm build`). */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  requireBinary('nginx', 'nginx-light')
  const dir = opts.dir ?? join(REPO_ROOT, '.stack')
  const logDir = join(dir, 'logs')
  const nginxDir = join(dir, 'nginx')
  for (const d of [dir, logDir, nginxDir, join(nginxDir, 'tmp'), join(dir, 'redis')]) mkdirSync(d, { recursive: true })
  for (const app of ['auth', 'gateway', 'notifier']) {
    if (!existsSync(join(REPO_ROOT, `apps/${app}/dist/main.js`)))
      throw new Error(`apps/${app} is not built: run pnpm build first`)
  }
  const secrets = loadSecrets(dir)
  const port = opts.port === 0 ? await freePort() : (opts.port ?? 8080)

  const mode = opts.redis ?? 'single'
  const topology = await startLocalRedis(mode, { dir, ...(opts.redisPort ? { port: opts.redisPort } : {}) })
  const singleServer = (): RedisServer => {
    if (topology.mode !== 'single') throw new Error(`this stack runs on Redis ${topology.mode}: see stack.topology`)
    return topology.server
  }
  const pretty = opts.logFormat === 'pretty'
  const format = () => (pretty ? createLogFormatter({ verbose: opts.verbose ?? false, color: true }) : undefined)
  const procs: Proc[] = []
  const common: Record<string, string> = {
    NODE_ENV: 'development',
    // dev mode, asked for explicitly: the dev SMS provider (GET /auth/dev/sms/:phone); loopback only
    HERALD_DEV: '1',
    HOST: '127.0.0.1',
    REDIS_URL: topology.url,
    REDIS_PARTITIONS: String(PARTITIONS[mode]),
    // with replicas to fail over to, an acknowledged write must be on one of them first
    REDIS_WAIT_REPLICAS: mode === 'single' ? '0' : '1',
    TRUST_PROXY: '127.0.0.1',
    LOG_LEVEL: pretty && opts.verbose ? 'debug' : 'info',
    SERVICE_JWT_AUDIENCE: AUDIENCE,
    SMS_PROVIDER: 'dev',
    ...opts.env,
  }
  // on one redis-server, each service connects as its own Redis user (the rules of compose)
  const users =
    topology.mode === 'single' ? await createServiceUsers(topology.url, '127.0.0.1', topology.server.port) : null
  const redisOf = (name: ServiceUser) => (users ? { REDIS_URL: users.urls[name] } : {})
  // each service gets only the secrets it uses
  const ownSecrets: Record<ServiceUser, Partial<Secrets> & { REDIS_URL?: string }> = {
    auth: { OTP_SECRET: secrets.OTP_SECRET, TICKET_SECRET: secrets.TICKET_SECRET, ...redisOf('auth') },
    gateway: { TICKET_SECRET: secrets.TICKET_SECRET, ...redisOf('gateway') },
    notifier: { SERVICE_JWT_SECRET: secrets.SERVICE_JWT_SECRET, ...vapidOf(secrets), ...redisOf('notifier') },
    worker: { ...vapidOf(secrets), ...redisOf('worker') },
  }
  const add = async (name: 'auth' | 'gateway' | 'notifier' | 'worker', count: number, entry: string, http: boolean) => {
    const app = name === 'worker' ? 'notifier' : name
    for (let i = 1; i <= count; i++) {
      const p = http ? await freePort() : undefined
      const spec: ProcSpec = {
        name,
        replica: i,
        command: process.execPath,
        args: ['--enable-source-maps', ...(opts.nodeArgs?.[name] ?? []), join(REPO_ROOT, `apps/${app}/dist/${entry}`)],
        cwd: REPO_ROOT,
        env: {
          ...common,
          ...ownSecrets[name],
          REPLICA_ID: `${name}-${i}`,
          ...(p !== undefined ? { PORT: String(p) } : {}),
          ...opts.serviceEnv?.[name],
        },
        ...(p !== undefined ? { port: p } : {}),
      }
      procs.push(new Proc(spec, opts.logToFiles ? logDir : null, format()))
    }
  }
  await add('auth', opts.auth ?? 2, 'main.js', true)
  await add('gateway', opts.gateways ?? 3, 'main.js', true)
  await add('notifier', opts.notifiers ?? 2, 'main.js', true)
  await add('worker', opts.workers ?? 1, 'worker-main.js', false)

  const ports = (n: string) => procs.filter((p) => p.spec.name === n).map((p) => p.spec.port as number)
  // written once every service is up on its final port (see startOnFreePort)
  const writeNginxConf = () =>
    writeFileSync(
      join(nginxDir, 'nginx.conf'),
      localNginxConf({
        dir: nginxDir,
        port,
        auth: ports('auth'),
        gateway: ports('gateway'),
        notifier: ports('notifier'),
        staticRoot: staticRoot(),
        refuseWebSockets: opts.refuseWebSockets ?? false,
      }),
    )
  const nginx = new Proc(
    {
      name: 'nginx',
      replica: 1,
      command: 'nginx',
      args: ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')],
      cwd: nginxDir,
      env: {},
    },
    opts.logToFiles ? logDir : null,
  )

  const stopAll = async () => {
    await nginx.stop('SIGQUIT', 3000)
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 10_000)))
    await topology.stop()
    for (const p of [...procs, nginx]) p.closeLog()
  }
  try {
    await Promise.all(procs.map((p) => startOnFreePort(p)))
    writeNginxConf()
    nginx.start()
    // the static page: nginx alone answers it, no service logs a probe
    await waitHttp(`http://127.0.0.1:${port}/`, nginx)
  } catch (err) {
    await stopAll()
    throw err
  }

  const stack: Stack = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    redisUrl: topology.url,
    dir,
    secrets,
    serviceToken: signServiceToken({
      secret: secrets.SERVICE_JWT_SECRET,
      audience: AUDIENCE,
      sub: 'stack',
      scope: ALL_SCOPES,
    }),
    procs,
    topology,
    get redis() {
      return singleServer()
    },
    nginx,
    proc(name, replica) {
      const p = procs.find((x) => x.spec.name === name && x.spec.replica === replica)
      if (!p) throw new Error(`no ${name}-${replica}`)
      return p
    },
    async restartRedis(downMs = 1000) {
      const redis = singleServer()
      const { port: rport, dir: rdir } = redis
      await redis.stop()
      await new Promise((r) => setTimeout(r, downMs))
      const again = await startRedisServer({ port: rport, dir: rdir, appendonly: true, detached: true })
      Object.assign(redis, { process: again.process, stop: again.stop })
      // the services' users are not in the AOF: write them again before the services reconnect
      await users?.apply(again.url)
    },
    allLogs() {
      if (!existsSync(logDir)) return ''
      const files = readdirSync(logDir).map((f) => join(logDir, f))
      files.push(join(nginxDir, 'access.log'), join(nginxDir, 'error.log'))
      return files
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f, 'utf8'))
        .join('\n')
    },
    stop: stopAll,
  }
  return stack
}

/**
 * Starts a service and waits until it is ready. Its port came from freePort(), free when it was
 * picked; another process (a test running beside this one) can bind it before the service
 * does, and the service then exits EADDRINUSE: it gets a new port and starts again (3 tries).
 */
async function startOnFreePort(p: Proc): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    p.start()
    try {
      await p.waitReady()
      return
    } catch (err) {
      const clash = p.spec.port !== undefined && p.tail.some((line) => line.includes('EADDRINUSE'))
      if (!clash || attempt >= 3) throw err
      await p.stop('SIGKILL', 1000)
      const port = await freePort()
      p.spec.port = port
      p.spec.env.PORT = String(port)
    }
  }
}

/** Waits until nginx answers anything at all on its port. */
async function waitHttp(url: string, proc: Proc, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${proc.label} exited (code ${proc.exitCode}); see its error.log`)
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) })
      return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing answers on ${url}`)
}
