import SwaggerParser from '@apidevtools/swagger-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCS_CSP } from '../src/plugins/openapi'
import { type Harness, harness } from './helpers'

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.close())

describe('/docs', () => {
  it('serves an OpenAPI 3 document with every /v1 and /inbox route, bearer security and examples', async () => {
    const res = await h.app.inject('/docs/json')
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/)
    expect(doc.info.title).toBeTruthy()
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/inbox',
      '/inbox/counts',
      '/inbox/preferences',
      '/inbox/push-subscriptions',
      '/inbox/push-subscriptions/key',
      '/inbox/read',
      '/inbox/state',
      '/inbox/{id}',
      '/v1/events',
      '/v1/events/{id}',
      '/v1/messages',
      '/v1/messages/{id}',
      '/v1/stats',
      '/v1/users/{id}/disconnect',
      '/v1/users/{id}/presence',
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/deliveries',
      '/v1/webhooks/{id}/enable',
    ])
    expect(doc.components.securitySchemes.serviceToken).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    )
    const post = doc.paths['/v1/events'].post
    expect(post.security).toEqual([{ serviceToken: [] }])
    expect(post.tags).toEqual(['events'])
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '403', '422', '503']),
    )
    const body = post.requestBody.content['application/json']
    expect(JSON.stringify(body)).toContain('order.shipped')
    expect(doc.components.schemas['EventData.order.shipped'].properties.userId).toBeTruthy()
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(1)
      }
    }
    // what herald POSTs to a webhook endpoint, per event type: the envelope with its typed data
    expect(Object.keys(doc.webhooks).sort()).toEqual([
      'event.failed',
      'message.delivered',
      'message.read',
      'user.offline',
      'user.online',
    ])
    const delivered = doc.webhooks['message.delivered'].post
    expect(delivered.requestBody.content['application/json'].schema.properties.data.required).toEqual(
      expect.arrayContaining(['messageId', 'userId', 'deliveredAt']),
    )
    expect(delivered.parameters.map((p: { name: string }) => p.name)).toContain('webhook-signature')
    // a full OpenAPI 3.1 validation (schema + semantics), on a copy: validate() dereferences in place
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy()
    // no hidden health routes
    expect(doc.paths['/healthz']).toBeUndefined()
  })

  it('serves the documentation page without a token', async () => {
    const res = await h.app.inject('/docs/')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('text/html')
  })

  it('/docs and its assets carry the docs CSP (same origin only, never framed); the API the strict one', async () => {
    for (const url of ['/docs/', '/docs/static/swagger-initializer.js', '/docs/json']) {
      const res = await h.app.inject(url)
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-security-policy'], url).toBe(DOCS_CSP)
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['x-frame-options']).toBe('DENY')
    }
    const api = await h.app.inject({ url: '/v1/events/x', headers: h.auth() })
    expect(api.headers['content-security-policy']).toMatch(/^default-src 'none'/)
    expect(api.headers['referrer-policy']).toBe('no-referrer')
  })
})
