import { parseArgs } from 'node:util'
import { Inbox } from '@herald/inbox'
import { createRedis, waitReady } from '@herald/redis'
import { startRedisServer } from '@herald/test-utils'
import { onlineUsers } from './online-users'
import { cpuSeconds } from './proc'
import { type CommandStats, commandStats, diffStats, formatPerUnit, perUnit, totals } from './redis-stats'

/**
 * `pnpm --filter @herald/bench deliver-write`: what one message to one user costs Redis, on a
 * redis-server of its own: `--users` users, each online on one of 3 gateway replicas, get
 * `--messages` messages each (`inbox.deliver`, as `POST /v1/messages` writes a small request, 50
 * in flight), then ack them (`inbox.recordAckBatch`, as a gateway records a window of acks). Prints
 * the redis-server's CPU per message (utime + stime: its network and `--aof` append-only file
 * included), Redis's own µs in the scripts and the inner commands per message, for the write and
 * for the ack. `--gap <ms>`: the messages one at a time, this far apart, instead of 50 in flight —
 * a low rate, where Redis sleeps between two messages (and wakes to each with cold caches).
 */
const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '20' },
    aof: { type: 'boolean', default: false },
    gap: { type: 'string', default: '0' },
  },
})
const gapMs = Math.min(Math.max(Number(values.gap) || 0, 0), 1000)
const users = Math.min(Math.max(Number(values.users) || 1000, 1), 100_000)
const perUser = Math.min(Math.max(Number(values.messages) || 20, 2), 1000)

const server = await startRedisServer({ appendonly: values.aof })
const redisPid = server.process.pid ?? 0
const redis = createRedis(`redis://127.0.0.1:${server.port}`, 'command', 'bench-deliver-write')
try {
  await waitReady(redis)
  const { keys, ids } = await onlineUsers(redis, users)
  const inbox = new Inbox(redis, keys)
  const stats = () => commandStats([redis])
  const report = (what: string, a: CommandStats, b: CommandStats, n: number, cpuS: number) => {
    const d = diffStats(b, a, {})
    const inner = perUnit(d, n, { by: 'usec', skip: ['evalsha', 'eval'] })
    const innerCalls = inner.reduce((sum, [, calls]) => sum + calls, 0)
    const scripts = totals({ evalsha: d.evalsha ?? { calls: 0, usec: 0 }, eval: d.eval ?? { calls: 0, usec: 0 } })
    console.log(
      `  ${what}: redis-server CPU ${((cpuS * 1e6) / n).toFixed(1)} µs per message; ${(scripts.usec / n).toFixed(1)} µs in the scripts (${(scripts.calls / n).toFixed(2)} calls), ${innerCalls.toFixed(1)} inner commands: ${formatPerUnit(inner)}`,
    )
  }
  const sent: { userId: string; id: string }[] = []
  const write = async (round: number) => {
    const batch: Promise<unknown>[] = []
    for (const [i, userId] of ids.entries()) {
      const id = inbox.messageIdFor(`m_${round}_${i}`, userId)
      sent.push({ userId, id })
      batch.push(
        inbox.deliver([
          {
            userId,
            message: {
              id,
              kind: 'chat',
              title: 'bench',
              body: 'one user',
              data: { round },
              source: 'bench',
              createdAt: new Date().toISOString(),
            },
          },
        ]),
      )
      if (gapMs > 0) {
        await Promise.all(batch.splice(0))
        await new Promise((resolve) => setTimeout(resolve, gapMs))
      } else if (batch.length >= 50) await Promise.all(batch.splice(0))
    }
    await Promise.all(batch)
  }
  // warm-up: scripts loaded, inboxes exist
  await write(-1)
  sent.length = 0
  const s0 = await stats()
  const c0 = cpuSeconds(redisPid)
  for (let r = 0; r < perUser; r++) await write(r)
  const s1 = await stats()
  const c1 = cpuSeconds(redisPid)
  const n = users * perUser
  // acks as a gateway records them: a window of 100 ms holds many users' acks
  for (let i = 0; i < sent.length; i += 500) {
    const window = sent.slice(i, i + 500)
    const failed = await inbox.recordAckBatch(
      window.map((s) => ({ userId: s.userId, deviceId: 'bench', ids: [s.id], at: Date.now() })),
    )
    if (failed.some((e) => e !== null)) throw new Error('an ack was not recorded')
  }
  const s2 = await stats()
  const c2 = cpuSeconds(redisPid)
  console.log(
    `one message to one user: ${users} users online on 3 replicas, ${perUser} messages each (${n}), ${gapMs > 0 ? `one at a time, ${gapMs} ms apart` : '50 in flight'}, AOF ${values.aof ? 'on (everysec)' : 'off'}`,
  )
  report('write (deliver)', s0, s1, n, c1 - c0)
  report('ack (recordAckBatch, 500 a call)', s1, s2, n, c2 - c1)
} finally {
  redis.disconnect()
  await server.stop()
}
