import { LoginBody, PatchMeBody, SendCodeBody } from '@herald/contracts'
import { pathSegment, schemaArbitrary } from '@herald/test-utils/fuzz'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { bearer, harness, signIn } from './helpers'

/** Property-based fuzzing of every route's input, built from its schema: never a 5xx. */
const h = harness()
const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 300)
const statuses = new Map<number, number>()
afterAll(() => {
  console.log(`[figure] auth fuzz: ${[...statuses].map(([k, v]) => `${k}×${v}`).join(' ')}`)
})

type App = ReturnType<typeof h.make>['app']
async function noServerError(
  app: App,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: string,
  headers: Record<string, string> = {},
) {
  const res = await app.inject({
    method,
    url,
    headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload }),
    remoteAddress: `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
  })
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
  if (res.statusCode >= 500)
    throw new Error(`${method} ${url} ${payload?.slice(0, 300)} → ${res.statusCode} ${res.body}`)
  expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/)
}

const json = (v: unknown) => JSON.stringify(v) ?? 'null'

describe('auth fuzzing (fast-check, from the route schemas): never a 5xx', () => {
  it('POST /auth/code and POST /auth/login', async () => {
    const { app } = h.make({ LOG_LEVEL: 'silent' })
    await fc.assert(
      fc.asyncProperty(schemaArbitrary(SendCodeBody), (b) => noServerError(app, 'POST', '/auth/code', json(b))),
      { numRuns: RUNS },
    )
    await fc.assert(
      fc.asyncProperty(schemaArbitrary(LoginBody), (b) => noServerError(app, 'POST', '/auth/login', json(b))),
      { numRuns: RUNS },
    )
  })

  it('PATCH /auth/me, DELETE /auth/sessions/:id, GET /auth/dev/sms/:phone and the bodiless routes, with a real session', async () => {
    const { app } = h.make({ LOG_LEVEL: 'silent' })
    const { token } = await signIn(app)
    const auth = bearer(token)
    await fc.assert(
      fc.asyncProperty(schemaArbitrary(PatchMeBody), (b) => noServerError(app, 'PATCH', '/auth/me', json(b), auth)),
      { numRuns: RUNS },
    )
    await fc.assert(
      fc.asyncProperty(pathSegment, async (seg) => {
        await noServerError(app, 'DELETE', `/auth/sessions/${seg}`, undefined, auth)
        await noServerError(app, 'GET', `/auth/dev/sms/${seg}`)
      }),
      { numRuns: RUNS },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/auth/ws-ticket', '/auth/code', '/auth/login', '/auth/logout'),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.oneof(fc.string({ maxLength: 80 }), fc.constant(`Bearer ${token}x`), fc.constant('Bearer ')),
        (url, raw, authorization) => noServerError(app, 'POST', url, raw, { authorization }),
      ),
      { numRuns: RUNS },
    )
  })
})
