import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../src/index'
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

describe('session end and ticket refresh', () => {
  it('4409: stops for good with status ended and tells the app', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    fake.connections[0]?.ws.close(CloseCode.SESSION_ENDED, 'logout')
    await until(() => rec?.client.status === 'ended', 'ended')
    expect(rec.statuses.at(-1)).toEqual({ newState: 'ended', oldState: 'connected', code: 4409, reason: 'logout' })
    expect(rec.authErrors).toEqual([{ status: 4409, message: 'logout' }])
    await sleep(500)
    expect(fake.connections).toHaveLength(1)
    expect(fake.ticketRequests).toHaveLength(1)
  })

  it('4401: gets a new token and ticket at once, without backoff, and connects', async () => {
    fake.refuseTickets = 1
    rec = recordedClient(fake, { minReconnectDelay: 5000, maxReconnectDelay: 10_000 })
    const t0 = Date.now()
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(rec.tokenCalls).toBe(2)
    expect(fake.ticketRequests).toHaveLength(2)
    expect(rec.authErrors).toEqual([])
    expect(transitions(rec)).toEqual(['idle→connecting', 'connecting→reconnecting', 'reconnecting→connected'])
  })

  it('4401 after a welcome (e.g. the session expired on the server) is refreshed the same way', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    fake.connections[0]?.ws.close(CloseCode.UNAUTHORIZED, 'session expired')
    await until(() => fake.connections.length === 2 && rec?.client.status === 'connected', 'reconnected')
    expect(rec.tokenCalls).toBe(2)
  })

  it('4401 twice in a row: the session is invalid → ended', async () => {
    fake.refuseTickets = 2
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'ended', 'ended')
    expect(fake.connections).toHaveLength(2)
    expect(rec.authErrors).toEqual([{ status: 4401, message: 'invalid ticket' }])
  })

  it('401 on the ticket: no socket at all, ended, onAuthError', async () => {
    fake.tokens.clear()
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'ended', 'ended')
    expect(fake.connections).toHaveLength(0)
    expect(rec.authErrors).toEqual([{ status: 401, message: 'invalid session' }])
    await sleep(300)
    expect(fake.ticketRequests).toHaveLength(1)
  })

  it('a token revoked while reconnecting ends at the next ticket', async () => {
    rec = recordedClient(fake)
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
    fake.tokens.clear()
    fake.connections[0]?.ws.terminate()
    await until(() => rec?.client.status === 'ended', 'ended')
    expect(transitions(rec).slice(-2)).toEqual(['connected→reconnecting', 'reconnecting→ended'])
  })

  it('no token (signed out): ended without calling the server', async () => {
    rec = recordedClient(fake, { getToken: () => null })
    rec.client.connect()
    await until(() => rec?.client.status === 'ended', 'ended')
    expect(fake.ticketRequests).toHaveLength(0)
  })

  it('connect() after ended starts again with the token the app now has', async () => {
    let token = 'old'
    rec = recordedClient(fake, { getToken: () => token })
    rec.client.connect()
    await until(() => rec?.client.status === 'ended', 'ended')
    token = 'token-1'
    rec.client.connect()
    await until(() => rec?.client.status === 'connected', 'connected')
  })
})
