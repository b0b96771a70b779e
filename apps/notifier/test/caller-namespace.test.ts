import { waitFor } from '@herald/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness, inboxIds } from './helpers'

let h: Harness
afterEach(() => h?.close())

const as = (sub: string) => ({ authorization: `Bearer ${h.token('events:write messages:write', { sub })}` })
const order = (id: string, carrier: string) => ({
  id,
  type: 'order.shipped',
  data: { userId: 'u1', orderId: '2002', carrier },
})

const post = (sub: string, id: string, carrier: string) =>
  h.app.inject({ method: 'POST', url: '/v1/events', headers: as(sub), payload: order(id, carrier) })

async function doneView(id: string, sub: string) {
  return waitFor(async () => {
    const r = await h.app.inject({ url: `/v1/events/${id}`, headers: as(sub) })
    return r.statusCode === 200 && r.json().status === 'done' ? r.json() : null
  })
}

describe('event ids are per calling system', () => {
  it("another system's event with the same id neither pre-empts nor answers for it: both are delivered", async () => {
    h = await harness()
    h.startWorker()
    // billing sends order-2002 first …
    const first = await post('billing', 'order-2002', 'UPS')
    expect(first.statusCode).toBe(202)
    // … shop's own order-2002 is a new event (202), not billing's "already done" (200)
    const second = await post('shop', 'order-2002', 'DHL')
    expect(second.statusCode).toBe(202)
    const billing = await doneView('order-2002', 'billing')
    const shop = await doneView('order-2002', 'shop')
    expect(billing.source).toBe('billing')
    expect(shop.source).toBe('shop')
    expect(shop.messageIds).toHaveLength(1)
    expect(shop.messageIds[0]).not.toBe(billing.messageIds[0])
    // the user got both messages: shop's was not dropped as a duplicate of billing's
    expect((await inboxIds(h.redis, h.keys, 'u1')).sort()).toEqual([...billing.messageIds, ...shop.messageIds].sort())
    // a repeat by shop is still idempotent within shop's namespace
    const again = await post('shop', 'order-2002', 'DHL')
    expect(again.statusCode).toBe(200)
  })

  it("GET /v1/events/:id of another system's event is 404 NOT_FOUND (no source, no message ids)", async () => {
    h = await harness()
    const sent = await post('shop', 'shop-order-1', 'DHL')
    expect(sent.statusCode).toBe(202)
    expect((await h.app.inject({ url: '/v1/events/shop-order-1', headers: as('shop') })).statusCode).toBe(200)
    const probe = await h.app.inject({ url: '/v1/events/shop-order-1', headers: as('billing') })
    expect(probe.statusCode).toBe(404)
    expect(probe.json()).toMatchObject({ code: 'NOT_FOUND' })
    expect(probe.json()).not.toHaveProperty('source')
    expect(probe.json()).not.toHaveProperty('messageIds')
  })
})
