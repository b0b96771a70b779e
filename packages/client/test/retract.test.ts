import { describe, expect, it } from 'vitest'
import { CloseCode } from '../src/index'
import { sleep, until } from './fake-server'
import { fakePerTest, type Recorded } from './helpers'

const t = fakePerTest()
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()
const connected = (rec: Recorded) => until(() => rec.client.status === 'connected', 'connected')

/** The client's `retract` event (a sender's retraction, or an expiry), on both transports. */
describe.each(['websocket', 'sse'] as const)('over %s', (transport) => {
  async function connectedClient(): Promise<Recorded> {
    const rec = t.record({ transport })
    rec.client.connect()
    await connected(rec)
    return rec
  }

  it('a retract frame emits retract with reason retracted, each id once', async () => {
    const r = await connectedClient()
    t.fake.publish()
    t.fake.publish()
    await until(() => r.messages.length === 2, 'two messages')
    t.fake.retract('m-1')
    await until(() => r.events.retract?.length === 1, 'retract event')
    expect(r.events.retract).toEqual([{ ids: ['m-1'], reason: 'retracted' }])
    t.fake.retract('m-1', 'm-2')
    await until(() => r.events.retract?.length === 2, 'second retract event')
    expect(r.events.retract?.[1]).toEqual({ ids: ['m-2'], reason: 'retracted' })
    expect((await r.client.inbox()).items).toEqual([])
  })

  it('a live message with expiresAt: message at once, retract (expired) when that time passes', async () => {
    const r = await connectedClient()
    const order: string[] = []
    r.client.on('message', (m) => order.push(`message ${m.id}`))
    r.client.on('retract', (e) => order.push(`${e.reason} ${e.ids.join()}`))
    const t0 = Date.now()
    const m = t.fake.publish({ expiresAt: inMs(300) })
    await until(() => r.messages.length === 1, 'message')
    expect(r.messages[0]?.expiresAt).toBe(m.expiresAt)
    t.fake.publish()
    await until(() => r.events.retract?.length === 1, 'retract event')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
    expect(order).toEqual(['message m-1', 'message m-2', 'expired m-1'])
  })

  it('a message already past its expiresAt on arrival: its message event, then retract at once', async () => {
    const r = await connectedClient()
    const order: string[] = []
    r.client.on('message', (m) => order.push(`message ${m.id}`))
    r.client.on('retract', (e) => order.push(`${e.reason} ${e.ids.join()}`))
    t.fake.publish({ expiresAt: inMs(-1000) })
    await until(() => order.length === 2, 'message and retract', 1000)
    expect(order).toEqual(['message m-1', 'expired m-1'])
  })

  it('a message retracted before its expiry is announced once, as retracted', async () => {
    const r = await connectedClient()
    t.fake.publish({ expiresAt: inMs(150) })
    await until(() => r.messages.length === 1, 'message')
    t.fake.retract('m-1')
    await until(() => r.events.retract?.length === 1, 'retract event')
    await sleep(300)
    expect(r.events.retract).toEqual([{ ids: ['m-1'], reason: 'retracted' }])
  })

  it('stop() cancels pending expiries: nothing is emitted after it', async () => {
    const r = await connectedClient()
    t.fake.publish({ expiresAt: inMs(150) })
    await until(() => r.messages.length === 1, 'message')
    r.client.stop()
    await sleep(300)
    expect(r.events.retract).toBeUndefined()
  })

  it('the end of the session (4409) cancels pending expiries too', async () => {
    const r = await connectedClient()
    t.fake.publish({ expiresAt: inMs(150) })
    await until(() => r.messages.length === 1, 'message')
    t.fake.live()[0]?.ws.close(CloseCode.SESSION_ENDED, 'logout')
    await until(() => r.client.status === 'ended', 'ended')
    await sleep(300)
    expect(r.events.retract).toBeUndefined()
  })
})

describe('inbox pages', () => {
  it('items of inbox() with expiresAt are watched: retract (expired) when their time passes', async () => {
    t.fake.publish({ expiresAt: inMs(200) })
    t.fake.publish()
    t.fake.publish({ expiresAt: inMs(30 * 86_400_000) })
    const rec = t.record()
    const page = await rec.client.inbox()
    expect(page.items.map((i) => [i.id, i.expiresAt !== undefined])).toEqual([
      ['m-3', true],
      ['m-2', false],
      ['m-1', true],
    ])
    await until(() => rec.events.retract?.length === 1, 'retract event')
    await sleep(100)
    expect(rec.events.retract).toEqual([{ ids: ['m-1'], reason: 'expired' }])
  })

  it('a message both listed and delivered live is announced once', async () => {
    const rec = t.record()
    rec.client.connect()
    await connected(rec)
    t.fake.publish({ expiresAt: inMs(200) })
    await until(() => rec.messages.length === 1, 'message')
    await rec.client.inbox()
    await until(() => rec.events.retract?.length === 1, 'retract event')
    await sleep(100)
    expect(rec.events.retract).toEqual([{ ids: ['m-1'], reason: 'expired' }])
  })

  it('a page that lands after stop() starts no timer', async () => {
    t.fake.publish({ expiresAt: inMs(100) })
    const rec = t.record()
    rec.client.connect()
    await connected(rec)
    rec.client.stop()
    await rec.client.inbox()
    await sleep(250)
    expect(rec.events.retract).toBeUndefined()
  })
})
