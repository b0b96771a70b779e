import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../src/index'
import type { ClientFrame } from '../src/types'
import { type FakeHerald, startFakeHerald, until } from './fake-server'
import { type Recorded, recordedClient } from './helpers'

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

const connected = () => until(() => rec?.client.status === 'connected', 'connected')
const acked = (frames: ClientFrame[]) => frames.filter((f) => f.type === 'ack').flatMap((f) => f.ids)

describe('the SSE fallback', () => {
  it('uses a WebSocket when it opens, and says so', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await connected()
    expect(rec.client.transport).toBe('websocket')
    expect(rec.events.connected?.[0]?.transport).toBe('websocket')
    expect(fake.connections.map((c) => c.transport)).toEqual(['websocket'])
  })

  it('falls back to SSE on its own when WebSockets are refused, and receives live messages', async () => {
    fake.blockWebSockets = true
    rec = recordedClient(fake)
    rec.client.connect()
    await connected()
    expect(rec.client.transport).toBe('sse')
    expect(rec.events.connected?.[0]?.transport).toBe('sse')
    const sse = fake.live()
    expect(sse.map((c) => c.transport)).toEqual(['sse'])
    fake.publish()
    fake.publish()
    await until(() => rec?.messages.length === 2, 'two messages')
    expect(rec.messages.map((m) => m.id)).toEqual(['m-1', 'm-2'])
    // one ticket for the refused WebSocket, one for the stream: nothing else
    expect(fake.ticketRequests).toHaveLength(2)
  })

  it('over SSE, acks go to POST /sse/frames, and a duplicate is dropped', async () => {
    rec = recordedClient(fake, { transport: 'sse' })
    rec.client.connect()
    await connected()
    const m = fake.publish()
    fake.sendRaw(m)
    await until(() => acked(fake.connections[0]?.frames ?? []).length === 2, 'both deliveries acked')
    expect(rec.messages.map((x) => x.id)).toEqual([m.id])
    expect(fake.connections.map((c) => c.transport)).toEqual(['sse'])
  })

  it('reads the close codes of the stream: 1012 reconnects at once, 4409 ends the session', async () => {
    rec = recordedClient(fake, { transport: 'sse' })
    rec.client.connect()
    await connected()
    fake.live()[0]?.ws.close(CloseCode.SERVICE_RESTART, 'restarting')
    await until(() => fake.live().length === 1 && fake.connections.length === 2, 'a second stream')
    await connected()
    expect(rec.statuses.some((s) => s.code === CloseCode.SERVICE_RESTART)).toBe(true)
    fake.live()[0]?.ws.close(CloseCode.SESSION_ENDED, 'logout')
    await until(() => rec?.client.status === 'ended', 'ended')
    expect(rec.authErrors).toEqual([{ status: CloseCode.SESSION_ENDED, message: 'logout' }])
  })

  it('a stream refused before it starts (401 on a spent ticket) is a 4401: a fresh ticket at once', async () => {
    fake.refuseTickets = 1
    rec = recordedClient(fake, { transport: 'sse' })
    rec.client.connect()
    await connected()
    expect(fake.connections).toHaveLength(2)
    expect(rec.statuses.some((s) => s.code === CloseCode.UNAUTHORIZED)).toBe(true)
    expect(rec.authErrors).toEqual([])
  })

  it('with transport: websocket never falls back', async () => {
    fake.blockWebSockets = true
    rec = recordedClient(fake, { transport: 'websocket' })
    rec.client.connect()
    await until(() => fake.ticketRequests.length >= 3, 'three attempts')
    expect(rec.client.transport).toBe('websocket')
    expect(fake.connections).toEqual([])
  })
})
