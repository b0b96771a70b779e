import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { getPresence, getStats } from '@herald/presence'
import { freePort, testRedisUrl, waitFor } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cluster, PARTITIONS, SECRET } from './helpers'

let c: Cluster
const children: ChildProcess[] = []
beforeEach(() => {
  c = new Cluster()
})
afterEach(async () => {
  for (const ch of children.splice(0)) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL')
  await c.close()
})

const FAST_PRESENCE = { HEARTBEAT_INTERVAL_MS: 200, REPLICA_TTL_MS: 1000 }

/** A replica in its own process, started the way production starts it (src/main.ts). */
async function spawnReplica(id: string) {
  const port = await freePort()
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      REDIS_URL: testRedisUrl(),
      KEY_PREFIX: c.prefix,
      REDIS_PARTITIONS: String(PARTITIONS),
      REPLICA_ID: id,
      TICKET_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      STREAM_BLOCK_MS: '1000',
      HEARTBEAT_INTERVAL_MS: String(FAST_PRESENCE.HEARTBEAT_INTERVAL_MS),
      REPLICA_TTL_MS: String(FAST_PRESENCE.REPLICA_TTL_MS),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d.toString()
  })
  const http = `http://127.0.0.1:${port}`
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`replica exited: ${stderr}`)
      return (await fetch(`${http}/readyz`)).ok
    },
    20_000,
    100,
  )
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, url: `ws://127.0.0.1:${port}/ws`, http, id, exited }
}

describe('presence and shutdown', () => {
  it('counts users and connections across replicas exactly, and forgets a closed socket at once', async () => {
    const [r1, r2] = [await c.start(), await c.start()]
    const [a, b] = [await c.user('laptop'), await c.user('phone')]
    const a1 = await c.online(r1, a)
    await c.online(r2, a)
    await c.online(r2, b)
    const p = await getPresence(c.redis, c.keys, a.userId)
    expect(p.online).toBe(true)
    expect(p.connections.map((x) => x.replica).sort()).toEqual([r1.id, r2.id])
    expect(p.connections[0]).toEqual({
      connId: expect.any(String),
      replica: expect.any(String),
      device: 'laptop',
      connectedAt: expect.stringMatching(/^\d{4}-/),
    })
    const s = await getStats(c.redis, c.keys)
    expect(s).toMatchObject({ onlineUsers: 2, connections: 3 })
    expect(s.replicas).toEqual(
      expect.arrayContaining([
        { id: r1.id, connections: 1, users: 1, alive: true },
        { id: r2.id, connections: 2, users: 2, alive: true },
      ]),
    )
    await a1.close()
    await waitFor(async () => (await getPresence(c.redis, c.keys, a.userId)).connections.length === 1)
    expect(await getStats(c.redis, c.keys)).toMatchObject({ onlineUsers: 2, connections: 2 })
  })

  it('drops the users of a kill -9’d replica from presence and counts within the deadline, without a key scan', async () => {
    const live = await c.start(FAST_PRESENCE)
    const doomed = await spawnReplica('doomed')
    const u = await c.user()
    const other = await c.user()
    const onDoomed = await c.online(doomed, u)
    await c.online(live, other)
    expect((await getPresence(c.redis, c.keys, u.userId)).online).toBe(true)
    expect((await getStats(c.redis, c.keys)).onlineUsers).toBe(2)

    const t0 = Date.now()
    doomed.child.kill('SIGKILL')
    await onDoomed.closed
    await waitFor(async () => !(await getPresence(c.redis, c.keys, u.userId)).online, 10_000, 50)
    const gone = Date.now() - t0
    expect(gone).toBeLessThan(30_000)
    // reaped, not just filtered: the replica's keys are gone and the counts are exact again
    await waitFor(async () => (await c.redis.zscore(c.keys.replicas(), 'doomed')) === null, 5000)
    expect(
      await c.redis.exists(
        c.keys.presence(u.userId),
        c.keys.replicaConnections(c.keys.partitionOf(u.userId), 'doomed'),
      ),
    ).toBe(0)
    const s = await getStats(c.redis, c.keys)
    expect(s).toMatchObject({ onlineUsers: 1, connections: 1 })
    expect(s.replicas.map((r) => r.id)).toEqual([live.id])
    expect(live.logs.text()).toContain('reaped dead replicas')
  })

  it('on SIGTERM closes every socket 1012, leaves presence and exits within 10 s', async () => {
    const r = await spawnReplica('leaving')
    const u = await c.user()
    const cl = await c.online(r, u)
    const t0 = Date.now()
    r.child.kill('SIGTERM')
    expect(await cl.closed).toEqual({ code: 1012, reason: 'restarting' })
    const exit = await r.exited
    expect(exit.code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect((await getPresence(c.redis, c.keys, u.userId)).online).toBe(false)
    expect(await c.redis.zscore(c.keys.replicas(), 'leaving')).toBeNull()
  })

  it('app.close() closes sockets 1012 and refuses new ones while draining', async () => {
    const r = await c.start()
    const u = await c.user()
    const cl = await c.online(r, u)
    const closing = r.app.gateway.drain()
    expect((await r.app.inject('/readyz')).statusCode).toBe(503)
    expect((await cl.closed).code).toBe(1012)
    const late = c.connect(`${r.url}?ticket=${c.ticket({ sub: u.userId, sid: u.sessionId })}`)
    expect((await late.closed).code).toBe(1012)
    await closing
    await r.close()
    expect(await c.redis.hlen(c.keys.presence(u.userId))).toBe(0)
  })
})
