import { parseArgs } from 'node:util'
import { Inbox } from '@herald/inbox'
import { createKeys } from '@herald/keys'
import { PresenceWriter } from '@herald/presence'
import { createRedis, waitReady } from '@herald/redis'
import { startRedisServer } from '@herald/test-utils'
import { type CommandStats, diffStats, parseCommandStats } from './redis-stats'

/**
 * `pnpm --filter @herald/bench broadcast-write`: how long herald takes to write one message to
 * everyone into the inboxes of `--users` users of one partition, every one of them online on one
 * of 3 gateway replicas, on a redis-server of its own — the part of a broadcast that comes before
 * its last socket can get the frame (the inbox is written before the stream). Prints the wall
 * time of `inbox.deliverToMany`, the Redis time of its scripts per user (INFO commandstats), the
 * caller's CPU per user (what the notifier's worker spends building and sending the calls),
 * then each inner command's calls and µs per user. `--fill N` first writes N messages into every
 * inbox (a bench's users after its other scenarios hold hundreds; a set past 128 members is a
 * skiplist, not a listpack).
 */
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '30' },
    chunk: { type: 'string', default: '500' },
    fill: { type: 'string', default: '0' },
  },
})
const users = Math.min(Math.max(Number(values.users) || 2000, 1), 200_000)
const runs = Math.min(Math.max(Number(values.runs) || 30, 3), 500)
const chunkSize = Math.min(Math.max(Number(values.chunk) || 500, 1), 10_000)
const fill = Math.min(Math.max(Number(values.fill) || 0, 0), 1000)

const server = await startRedisServer()
const redis = createRedis(`redis://127.0.0.1:${server.port}`, 'command', 'bench-broadcast-write')
try {
  await waitReady(redis)
  const keys = createKeys('bench', 1)
  const ids = Array.from({ length: users }, (_, i) => `u_${String(i).padStart(16, '0')}`)
  const replicas = ['gw-1', 'gw-2', 'gw-3']
  const rec = { device: 'bench', sessionId: 's', connectedAt: new Date().toISOString() }
  for (const [r, name] of replicas.entries()) {
    const gw = new PresenceWriter(redis, keys, { replica: name })
    await gw.heartbeat()
    for (let i = r; i < ids.length; i += replicas.length) await gw.connect(`c${i}`, ids[i] as string, rec)
  }
  const inbox = new Inbox(redis, keys)
  const message = (id: string) => ({
    id,
    kind: 'news',
    title: 'bench',
    body: 'to everyone',
    data: {},
    createdAt: new Date().toISOString(),
  })
  for (let n = 0; n < fill; n++) await inbox.deliverToMany(ids, message(`m_fill${n}.all`), { chunkSize })
  const stats = async () => parseCommandStats(await redis.info('commandstats'))
  let byCommand: CommandStats = {}

  const walls: number[] = []
  const perUser: number[] = []
  const callerUs: number[] = []
  for (let n = 0; n < runs + 2; n++) {
    const s0 = await stats()
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    await inbox.deliverToMany(ids, message(`m_bench${n}.all`), { chunkSize })
    const cpu = process.cpuUsage(cpu0)
    const wall = performance.now() - t0
    const s1 = await stats()
    // the first two warm the scripts and the inboxes up
    if (n < 2) continue
    const us = (s1.evalsha?.usec ?? 0) - (s0.evalsha?.usec ?? 0)
    byCommand = diffStats(s1, s0, byCommand)
    walls.push(wall)
    perUser.push(us / users)
    callerUs.push((cpu.user + cpu.system) / users)
  }
  const at = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] ?? 0
  console.log(
    `a message to everyone: ${users} users of one partition, all online, chunks of ${chunkSize}, ${fill} messages in each inbox before; ${runs} runs`,
  )
  console.log(
    `  wall ms (deliverToMany): min ${at(walls, 0).toFixed(1)}, median ${at(walls, 0.5).toFixed(1)}, p90 ${at(walls, 0.9).toFixed(1)}`,
  )
  console.log(`  Redis µs per user (its scripts): median ${at(perUser, 0.5).toFixed(1)}`)
  console.log(`  caller CPU µs per user (building and sending the calls): median ${at(callerUs, 0.5).toFixed(1)}`)
  const per = users * runs
  const rows = Object.entries(byCommand)
    .filter(([name]) => name !== 'evalsha')
    .sort((a, b) => b[1].usec - a[1].usec)
    .map(([name, v]) => `${name} ${(v.calls / per).toFixed(2)} (${(v.usec / per).toFixed(2)} µs)`)
  console.log(`  inner commands per user, calls (Redis µs): ${rows.join(', ')}`)
} finally {
  redis.disconnect()
  await server.stop()
}
