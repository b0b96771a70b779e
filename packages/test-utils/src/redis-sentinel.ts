import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  baseServerArgs,
  freePorts,
  type RedisProcess,
  redisCommand,
  redisSentinelBin,
  redisServerBin,
  spawnRedis,
} from './redis-process'
import { waitFor } from './wait'

export interface RedisSentinelOptions {
  /** replicas of the primary @default 1 */
  replicas?: number
  /** @default 3 */
  sentinels?: number
  /** @default 'mymaster' */
  masterName?: string
  /** how long a primary may be silent before the sentinels call it down @default 1000 */
  downAfterMs?: number
  /** @default 3000 */
  failoverTimeoutMs?: number
  /** data dir; removed by stop() when not given */
  dir?: string
  /** own process groups (the local stack: Ctrl-C reaches the services first) */
  detached?: boolean
}

export interface RedisSentinelSet {
  /** `redis+sentinel://<every sentinel>/<master-name>` */
  url: string
  masterName: string
  /** the data nodes, the first one the primary at start */
  servers: RedisProcess[]
  sentinels: RedisProcess[]
  dir: string
  /** the port of the primary the sentinels name now */
  primary(): Promise<number>
  /** kill -9 of the current primary; resolves with its port once it is dead */
  killPrimary(): Promise<number>
  /** starts a killed server again and waits until the sentinels made it a replica in sync */
  restart(port: number): Promise<void>
  /** waits until the sentinels name a primary other than `oldPort` and it accepts writes */
  waitFailover(oldPort: number, timeoutMs?: number): Promise<number>
  stop(): Promise<void>
}

/**
 * A real Sentinel set on 127.0.0.1: one primary, `replicas` replicas (diskless sync with no
 * delay, so they are in sync at once) and `sentinels` redis-sentinel processes with quorum
 * ⌊n/2⌋+1. Resolves once every replica is in sync and every sentinel knows the others and
 * the replicas (about 2-3 s), so a failover can start as soon as the primary dies.
 */
export async function startRedisSentinel(opts: RedisSentinelOptions = {}): Promise<RedisSentinelSet> {
  const serverBin = redisServerBin()
  const sentinelBin = redisSentinelBin()
  const replicaCount = opts.replicas ?? 1
  const sentinelCount = opts.sentinels ?? 3
  const masterName = opts.masterName ?? 'mymaster'
  const detached = opts.detached ?? false
  const ownDir = !opts.dir
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-sentinel-'))
  const ports = await freePorts(1 + replicaCount + sentinelCount)
  const [primaryPort, ...rest] = ports as [number, ...number[]]
  const replicaPorts = rest.slice(0, replicaCount)
  const sentinelPorts = rest.slice(replicaCount)
  const servers: RedisProcess[] = []
  const sentinels: RedisProcess[] = []
  const stopAll = async () => {
    await Promise.all(sentinels.map((s) => s.stop()))
    await Promise.all(servers.map((s) => s.stop()))
    if (ownDir) rmSync(dir, { recursive: true, force: true })
  }

  const serverArgs = (port: number) => {
    const d = join(dir, String(port))
    mkdirSync(d, { recursive: true })
    return [
      ...baseServerArgs(port, d),
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
      '--replica-announce-ip',
      '127.0.0.1',
    ]
  }
  const sentinelConf = (port: number) => {
    const file = join(dir, `sentinel-${port}.conf`)
    // redis-sentinel rewrites its config file as the state changes: one writable file each
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'logfile ""',
        'loglevel warning',
        'sentinel announce-ip 127.0.0.1',
        `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} ${Math.floor(sentinelCount / 2) + 1}`,
        `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    )
    return file
  }

  try {
    servers.push(await spawnRedis({ bin: serverBin, port: primaryPort, args: serverArgs(primaryPort), detached }))
    servers.push(
      ...(await Promise.all(
        replicaPorts.map((port) =>
          spawnRedis({
            bin: serverBin,
            port,
            args: [...serverArgs(port), '--replicaof', '127.0.0.1', String(primaryPort)],
            detached,
          }),
        ),
      )),
    )
    sentinels.push(
      ...(await Promise.all(
        sentinelPorts.map((port) => spawnRedis({ bin: sentinelBin, port, args: [sentinelConf(port)], detached })),
      )),
    )
    await waitFor(
      async () => {
        const links = await Promise.all(replicaPorts.map((p) => redisCommand(p, 'INFO', 'replication')))
        if (!links.every((info) => String(info).includes('master_link_status:up'))) return false
        const views = await Promise.all(
          sentinelPorts.map(async (p) => {
            const others = (await redisCommand(p, 'SENTINEL', 'SENTINELS', masterName)) as unknown[]
            const reps = (await redisCommand(p, 'SENTINEL', 'REPLICAS', masterName)) as unknown[]
            return others.length === sentinelCount - 1 && reps.length === replicaCount
          }),
        )
        return views.every(Boolean)
      },
      20_000,
      100,
      'the Sentinel set in sync',
    )
  } catch (err) {
    await stopAll()
    throw err
  }

  const primary = async (): Promise<number> => {
    for (const s of sentinels) {
      if (!s.running) continue
      try {
        const addr = (await redisCommand(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string]
        return Number(addr[1])
      } catch {}
    }
    throw new Error('no sentinel answers')
  }
  return {
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${masterName}`,
    masterName,
    servers,
    sentinels,
    dir,
    primary,
    async killPrimary() {
      const port = await primary()
      const server = servers.find((s) => s.port === port)
      if (!server) throw new Error(`port ${port} is not a server of this set`)
      await server.kill()
      return port
    },
    async restart(port) {
      const server = servers.find((s) => s.port === port)
      if (!server) throw new Error(`port ${port} is not a server of this set`)
      await server.restart()
      // the sentinels turn a returning old primary into a replica of the new one
      await waitFor(
        async () => {
          const info = String(await redisCommand(port, 'INFO', 'replication'))
          return port === (await primary()) || info.includes('master_link_status:up')
        },
        20_000,
        100,
        `server :${port} back in the set`,
      )
    },
    async waitFailover(oldPort, timeoutMs = 15_000) {
      return waitFor(
        async () => {
          const port = await primary()
          if (port === oldPort) return 0
          const role = (await redisCommand(port, 'ROLE')) as [string]
          return role[0] === 'master' ? port : 0
        },
        timeoutMs,
        100,
        'a Sentinel failover',
      )
    },
    stop: stopAll,
  }
}
