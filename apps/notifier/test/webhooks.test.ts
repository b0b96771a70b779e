import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness } from './helpers'

let h: Harness
afterEach(() => h?.close())

const SCOPE = 'webhooks:write'
const LOCAL = { WEBHOOK_ALLOW_PRIVATE: true, WEBHOOK_ALLOW_HTTP: true }

function as(sub: string, scope = SCOPE) {
  return { authorization: `Bearer ${h.token(scope, { sub })}` }
}

async function create(body: object, sub = 'billing') {
  return h.app.inject({ method: 'POST', url: '/v1/webhooks', headers: as(sub), payload: body })
}

describe('/v1/webhooks', () => {
  it('registers an endpoint, shows its secret once, lists, reads and removes it', async () => {
    h = await harness(LOCAL)
    const res = await create({ url: 'http://127.0.0.1:9/hooks', events: ['message.delivered', 'event.failed'] })
    expect(res.statusCode).toBe(201)
    const created = res.json()
    expect(created).toMatchObject({
      url: 'http://127.0.0.1:9/hooks',
      events: ['message.delivered', 'event.failed'],
      description: '',
      status: 'enabled',
      failureStreak: 0,
    })
    expect(created.id).toMatch(/^wh_/)
    expect(created.secret).toMatch(/^whsec_/)

    const list = await h.app.inject({ url: '/v1/webhooks', headers: as('billing') })
    expect(list.statusCode).toBe(200)
    expect(list.json().items).toHaveLength(1)
    expect(list.body).not.toContain(created.secret)
    const one = await h.app.inject({ url: `/v1/webhooks/${created.id}`, headers: as('billing') })
    expect(one.json()).toEqual(list.json().items[0])
    const log = await h.app.inject({ url: `/v1/webhooks/${created.id}/deliveries`, headers: as('billing') })
    expect(log.json()).toEqual({ items: [] })

    const del = await h.app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}`, headers: as('billing') })
    expect(del.statusCode).toBe(204)
    expect((await h.app.inject({ url: '/v1/webhooks', headers: as('billing') })).json()).toEqual({ items: [] })
    const again = await h.app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}`, headers: as('billing') })
    expect(again.statusCode).toBe(404)
  })

  it('hides one system’s endpoints from another: 404, and an empty list', async () => {
    h = await harness(LOCAL)
    const { id } = (await create({ url: 'http://127.0.0.1:9/h', events: ['message.read'] })).json()
    for (const [method, url] of [
      ['GET', `/v1/webhooks/${id}`],
      ['DELETE', `/v1/webhooks/${id}`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
    ] as const) {
      const res = await h.app.inject({ method, url, headers: as('shop') })
      expect(res.statusCode, `${method} ${url}`).toBe(404)
      expect(res.json().code).toBe('NOT_FOUND')
    }
    expect((await h.app.inject({ url: '/v1/webhooks', headers: as('shop') })).json()).toEqual({ items: [] })
    expect((await h.app.inject({ url: `/v1/webhooks/${id}`, headers: as('billing') })).statusCode).toBe(200)
  })

  it('needs the webhooks:write scope', async () => {
    h = await harness(LOCAL)
    const res = await h.app.inject({ url: '/v1/webhooks', headers: as('billing', 'events:write messages:write') })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('INSUFFICIENT_SCOPE')
    expect((await h.app.inject({ url: '/v1/webhooks' })).statusCode).toBe(401)
  })

  it('bounds every list and field with a 400 and a code', async () => {
    h = await harness({ ...LOCAL, WEBHOOK_MAX_ENDPOINTS: 2 })
    const bad = async (body: object) => {
      const res = await create(body)
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400)
      return res.json().code as string
    }
    const url = 'http://127.0.0.1:9/h'
    expect(await bad({ url: `http://127.0.0.1:9/${'a'.repeat(2048)}`, events: ['message.read'] })).toBe(
      'VALIDATION_ERROR',
    )
    expect(await bad({ url, events: [] })).toBe('VALIDATION_ERROR')
    expect(await bad({ url, events: ['message.read', 'message.read'] })).toBe('VALIDATION_ERROR')
    expect(await bad({ url, events: ['user.deleted'] })).toBe('VALIDATION_ERROR')
    expect(await bad({ url, events: ['message.read'], description: 'x'.repeat(201) })).toBe('VALIDATION_ERROR')
    expect(await bad({ url, events: ['message.read'], secret: 'mine' })).toBe('VALIDATION_ERROR')
    expect(await bad({ url: 'not a url', events: ['message.read'] })).toBe('INVALID_WEBHOOK_URL')
    expect((await create({ url, events: ['message.read'] })).statusCode).toBe(201)
    expect((await create({ url, events: ['message.read'] })).statusCode).toBe(201)
    expect(await bad({ url, events: ['message.read'] })).toBe('TOO_MANY_WEBHOOKS')
    // the bound is per calling system
    expect((await create({ url, events: ['message.read'] }, 'shop')).statusCode).toBe(201)
    const { id } = (await h.app.inject({ url: '/v1/webhooks', headers: as('billing') })).json().items[0]
    const page = await h.app.inject({ url: `/v1/webhooks/${id}/deliveries?limit=101`, headers: as('billing') })
    expect(page.statusCode).toBe(400)
    expect(page.json().code).toBe('VALIDATION_ERROR')
    const badId = await h.app.inject({ url: '/v1/webhooks/nope', headers: as('billing') })
    expect(badId.statusCode).toBe(400)
  })

  it('refuses http, loopback, private and link-local targets by default (SSRF)', async () => {
    h = await harness()
    for (const url of [
      'http://hooks.example.com/h',
      'https://127.0.0.1/h',
      'https://localhost/h',
      'https://10.0.0.5/h',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/h',
      'https://[fd00::1]/h',
      'https://[::ffff:192.168.0.1]/h',
      'https://user:pw@hooks.example.com/h',
    ]) {
      const res = await create({ url, events: ['message.read'] })
      expect(res.statusCode, url).toBe(400)
      expect(res.json().code, url).toBe('INVALID_WEBHOOK_URL')
    }
    // an allowed range lets an internal receiver in
    await h.close()
    h = await harness({ WEBHOOK_ALLOWED_CIDRS: '10.20.0.0/16' })
    expect((await create({ url: 'https://10.20.3.4/h', events: ['message.read'] })).statusCode).toBe(201)
    expect((await create({ url: 'https://10.21.3.4/h', events: ['message.read'] })).statusCode).toBe(400)
  })

  it('is in the OpenAPI document', async () => {
    h = await harness()
    const doc = (await h.app.inject({ url: '/docs/json' })).json()
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/deliveries']),
    )
    expect(doc.paths['/v1/webhooks'].post.responses['201']).toBeDefined()
  })
})
