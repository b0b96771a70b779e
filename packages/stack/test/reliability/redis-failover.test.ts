import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { api, type LoggedIn, login } from '../client'
import { e2eStack } from '../e2e/helpers'
import { SeqSender } from '../support/load'
import { SeqClient } from '../support/seq-client'
import { figure, param, pool, sleep, until } from '../support/soak'

const USERS = param('FAILOVER_USERS', 30, 200)
const RATE = param('FAILOVER_RATE', 200, 200)
const SECONDS = param('FAILOVER_SECONDS', 8, 30)

/** Every message id in the user's inbox, newest first, paged through GET /inbox. */
async function inboxIds(stack: Stack, token: string): Promise<Set<string>> {
  const ids = new Set<string>()
  let before: string | null = null
  for (let page = 0; page < 100; page++) {
    const q: string = before ? `?limit=100&before=${before}` : '?limit=100'
    // right after a failover a replica may still answer 503 for a moment: read again, bounded
    let res = await api<{ items: { id: string }[]; nextBefore: string | null }>(stack.url, 'GET', `/inbox${q}`, {
      token,
    })
    for (let tries = 0; res.status === 503 && tries < 60; tries++) {
      await sleep(500)
      res = await api(stack.url, 'GET', `/inbox${q}`, { token })
    }
    if (res.status !== 200) throw new Error(`GET /inbox → ${res.status}`)
    for (const it of res.body.items) ids.add(it.id)
    before = res.body.nextBefore
    if (!before) break
  }
  return ids
}

/**
 * Sends RATE messages per second to random users for SECONDS, calling `fault` after a third
 * of the time. Returns the longest stretch with no acknowledged POST around the fault: the
 * write outage as a calling system sees it.
 */
async function sendThrough(sender: SeqSender, users: LoggedIn[], fault: () => Promise<void>): Promise<number> {
  const acks: number[] = []
  const total = RATE * SECONDS
  const t0 = Date.now()
  let faulted: Promise<void> | null = null
  await pool(
    Array.from({ length: total }, (_, i) => i),
    32,
    async (i) => {
      // open loop: message i leaves at its time, whatever the previous ones did
      const due = t0 + (i * 1000) / RATE
      const wait = due - Date.now()
      if (wait > 0) await sleep(wait)
      if (!faulted && Date.now() - t0 > (SECONDS * 1000) / 3) faulted = fault()
      const u = users[i % users.length] as LoggedIn
      if (await sender.send(u.user.id, 'f')) acks.push(Date.now())
    },
  )
  await faulted
  acks.sort((a, b) => a - b)
  let gap = 0
  for (let i = 1; i < acks.length; i++) gap = Math.max(gap, (acks[i] as number) - (acks[i - 1] as number))
  return gap
}

describe.each(['sentinel', 'cluster'] as const)('kill -9 of the Redis primary (%s) under load', (mode) => {
  let stack: Stack
  const open: SeqClient[] = []

  beforeAll(async () => {
    stack = await e2eStack({ redis: mode })
  }, 120_000)
  afterAll(async () => {
    for (const c of open) c.stop()
    await stack?.stop()
  })

  it(`${RATE} msg/s to ${USERS} users: 0 acknowledged messages missing from inboxes, 0 missing on clients after their resume; the write outage measured`, async () => {
    const users = await pool(
      Array.from({ length: USERS }, (_, i) => i),
      8,
      () => login(stack.url),
    )
    const clients = await pool(users, 8, async (u) => {
      const c = new SeqClient({
        base: stack.url,
        wsUrl: stack.wsUrl,
        token: u.token,
        backoffMaxMs: 2000,
        maxAttempts: 200,
      })
      open.push(c)
      await c.start()
      return c
    })
    const sender = new SeqSender(stack)
    let killed = 0
    const outage = await sendThrough(sender, users, async () => {
      const t = stack.topology
      if (t.mode === 'sentinel') killed = await t.sentinel.killPrimary()
      else if (t.mode === 'cluster') killed = await t.cluster.killPrimaryOf(0)
    })
    expect(killed).toBeGreaterThan(0)

    const expectedTotal = users.reduce((n, u) => n + sender.expected(u.user.id).length, 0)
    const missingOnClients = () =>
      users.reduce((n, u, i) => n + sender.expected(u.user.id).filter((id) => !clients[i]?.firstSeen.has(id)).length, 0)
    await until(() => missingOnClients() === 0, 60_000, `clients caught up (${missingOnClients()} missing)`).catch(
      () => {},
    )
    const lostOnClients = missingOnClients()
    let lostInInbox = 0
    for (const u of users) {
      const inbox = await inboxIds(stack, u.token)
      lostInInbox += sender.expected(u.user.id).filter((id) => !inbox.has(id)).length
    }
    const dupes = clients.reduce((n, c) => n + (c.rawMessages - c.received.length), 0)
    figure(
      `redis ${mode} primary kill -9`,
      `${expectedTotal} acknowledged of ${RATE * SECONDS} sent (${sender.errors} refused during the failover), write outage ${outage} ms, ${lostInInbox} missing from inboxes, ${lostOnClients} missing on clients, ${dupes} duplicate frames dropped by id`,
    )
    expect(lostInInbox).toBe(0)
    expect(lostOnClients).toBe(0)
  }, 180_000)
})
