import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CloseCode, createClient } from '../src/index'
import { type FakeHerald, sleep, startFakeHerald, until } from './fake-server'
import { type Recorded, recordedClient, transitions } from './helpers'

let fake: FakeHerald
let rec: Recorded | undefined
beforeEach(async () => {
  fake = await startFakeHerald()
})
afterEach(async () => {
  rec?.client.stop()
  rec = undefined
  await fake.close()
})

describe('connecting', () => {
  it('gets a ticket with the session token, connects and reports the replica from welcome', async () => {
    rec = recordedClient(fake)
    expect(rec.client.status).toBe('idle')
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    expect(fake.ticketRequests[0]?.authorization).toBe('Bearer token-1')
    expect(fake.connections[0]?.since).toBeUndefined()
    expect(rec.client.replica).toBe('gateway-1')
    expect(rec.client.userId).toBe('u1')
    expect(transitions(rec)).toEqual(['idle→connecting', 'connecting→connected'])
    expect(rec.events.connected?.[0]).toMatchObject({ replica: 'gateway-1', resumed: false })
  })

  it('emits each message in order and returns an unsubscribe from on()', async () => {
    rec = recordedClient(fake)
    const titles: string[] = []
    const off = rec.client.on('message', (m) => titles.push(m.title))
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    fake.publish()
    fake.publish()
    await until(() => titles.length === 2, 'two messages')
    off()
    fake.publish()
    await until(() => rec?.messages.length === 3, 'third message')
    expect(titles).toEqual(['message 1', 'message 2'])
    expect(rec.messages[0]).not.toHaveProperty('type')
    expect(rec.messages[0]).toMatchObject({ id: 'm-1', cursor: fake.messages[0]?.cursor })
  })

  it('retries a failing ticket endpoint with backoff, then connects', async () => {
    fake.failTickets = 3
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    expect(fake.ticketRequests).toHaveLength(4)
    expect(rec.events.error?.map((e) => e.code)).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE'])
    expect(transitions(rec)).toEqual(['idle→connecting', 'connecting→reconnecting', 'reconnecting→connected'])
  })

  it('abandons a socket that never says welcome and tries again', async () => {
    fake.silentSockets = 1
    rec = recordedClient(fake, { connectTimeout: 200 })
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    expect(fake.connections).toHaveLength(2)
    await until(() => fake.connections[0]?.closed === true, 'silent socket closed')
  })

  it('reconnects after any close with backoff, to any replica', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    const t0 = Date.now()
    fake.connections[0]?.ws.terminate()
    await until(() => rec?.client.status === 'reconnecting', 'reconnecting')
    expect(rec.client.replica).toBeNull()
    await until(() => rec?.client.status === 'connected', 'connected again')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20)
    expect(rec.client.replica).toBe('gateway-2')
    expect(rec.statuses.find((s) => s.newState === 'reconnecting')?.code).toBe(CloseCode.ABNORMAL)
    expect(transitions(rec)).toEqual([
      'idle→connecting',
      'connecting→connected',
      'connected→reconnecting',
      'reconnecting→connected',
    ])
  })

  it('reconnects at once (within the first jitter window) when a replica restarts with 1012', async () => {
    rec = recordedClient(fake, { minReconnectDelay: 50, maxReconnectDelay: 5000 })
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    // make the exponential backoff large: only the 1012 rule can bring it back quickly
    for (let i = 0; i < 3; i++) {
      fake.failTickets = 1
      fake.live()[0]?.ws.close(CloseCode.SERVICE_RESTART, 'restart')
      await until(() => rec?.client.status === 'reconnecting', 'reconnecting')
      const t0 = Date.now()
      await until(() => rec?.client.status === 'connected', 'connected again', 3000)
      // one failed ticket after the 1012 costs a backoff(0) ≤ 100 ms; the 1012 itself < 50 ms
      expect(Date.now() - t0).toBeLessThan(400)
    }
  })

  it('throws a clear error when there is no WebSocket to use', async () => {
    const client = createClient({ baseUrl: fake.url, getToken: () => 'token-1', minReconnectDelay: 10 })
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    const g = globalThis as { WebSocket?: unknown }
    const saved = g.WebSocket
    g.WebSocket = undefined
    try {
      client.connect()
      await until(() => errors.includes('WEBSOCKET'), 'WEBSOCKET error')
    } finally {
      client.stop()
      g.WebSocket = saved
    }
  })
})

describe('stop()', () => {
  it('closes the socket with 1000 and emits stopped', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    rec.client.stop()
    await until(() => fake.connections[0]?.closeCode === 1000, 'closed 1000')
    expect(rec.client.status).toBe('stopped')
    expect(rec.statuses.at(-1)).toEqual({ newState: 'stopped', oldState: 'connected' })
  })

  it('while the WebSocket is still connecting: it is abandoned without an uncaught error', async () => {
    fake.stallWebSockets = true
    rec = recordedClient(fake, { transport: 'websocket' })
    rec.client.connect()
    await until(() => fake.stalledUpgrades === 1, 'the upgrade request')
    rec.client.stop()
    // the ws package emits an error for a socket closed before it opened, and throws it if unheard
    await sleep(100)
    expect(rec.client.status).toBe('stopped')
  })

  it('cancels a pending reconnect: nothing more happens after it', async () => {
    fake.failTickets = 1000
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => fake.ticketRequests.length >= 2, 'two ticket attempts')
    rec.client.stop()
    const n = fake.ticketRequests.length
    await sleep(600) // three times the longest backoff
    expect(fake.ticketRequests).toHaveLength(n)
    expect(fake.connections).toHaveLength(0)
    expect(rec.client.status).toBe('stopped')
  })

  it('while a ticket is on its way: the socket is never opened', async () => {
    rec = recordedClient(fake, {
      getToken: async () => {
        await sleep(50)
        return 'token-1'
      },
    })
    rec.client.connect()
    rec.client.stop()
    await sleep(200)
    expect(fake.ticketRequests).toHaveLength(0)
    expect(fake.connections).toHaveLength(0)
  })

  it('can be connected again afterwards, resuming where it left off', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    const m = fake.publish()
    await until(() => rec?.messages.length === 1, 'message')
    rec.client.stop()
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected again')
    expect(fake.connections[1]?.since).toBe(m.cursor)
  })
})
