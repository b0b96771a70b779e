import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { localNginxConf, Proc, type ProcSpec, type Stack, type StackOptions, startStack } from '@herald/stack'
import { freePort, startRedisServer } from '@herald/test-utils'
import { Redis } from 'ioredis'
import { signServiceToken } from '../peers/common'
import { collectGarbage, heapSnapshot, inspectorUrl } from './inspector'
import type { Proto } from './loadgen/clients'
import { login } from './login'
import { childPids, totalCpuSeconds } from './proc'
import { type CommandStats, commandStats } from './redis-stats'

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

/** `herald-cluster`: herald on a local Redis Cluster (3 primaries + 3 replicas), beside `herald` on one Redis */
export type SystemName = 'herald' | 'herald-cluster' | 'ws' | 'socketio' | 'express-session'

export interface User {
  id: string
  token: string
}

/** One system under test, started on loopback with its own redis-server and nginx. */
export interface System {
  name: SystemName
  proto: Proto
  /**
   * its clients acknowledge every message as herald's SDK does (`ack` frames, the ids of 100 ms
   * together): the delivery receipts are part of what herald does per message; the peers have none
   */
  acks: boolean
  /** nginx, HTTP */
  url: string
  /** the WebSocket endpoint through nginx */
  wsUrl: string
  /** the WebSocket endpoint of one replica, bypassing nginx */
  replicaWsUrl(i: number): string
  replicaPid(i: number): number
  /** heap used by one replica after a full GC, in bytes */
  /** a full GC in replica i, before its RSS is read */
  replicaGc(i: number): Promise<void>
  /** a heap snapshot of replica i, after a full GC, written to `file` (the idle scenario's heap figure) */
  replicaHeapSnapshot(i: number, file: string): Promise<void>
  serviceToken: string
  /** every server process: replicas, redis-server, nginx master and workers */
  pids(): number[]
  cpu(): number
  /** CPU seconds so far by kind of process (herald: notifier API, worker, gateways…; a peer: its replicas…) */
  cpuByProcess(): Record<string, number>
  /** Redis commands run so far on every data node, by command (Lua scripts' inner calls counted too) */
  redisCalls(): Promise<CommandStats>
  /** sessions created the way that system creates them, `n` at least */
  users(n: number): Promise<User[]>
  stop(): Promise<void>
}

export interface StartOptions {
  dir: string
  pingMs: number
  replicas: number
}

export type RedisMode = NonNullable<StackOptions['redis']>

export interface HeraldStartOptions extends StartOptions {
  /** @default 'single' */
  redis?: RedisMode
  /** `pnpm bench --cpu-prof`: every herald Node process writes a .cpuprofile here when it stops */
  cpuProfDir?: string
}

/** `--cpu-prof` is refused in NODE_OPTIONS: it goes on each service's command line */
function nodeArgsFor(cpuProfDir: string | undefined): StackOptions['nodeArgs'] {
  if (!cpuProfDir) return {}
  const prof = (name: string) => ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, name)}`]
  return { gateway: prof('gateway'), notifier: prof('notifier'), worker: prof('worker'), auth: prof('auth') }
}

/** herald adds what only it has: its gateways' Prometheus endpoints and the Redis processes apart. */
export interface HeraldSystem extends System {
  /** `http://127.0.0.1:<port>/metrics` of every gateway replica */
  gatewayMetricsUrls: string[]
  /** every redis-server of the topology (one, or the Cluster's six; a Sentinel set's sentinels too) */
  redisPids(): number[]
  /** the ports of the data nodes (one, the Cluster's six, the Sentinel set's primary and replica) */
  redisPorts(): number[]
}

function topologyNodes(t: Stack['topology']): { pid: number; port: number; data: boolean }[] {
  const of = (n: { port: number; process: { pid?: number | undefined } }, data = true) => ({
    pid: n.process.pid ?? 0,
    port: n.port,
    data,
  })
  if (t.mode === 'single') return [of(t.server)]
  if (t.mode === 'cluster') return t.cluster.nodes.map((n) => of(n))
  return [...t.sentinel.servers.map((n) => of(n)), ...t.sentinel.sentinels.map((n) => of(n, false))]
}

const wsPath = (proto: Proto) => (proto === 'sio' ? '/socket.io/?EIO=4&transport=websocket' : '/ws')

async function nginxPids(master: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) {
    const kids = childPids(master)
    if (kids.length > 0) return [master, ...kids]
    await new Promise((r) => setTimeout(r, 100))
  }
  return [master]
}

/**
 * `BENCH_HERALD_ENV='{"FANOUT_CHUNK_SIZE":"100"}'`: settings for every herald process of a run,
 * to compare a setting's values without rebuilding (the stack passes no other environment on).
 */
function heraldEnvOverrides(): Record<string, string> {
  const raw = process.env.BENCH_HERALD_ENV
  if (!raw) return {}
  const parsed: unknown = JSON.parse(raw)
  if (!parsed || typeof parsed !== 'object' || Object.values(parsed).some((v) => typeof v !== 'string'))
    throw new Error('BENCH_HERALD_ENV must be a JSON object of strings, e.g. {"ACK_BATCH_MS":"50"}')
  return parsed as Record<string, string>
}

export async function startHerald(o: HeraldStartOptions): Promise<HeraldSystem> {
  const redis = o.redis ?? 'single'
  const stack = await startStack({
    port: 0,
    redis,
    dir: o.dir,
    logToFiles: true,
    auth: 2,
    gateways: o.replicas,
    workers: 1,
    env: {
      LOG_LEVEL: 'warn',
      PING_INTERVAL_MS: String(o.pingMs),
      RATE_LIMIT_CODE_PER_MINUTE_PER_IP: '100000000',
      RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: '100000000',
      // the login scenario sends more codes than a day's default spend ceiling (10,000): past
      // it every /auth/code is 429 SMS_BUDGET_EXCEEDED, which the peer has no counterpart of
      SMS_DAILY_BUDGET: '100000000',
      SMS_COUNTRY_DAILY_BUDGET: '100000000',
      ...heraldEnvOverrides(),
    },
    // the idle scenario reads the heap from snapshots taken through the inspector
    serviceEnv: { gateway: { NODE_OPTIONS: '--inspect=127.0.0.1:0' } },
    nodeArgs: nodeArgsFor(o.cpuProfDir),
  })
  try {
    const gateways = stack.procs.filter((p) => p.spec.name === 'gateway')
    const ngx = await nginxPids(stack.nginx.child?.pid ?? 0)
    const redisPids = () => topologyNodes(stack.topology).map((n) => n.pid)
    const pids = () => [...stack.procs.map((p) => p.child?.pid ?? 0), ...redisPids(), ...ngx]
    const of = (name: string) => stack.procs.filter((p) => p.spec.name === name).map((p) => p.child?.pid ?? 0)
    const created: User[] = []
    return {
      name: redis === 'cluster' ? 'herald-cluster' : 'herald',
      redisCalls: () =>
        redisCalls(
          topologyNodes(stack.topology)
            .filter((n) => n.data)
            .map((n) => n.port),
        ),
      cpuByProcess: () => ({
        'notifier API': totalCpuSeconds(of('notifier')),
        worker: totalCpuSeconds(of('worker')),
        gateways: totalCpuSeconds(of('gateway')),
        auth: totalCpuSeconds(of('auth')),
        'redis-server': totalCpuSeconds(redisPids()),
        nginx: totalCpuSeconds(ngx),
      }),
      proto: 'herald',
      acks: true,
      gatewayMetricsUrls: gateways.map((g) => `http://127.0.0.1:${g.spec.port}/metrics`),
      redisPids,
      redisPorts: () =>
        topologyNodes(stack.topology)
          .filter((n) => n.data)
          .map((n) => n.port),
      url: stack.url,
      wsUrl: stack.wsUrl,
      replicaWsUrl: (i) => `ws://127.0.0.1:${gateways[i]?.spec.port}/ws`,
      replicaPid: (i) => gateways[i]?.child?.pid ?? 0,
      replicaGc: async (i) => collectGarbage(await inspectorUrl(join(o.dir, 'logs', `gateway-${i + 1}.log`))),
      replicaHeapSnapshot: async (i, file) =>
        heapSnapshot(await inspectorUrl(join(o.dir, 'logs', `gateway-${i + 1}.log`)), file),
      serviceToken: stack.serviceToken,
      pids,
      cpu: () => totalCpuSeconds(pids()),
      async users(n) {
        // through the public API (code, dev SMS, login), a bounded number at a time
        const base = created.length
        if (base < n) created.push(...(await login(stack.url, n - base, base, 'bearer')))
        return created.slice(0, n)
      },
      stop: () => stack.stop(),
    }
  } catch (err) {
    await stack.stop()
    throw err
  }
}

/**
 * A peer: redis-server (AOF, like herald's), `replicas` processes of peers/<kind>.ts, and
 * nginx rendered from herald's own template (so the proxy settings are the same), its
 * /ws location also serving Socket.IO's path.
 */
export async function startPeer(
  name: Exclude<SystemName, 'herald' | 'herald-cluster'>,
  o: StartOptions,
): Promise<System> {
  const file = { ws: 'ws-peer.ts', socketio: 'sio-peer.ts', 'express-session': 'session-peer.ts' }[name]
  const proto: Proto = name === 'socketio' ? 'sio' : 'herald'
  const nginxDir = join(o.dir, 'nginx')
  const logDir = join(o.dir, 'logs')
  for (const d of [nginxDir, join(nginxDir, 'tmp'), logDir, join(o.dir, 'redis')]) mkdirSync(d, { recursive: true })
  const redis = await startRedisServer({ dir: join(o.dir, 'redis'), appendonly: true })
  const serviceSecret = randomUUID()
  const procs: Proc[] = []
  let nginx: Proc | null = null
  const stop = async () => {
    await nginx?.stop('SIGQUIT', 3000)
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 5000)))
    await redis.stop()
    for (const p of [...procs, ...(nginx ? [nginx] : [])]) p.closeLog()
  }
  try {
    for (let i = 1; i <= o.replicas; i++) {
      const port = await freePort()
      const spec: ProcSpec = {
        name,
        replica: i,
        command: process.execPath,
        args: ['--inspect=127.0.0.1:0', '--import', 'tsx', join(BENCH_DIR, 'peers', file)],
        cwd: BENCH_DIR,
        env: {
          NODE_ENV: 'production',
          PORT: String(port),
          REDIS_URL: redis.url,
          REPLICA_ID: `${name}-${i}`,
          PING_INTERVAL_MS: String(o.pingMs),
          SERVICE_JWT_SECRET: serviceSecret,
        },
        port,
      }
      procs.push(new Proc(spec, logDir))
    }
    for (const p of procs) p.start()
    await Promise.all(procs.map((p) => p.waitReady()))
    const ports = procs.map((p) => p.spec.port as number)
    const port = await freePort()
    const conf = localNginxConf({
      dir: nginxDir,
      port,
      auth: ports,
      gateway: ports,
      notifier: ports,
      staticRoot: nginxDir,
    })
    writeFileSync(join(nginxDir, 'nginx.conf'), conf.replace('location = /ws {', 'location ~ ^/(ws|socket\\.io/)$ {'))
    nginx = new Proc(
      {
        name: `nginx-${name}`,
        replica: 1,
        command: 'nginx',
        args: ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')],
        cwd: nginxDir,
        env: {},
      },
      logDir,
    )
    nginx.start()
    const url = `http://127.0.0.1:${port}`
    await waitHttp(`${url}/auth/readyz-probe`)
    const ngx = await nginxPids(nginx.child?.pid ?? 0)
    const pids = () => [...procs.map((p) => p.child?.pid ?? 0), redis.process.pid ?? 0, ...ngx]
    const created: User[] = []
    return {
      name,
      redisCalls: () => redisCalls([redis.port]),
      cpuByProcess: () => ({
        // a peer's replica serves the HTTP API and the sockets in one process
        [name === 'express-session' ? 'replicas (HTTP)' : 'replicas (API + sockets)']: totalCpuSeconds(
          procs.map((p) => p.child?.pid ?? 0),
        ),
        'redis-server': totalCpuSeconds([redis.process.pid ?? 0]),
        nginx: totalCpuSeconds(ngx),
      }),
      proto,
      acks: false,
      url,
      wsUrl: `ws://127.0.0.1:${port}${wsPath(proto)}`,
      replicaWsUrl: (i) => `ws://127.0.0.1:${procs[i]?.spec.port}${wsPath(proto)}`,
      replicaPid: (i) => procs[i]?.child?.pid ?? 0,
      replicaGc: async (i) => collectGarbage(await inspectorUrl(join(logDir, `${name}-${i + 1}.log`))),
      replicaHeapSnapshot: async (i, file) =>
        heapSnapshot(await inspectorUrl(join(logDir, `${name}-${i + 1}.log`)), file),
      serviceToken: signServiceToken(serviceSecret),
      pids,
      cpu: () => totalCpuSeconds(pids()),
      async users(n) {
        if (created.length >= n) return created.slice(0, n)
        if (name === 'express-session') {
          created.push(...(await login(url, n - created.length, created.length, 'cookie')))
        } else {
          created.push(...(await seedSessions(redis.url, n - created.length, created.length)))
        }
        return created.slice(0, n)
      },
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The socket peers have no login of their own: their sessions are written the way herald's are shaped. */
async function seedSessions(redisUrl: string, n: number, offset: number): Promise<User[]> {
  const r = new Redis(redisUrl)
  try {
    const users: User[] = []
    const now = Date.now()
    const pipe = r.pipeline()
    for (let i = 0; i < n; i++) {
      const token = randomUUID()
      const id = `u_${String(offset + i).padStart(6, '0')}`
      const key = `sess:${createHash('sha256').update(token).digest('hex')}`
      pipe.hset(key, {
        id: randomUUID(),
        userId: id,
        device: 'bench',
        createdAt: String(now),
        lastSeenAt: String(now),
        expiresAt: String(now + 7 * 86_400_000),
      })
      pipe.pexpire(key, 30 * 60_000)
      users.push({ id, token })
    }
    await pipe.exec()
    return users
  } finally {
    r.disconnect()
  }
}

/** INFO commandstats of each node, summed per command (the probe itself left out). */
async function redisCalls(ports: number[]): Promise<CommandStats> {
  const nodes = ports.map((port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true }))
  try {
    return await commandStats(nodes)
  } finally {
    for (const n of nodes) n.disconnect()
  }
}

async function waitHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) })
      return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nothing answers on ${url}`)
}
