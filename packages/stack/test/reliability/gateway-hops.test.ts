import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../src/stack'
import { type Frame, login } from '../client'
import { e2eStack } from '../e2e/helpers'
import { SeqSender } from '../support/load'
import { SeqClient } from '../support/seq-client'
import { figure, param, pool, sleep, until } from '../support/soak'

const USERS = param('HOP_USERS', 200, 1000)
const RATE = param('HOP_RATE', 200, 500)
const SECONDS = param('HOP_SECONDS', 10, 30)

let stack: Stack
const open: SeqClient[] = []

beforeAll(async () => {
  stack = await e2eStack()
}, 120_000)
afterAll(async () => {
  for (const c of open) c.stop()
  await stack?.stop()
})

describe('the seam between replay and live delivery', () => {
  it(`${USERS} users hop to a random gateway about every second while ${RATE} msg/s are written: every user's sequence complete, no frame twice on any socket`, async () => {
    const users = await pool(
      Array.from({ length: USERS }, (_, i) => i),
      8,
      () => login(stack.url),
    )
    // per socket: the ids it carried, to catch a frame sent twice on one connection (replay AND live)
    let dupOnSocket = 0
    const clients = await pool(users, 8, async (u) => {
      let seen = new Set<string>()
      let socket: unknown = null
      const c: SeqClient = new SeqClient({
        base: stack.url,
        wsUrl: stack.wsUrl,
        token: u.token,
        backoffBaseMs: 100,
        backoffMaxMs: 1000,
        maxAttempts: 100,
        onMessage: (f: Frame) => {
          if (c.ws !== socket) {
            socket = c.ws
            seen = new Set()
          }
          const id = f.id as string
          if (seen.has(id)) dupOnSocket++
          seen.add(id)
        },
      })
      open.push(c)
      await c.start()
      return c
    })

    const sender = new SeqSender(stack)
    const t0 = Date.now()
    const end = t0 + SECONDS * 1000
    let hops = 0
    // each client closes its socket at a random moment of every second; it resumes with since
    const hopping = Promise.all(
      clients.map(async (c) => {
        while (Date.now() < end) {
          await sleep(500 + Math.random() * 1000)
          if (Date.now() >= end) break
          if (c.open) {
            hops++
            c.ws?.close()
          }
        }
      }),
    )
    const total = RATE * SECONDS
    await pool(
      Array.from({ length: total }, (_, i) => i),
      32,
      async (i) => {
        const wait = t0 + (i * 1000) / RATE - Date.now()
        if (wait > 0) await sleep(wait)
        await sender.send((users[Math.floor(Math.random() * users.length)] as (typeof users)[number]).user.id, 'h')
      },
    )
    await hopping

    const missing = () =>
      users.reduce((n, u, i) => n + sender.expected(u.user.id).filter((id) => !clients[i]?.firstSeen.has(id)).length, 0)
    await until(() => missing() === 0, 30_000, `all messages (${missing()} missing)`).catch(() => {})
    await sleep(500)
    const delivered = clients.reduce((n, c) => n + c.received.length, 0)
    const raw = clients.reduce((n, c) => n + c.rawMessages, 0)
    const replicas = new Set(clients.flatMap((c) => c.welcomes.map((w) => w.frame.replica as string)))
    // per user: the seq numbers received, each once, none missing
    let outOfSeq = 0
    users.forEach((u, i) => {
      const seqs = (clients[i] as SeqClient).received.map((f) => (f.data as { seq: number }).seq).sort((a, b) => a - b)
      const want = sender.expected(u.user.id).length
      if (seqs.length !== want || seqs.some((s, k) => s !== k + 1)) outOfSeq++
    })
    figure(
      'gateway hops',
      `${USERS} users, ${hops} hops over ${replicas.size} gateways, ${sender.total} acknowledged (${sender.errors} refused), ${delivered} delivered, ${missing()} missing, ${raw - delivered} duplicate frames (${dupOnSocket} on one socket), ${outOfSeq} users with a broken sequence`,
    )
    expect(sender.errors).toBe(0)
    expect(missing()).toBe(0)
    expect(dupOnSocket).toBe(0)
    expect(raw).toBe(delivered)
    expect(outOfSeq).toBe(0)
    expect(replicas.size).toBe(3)
  }, 240_000)
})
