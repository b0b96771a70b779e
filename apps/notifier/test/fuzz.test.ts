import { EventEnvelope, InboxQuery, InboxReadBody, SendMessageBody } from '@herald/contracts'
import { SessionStore } from '@herald/service-kit'
import { pathSegment, schemaArbitrary } from '@herald/test-utils/fuzz'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVENT_TYPES } from '../src/catalog'
import { type Harness, harness } from './helpers'

/** Property-based fuzzing of every route's input, built from its schema: never a 5xx. */
let h: Harness
let session: string
const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 300)
/** status → count, printed at the end: the fuzz must reach the handlers, not only the validator */
const statuses = new Map<number, number>()

beforeAll(async () => {
  h = await harness()
  const sessions = new SessionStore(h.redis, h.keys, {
    idleTtlSeconds: h.config.SESSION_IDLE_TTL_SECONDS,
    maxAgeSeconds: h.config.SESSION_MAX_AGE_SECONDS,
  })
  session = (await sessions.create({ userId: 'fuzz', nickname: 'F', phone: '+86138****0000', device: 'x' })).token
})
afterAll(async () => {
  console.log(`[figure] notifier fuzz: ${[...statuses].map(([k, v]) => `${k}×${v}`).join(' ')}`)
  await h?.close()
})

/** An event envelope whose `data` is shaped by one catalog type's schema (or not). */
const eventBody = fc.oneof(
  schemaArbitrary(EventEnvelope),
  fc.tuple(fc.constantFrom(...EVENT_TYPES), fc.string({ minLength: 1, maxLength: 20 })).chain(([def, id]) =>
    fc.record({
      id: fc.constant(`fz-${id}`),
      type: fc.constant(def.type),
      data: schemaArbitrary(def.schema),
      occurredAt: fc.option(schemaArbitrary({ type: 'string' }), { nil: undefined }),
      deliverAt: fc.option(
        fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
        {
          nil: undefined,
        },
      ),
    }),
  ),
)

async function noServerError(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body: unknown,
  auth: Record<string, string>,
) {
  const res = await h.app.inject({
    method,
    url,
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) ?? 'null' }),
  })
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
  if (res.statusCode >= 500)
    throw new Error(`${method} ${url} ${JSON.stringify(body)?.slice(0, 300)} → ${res.statusCode} ${res.body}`)
  // no internals leak on the way out either
  expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/)
}

describe('notifier fuzzing (fast-check, from the route schemas): never a 5xx', () => {
  it('POST /v1/events', async () => {
    await fc.assert(
      fc.asyncProperty(eventBody, (b) => noServerError('POST', '/v1/events', b, h.auth())),
      { numRuns: RUNS * 2 },
    )
  })

  it('POST /v1/messages', async () => {
    await fc.assert(
      fc.asyncProperty(schemaArbitrary(SendMessageBody), (b) => noServerError('POST', '/v1/messages', b, h.auth())),
      { numRuns: RUNS },
    )
  })

  it('POST /inbox/read and GET /inbox?…', async () => {
    const auth = { authorization: `Bearer ${session}` }
    await fc.assert(
      fc.asyncProperty(schemaArbitrary(InboxReadBody), (b) => noServerError('POST', '/inbox/read', b, auth)),
      { numRuns: RUNS },
    )
    await fc.assert(
      fc.asyncProperty(schemaArbitrary(InboxQuery), (q) => {
        const params = new URLSearchParams()
        if (q && typeof q === 'object' && !Array.isArray(q))
          for (const [k, v] of Object.entries(q)) params.set(k, typeof v === 'string' ? v : JSON.stringify(v))
        return noServerError('GET', `/inbox?${params}`, undefined, auth)
      }),
      { numRuns: RUNS },
    )
  })

  it('path parameters of every GET/POST/DELETE route', async () => {
    const routes: Array<['GET' | 'POST' | 'DELETE', (s: string) => string]> = [
      ['GET', (s) => `/v1/events/${s}`],
      ['DELETE', (s) => `/v1/events/${s}`],
      ['GET', (s) => `/v1/messages/${s}`],
      ['DELETE', (s) => `/v1/messages/${s}`],
      ['GET', (s) => `/v1/users/${s}/presence`],
      ['POST', (s) => `/v1/users/${s}/disconnect`],
    ]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), pathSegment, ([method, path], seg) =>
        noServerError(method, path(seg), method === 'POST' ? {} : undefined, h.auth()),
      ),
      { numRuns: RUNS },
    )
  })

  it('any bytes as a JSON body, any Authorization header', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/events', '/v1/messages', '/inbox/read'),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.oneof(
          fc.constant(h.auth().authorization),
          fc.string({ maxLength: 100 }).map((s) => `Bearer ${s}`),
        ),
        async (url, raw, authorization) => {
          const res = await h.app.inject({
            method: 'POST',
            url,
            headers: { authorization, 'content-type': 'application/json' },
            payload: raw,
          })
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
          expect(res.statusCode).toBeLessThan(500)
        },
      ),
      { numRuns: RUNS },
    )
  })
})
