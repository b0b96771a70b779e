import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  baseServerArgs,
  freePorts,
  type RedisProcess,
  redisCliBin,
  redisCommand,
  redisServerBin,
  spawnRedis,
} from './redis-process'
import { waitFor } from './wait'

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number
  /** replicas per master @default 1 */
  replicas?: number
  /** how long a primary may be silent before its replica takes over @default 2000 */
  nodeTimeoutMs?: number
  /** data dir; removed by stop() when not given */
  dir?: string
  /** own process groups (the local stack: Ctrl-C reaches the services first) */
  detached?: boolean
}

export interface RedisClusterNode extends RedisProcess {
  /** the cluster bus port */
  busPort: number
}

export interface RedisCluster {
  /** `redis+cluster://` with every node as a seed */
  url: string
  nodes: RedisClusterNode[]
  dir: string
  /** the port of the primary serving a slot (a number) or a key's slot, as the cluster says now */
  primaryOf(slotOrKey: number | string): Promise<number>
  /** kill -9 of the primary serving `slotOrKey`; resolves with its port once it is dead */
  killPrimaryOf(slotOrKey: number | string): Promise<number>
  /** starts a killed node again (it rejoins as a replica of whoever took over) and waits for cluster_state:ok */
  restartNode(port: number): Promise<void>
  /** waits until every node still running says cluster_state:ok */
  waitOk(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

const run = promisify(execFile)

/**
 * A real Redis Cluster on 127.0.0.1: `masters × (1 + replicas)` redis-server processes with
 * `--cluster-enabled yes` on free ports (and free bus ports), joined by `redis-cli --cluster
 * create`. Resolves once every node says `cluster_state:ok` (about 2 s for 6 nodes).
 */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
  const bin = redisServerBin()
  const cli = redisCliBin()
  const masters = opts.masters ?? 3
  const replicas = opts.replicas ?? 1
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters')
  const count = masters * (1 + replicas)
  const ownDir = !opts.dir
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-cluster-'))
  // The bus port defaults to port + 10000, past 65535 for high ephemeral ports: choose it too.
  const ports = await freePorts(count * 2)
  const nodes: RedisClusterNode[] = []
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    if (ownDir) rmSync(dir, { recursive: true, force: true })
  }
  try {
    const started = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const port = ports[i] as number
        const busPort = ports[count + i] as number
        const nodeDir = join(dir, String(port))
        mkdirSync(nodeDir, { recursive: true })
        const args = [
          ...baseServerArgs(port, nodeDir),
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout',
          String(opts.nodeTimeoutMs ?? 2000),
          // a replica that was cut off for a while may still take over: this is a test/dev cluster
          '--cluster-replica-validity-factor',
          '0',
          '--cluster-announce-ip',
          '127.0.0.1',
        ]
        const proc = await spawnRedis({ bin, port, args, detached: opts.detached ?? false })
        return Object.assign(proc, { busPort })
      }),
    )
    nodes.push(...started)
    await run(
      cli,
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    )
  } catch (err) {
    await stopAll()
    throw err
  }

  const running = () => nodes.filter((n) => n.running)
  const waitOk = async (timeoutMs = 20_000) => {
    await waitFor(
      async () => {
        const infos = await Promise.all(running().map((n) => redisCommand(n.port, 'CLUSTER', 'INFO')))
        return infos.every((info) => String(info).includes('cluster_state:ok'))
      },
      timeoutMs,
      100,
      'cluster_state:ok on every node',
    )
  }
  const primaryOf = async (slotOrKey: number | string): Promise<number> => {
    const ask = running()[0]
    if (!ask) throw new Error('no cluster node is running')
    const slot =
      typeof slotOrKey === 'number' ? slotOrKey : Number(await redisCommand(ask.port, 'CLUSTER', 'KEYSLOT', slotOrKey))
    const ranges = (await redisCommand(ask.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][]
    const range = ranges.find(([lo, hi]) => slot >= lo && slot <= hi)
    if (!range) throw new Error(`no primary serves slot ${slot}`)
    return range[2][1]
  }
  try {
    await waitOk()
  } catch (err) {
    await stopAll()
    throw err
  }
  return {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    dir,
    primaryOf,
    async killPrimaryOf(slotOrKey) {
      const port = await primaryOf(slotOrKey)
      const node = nodes.find((n) => n.port === port)
      if (!node) throw new Error(`port ${port} is not a node of this cluster`)
      await node.kill()
      return port
    },
    async restartNode(port) {
      const node = nodes.find((n) => n.port === port)
      if (!node) throw new Error(`port ${port} is not a node of this cluster`)
      await node.restart()
      await waitOk()
    },
    waitOk,
    stop: stopAll,
  }
}
