import { parseArgs } from 'node:util'
import { Inbox } from '@herald/inbox'
import { createRedis, waitReady } from '@herald/redis'
import { startRedisServer } from '@herald/test-utils'
import { onlineUsers } from './online-users'
import { type CommandStats, commandStats, diffStats, formatPerUnit, perUnit } from './redis-stats'

/**
 * `pnpm --filter @herald/bench broadcast-write`: what one message to everyone costs Redis, on a
 * redis-server of its own, for `--users` users of one partition, every one of them online on one
 * of 3 gateway replicas. A message to everyone is written once for the partition (fan-out on
 * read): prints the wall time and Redis time of `inbox.announce` — all that comes before the
 * gateways can send it — then what each inbox pays when it takes the message in at its next read
 * (`inbox.counts`, minus the same read with nothing to take in), and the inner commands of the
 * announce, and the wall time of one replay read when there is nothing to take in. `--fill N` first
 * takes N messages to everyone into every inbox.
 */
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '30' },
    fill: { type: 'string', default: '0' },
  },
})
const users = Math.min(Math.max(Number(values.users) || 2000, 1), 200_000)
const runs = Math.min(Math.max(Number(values.runs) || 30, 3), 500)
const fill = Math.min(Math.max(Number(values.fill) || 0, 0), 1000)

const server = await startRedisServer()
const redis = createRedis(`redis://127.0.0.1:${server.port}`, 'command', 'bench-broadcast-write')
try {
  await waitReady(redis)
  const { keys, ids } = await onlineUsers(redis, users)
  const inbox = new Inbox(redis, keys)
  const message = (id: string) => ({
    id,
    kind: 'news',
    title: 'bench',
    body: 'to everyone',
    data: {},
    createdAt: new Date().toISOString(),
  })
  const readAll = () => Promise.all(ids.map((u) => inbox.counts(u)))
  for (let n = 0; n < fill; n++) await inbox.announce(0, message(`m_fill${n}.all`))
  await readAll()
  const stats = () => commandStats([redis])
  const scriptUs = (a: CommandStats, b: CommandStats) => (a.evalsha?.usec ?? 0) - (b.evalsha?.usec ?? 0)
  let byCommand: CommandStats = {}

  const walls: number[] = []
  const announceUs: number[] = []
  const takeInUs: number[] = []
  for (let n = 0; n < runs + 2; n++) {
    const s0 = await stats()
    const t0 = performance.now()
    await inbox.announce(0, message(`m_bench${n}.all`))
    const wall = performance.now() - t0
    const s1 = await stats()
    await readAll()
    const s2 = await stats()
    await readAll()
    const s3 = await stats()
    // the first two warm the scripts and the inboxes up
    if (n < 2) continue
    byCommand = diffStats(s1, s0, byCommand)
    walls.push(wall)
    announceUs.push(scriptUs(s1, s0))
    takeInUs.push((scriptUs(s2, s1) - scriptUs(s3, s2)) / users)
  }
  // a read one after another (nothing to take in): what a replay's or a page's round trips cost
  const readWallUs: number[] = []
  for (const u of ids.slice(0, Math.min(users, 2000))) {
    const t0 = performance.now()
    await inbox.since(u, '0', 1)
    readWallUs.push((performance.now() - t0) * 1000)
  }
  const at = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] ?? 0
  console.log(
    `a message to everyone: ${users} users of one partition, all online on 3 replicas, ${fill} messages in each inbox before; ${runs} runs`,
  )
  console.log(
    `  wall ms (announce): min ${at(walls, 0).toFixed(2)}, median ${at(walls, 0.5).toFixed(2)}, p90 ${at(walls, 0.9).toFixed(2)}`,
  )
  console.log(`  Redis µs (the announce script): median ${at(announceUs, 0.5).toFixed(1)}`)
  console.log(`  Redis µs per user, taken in at its next read: median ${at(takeInUs, 0.5).toFixed(1)}`)
  console.log(
    `  wall µs of one replay read (inbox.since, one after another, nothing to take in): median ${at(readWallUs, 0.5).toFixed(0)}, p90 ${at(readWallUs, 0.9).toFixed(0)}`,
  )
  const rows = formatPerUnit(perUnit(byCommand, runs, { by: 'usec', skip: ['evalsha'] }))
  console.log(`  inner commands per announce, calls (Redis µs): ${rows}`)
} finally {
  redis.disconnect()
  await server.stop()
}
