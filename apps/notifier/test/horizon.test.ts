import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness } from './helpers'

let h: Harness
afterEach(() => h?.close())

const DAY = 86_400_000
const event = (id: string, deliverAt: string) => ({
  id,
  type: 'order.shipped',
  data: { userId: 'u1', orderId: 'o1' },
  deliverAt,
})
const message = (deliverAt: string) => ({ to: { userIds: ['u1'] }, title: 't', body: 'b', deliverAt })

describe('deliverAt horizon', () => {
  it('refuses deliverAt past 30 days with 400 DELIVER_AT_TOO_FAR on /v1/events and /v1/messages, and keeps nothing', async () => {
    h = await harness()
    for (const deliverAt of ['9999-12-31T00:00:00Z', new Date(Date.now() + 31 * DAY).toISOString()]) {
      const e = await h.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: h.auth(),
        payload: event('far', deliverAt),
      })
      expect(e.statusCode).toBe(400)
      expect(e.json()).toMatchObject({ code: 'DELIVER_AT_TOO_FAR' })
      expect(e.json().message).toMatch(/30 days.*DELIVER_AT_MAX_SECONDS/)
      const m = await h.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: h.auth(),
        payload: message(deliverAt),
      })
      expect(m.statusCode).toBe(400)
      expect(m.json()).toMatchObject({ code: 'DELIVER_AT_TOO_FAR' })
    }
    expect((await h.app.inject({ url: '/v1/events/far', headers: h.auth() })).statusCode).toBe(404)
    expect(await h.redis.keys(`${h.config.KEY_PREFIX}*`)).not.toContain(h.keys.eventOf('test-system', 'far'))
  })

  it('accepts deliverAt within the horizon, and the horizon is configurable', async () => {
    h = await harness({ DELIVER_AT_MAX_SECONDS: 3600 })
    const soon = new Date(Date.now() + 30 * 60_000).toISOString()
    const ok = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: event('soon', soon),
    })
    expect(ok.statusCode).toBe(202)
    expect(ok.json().status).toBe('delayed')
    const late = new Date(Date.now() + 2 * 3600_000).toISOString()
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: event('late', late),
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/1 h ahead \(DELIVER_AT_MAX_SECONDS = 3600\)/)
  })
})
