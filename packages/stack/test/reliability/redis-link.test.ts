import { freePort } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { type LoggedIn, login } from '../client'
import { e2eStack } from '../e2e/helpers'
import { DelayProxy } from '../support/delay-proxy'
import { SeqSender } from '../support/load'
import { SeqClient } from '../support/seq-client'
import { figure, percentile, pool, sleep, until } from '../support/soak'

const LINK_DELAY_MS = 30

let stack: Stack
let proxy: DelayProxy
let users: LoggedIn[] = []
let clients: SeqClient[] = []

beforeAll(async () => {
  const redisPort = await freePort()
  proxy = new DelayProxy(redisPort, LINK_DELAY_MS)
  await proxy.listen()
  // only the gateways talk to Redis over the slow link; the notifier and worker go direct
  stack = await e2eStack({
    redisPort,
    serviceEnv: { gateway: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` } },
  })
  users = await Promise.all(Array.from({ length: 9 }, () => login(stack.url)))
  clients = users.map((u) => new SeqClient({ base: stack.url, wsUrl: stack.wsUrl, token: u.token }))
  await Promise.all(clients.map((c) => c.start()))
})
afterAll(async () => {
  for (const c of clients) c.stop()
  await stack?.stop()
  await proxy?.close()
})

function missing(sender: SeqSender): number {
  let n = 0
  users.forEach((u, i) => {
    for (const id of sender.expected(u.user.id)) if (!clients[i]?.firstSeen.has(id)) n++
  })
  return n
}

const raw = () => clients.reduce((n, c) => n + c.rawMessages, 0)
const unique = () => clients.reduce((n, c) => n + c.received.length, 0)

describe('Redis stalled or far away', () => {
  it(`a slow link (${LINK_DELAY_MS} ms each way) between gateways and Redis, cut mid-flow: XREAD resumes from its last id, 0 lost, 0 duplicated`, async () => {
    const sender = new SeqSender(stack)
    const rawBefore = raw()
    const uniqueBefore = unique()
    let cut = 0
    await pool(
      Array.from({ length: 300 }, (_, i) => i),
      6,
      async (i) => {
        if (i === 150) cut = proxy.cut()
        await sender.send((users[i % users.length] as LoggedIn).user.id, 'slow')
      },
    )
    expect(sender.errors).toBe(0)
    await until(() => missing(sender) === 0, 30_000, `every message (missing ${missing(sender)})`)
    await sleep(500)
    const lat = [...sender.sentAt].map(([id, t]) => {
      const c = clients.find((x) => x.firstSeen.has(id)) as SeqClient
      return (c.firstSeen.get(id) as number) - t
    })
    figure(
      'slow link + cut',
      `${sender.total} sent, 0 lost, ${raw() - rawBefore - (unique() - uniqueBefore)} duplicates, ${cut} connections cut, p99 ${percentile(lat, 99)} ms, ${proxy.connections} proxied connections made`,
    )
    expect(raw() - rawBefore).toBe(unique() - uniqueBefore)
    expect(cut).toBeGreaterThan(0)
  })

  it('Redis stalled (SIGSTOP 5 s, then SIGCONT): every message answered 202 arrives, 0 duplicated', async () => {
    const sender = new SeqSender(stack)
    const rawBefore = raw()
    const uniqueBefore = unique()
    let running = true
    const slowest: number[] = []
    const load = Promise.all(
      Array.from({ length: 3 }, async (_, k) => {
        for (let i = k; running; i += 3) {
          const t = Date.now()
          await sender.send((users[i % users.length] as LoggedIn).user.id, 'stall')
          slowest.push(Date.now() - t)
          await sleep(20)
        }
      }),
    )
    await sleep(1000)
    stack.redis.process.kill('SIGSTOP')
    await sleep(5000)
    stack.redis.process.kill('SIGCONT')
    await sleep(2000)
    running = false
    await load
    await until(() => missing(sender) === 0, 30_000, `every message (missing ${missing(sender)})`)
    await sleep(500)
    figure(
      'redis SIGSTOP 5 s',
      `${sender.total} answered 202, ${sender.errors} refused, 0 lost, ${raw() - rawBefore - (unique() - uniqueBefore)} duplicates, slowest POST ${Math.max(...slowest)} ms`,
    )
    expect(raw() - rawBefore).toBe(unique() - uniqueBefore)
    expect(sender.total).toBeGreaterThan(0)
  })
})
