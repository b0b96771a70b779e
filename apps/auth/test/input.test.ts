import { waitFor } from '@herald/test-utils'
import { describe, expect, it } from 'vitest'
import { bearer, harness, PHONE, signIn } from './helpers'

const h = harness()

/** An app whose start-up writes (BullMQ's queue meta) are done, so any later key comes from a request. */
async function settled() {
  const t = h.make()
  await t.app.ready()
  await waitFor(() => h.check.exists(`${t.keys.bullPrefix()}:events:meta`))
  return t
}

const CLIENT_CODES = [
  'VALIDATION_ERROR',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'INVALID_PHONE',
]

interface BadRequest {
  name: string
  payload: string
  contentType?: string
  /** expected status; 400 unless said */
  status?: number
  code?: string
}

const json = (v: unknown) => JSON.stringify(v)
const huge = json({ phone: PHONE, pad: 'x'.repeat(70_000) })

const CODE_BODIES: BadRequest[] = [
  { name: 'phone as a number', payload: json({ phone: 8613812345678 }), code: 'VALIDATION_ERROR' },
  { name: 'phone missing', payload: json({}), code: 'VALIDATION_ERROR' },
  { name: 'phone null', payload: json({ phone: null }), code: 'VALIDATION_ERROR' },
  { name: 'phone as an array', payload: json({ phone: [PHONE] }), code: 'VALIDATION_ERROR' },
  { name: 'phone too long', payload: json({ phone: `+86${'1'.repeat(40)}` }), code: 'VALIDATION_ERROR' },
  { name: 'phone with control characters', payload: json({ phone: '+86138\u000012345678' }), code: 'INVALID_PHONE' },
  { name: 'unknown field', payload: json({ phone: PHONE, admin: true }), code: 'VALIDATION_ERROR' },
  { name: 'a JSON array', payload: json([PHONE]), code: 'VALIDATION_ERROR' },
  { name: 'a JSON string', payload: json(PHONE), code: 'VALIDATION_ERROR' },
  { name: 'JSON null', payload: 'null', code: 'VALIDATION_ERROR' },
  { name: 'truncated JSON', payload: '{"phone":"+86', code: 'INVALID_JSON' },
  { name: 'empty JSON body', payload: '', code: 'INVALID_JSON' },
  { name: '__proto__ key', payload: `{"phone":"${PHONE}","__proto__":{"admin":true}}` },
  { name: 'constructor.prototype key', payload: `{"phone":"${PHONE}","constructor":{"prototype":{"x":1}}}` },
  { name: 'a huge body', payload: huge, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'form-encoded', payload: `phone=${PHONE}`, contentType: 'application/x-www-form-urlencoded', status: 415 },
  // parsed as a plain string, which the schema refuses: a cross-site text/plain form cannot pass for JSON
  { name: 'text/plain', payload: json({ phone: PHONE }), contentType: 'text/plain', code: 'VALIDATION_ERROR' },
  { name: 'multipart', payload: '--x\r\n\r\n--x--', contentType: 'multipart/form-data; boundary=x', status: 415 },
  {
    name: 'a crafted JSON look-alike type',
    payload: json({ phone: PHONE }),
    contentType: 'application/jsonp',
    status: 415,
  },
  {
    name: 'a crafted type with a JSON suffix',
    payload: json({ phone: PHONE }),
    contentType: 'text/html; x=application/json',
    status: 415,
  },
  { name: 'no content type', payload: json({ phone: PHONE }), contentType: '', status: 415 },
]

const LOGIN_BODIES: BadRequest[] = [
  { name: 'code as a number', payload: json({ phone: PHONE, code: 123456 }), code: 'VALIDATION_ERROR' },
  { name: 'code too short', payload: json({ phone: PHONE, code: '12345' }), code: 'VALIDATION_ERROR' },
  { name: 'code too long', payload: json({ phone: PHONE, code: '1234567' }), code: 'VALIDATION_ERROR' },
  { name: 'code with letters', payload: json({ phone: PHONE, code: '12345a' }), code: 'VALIDATION_ERROR' },
  { name: 'code missing', payload: json({ phone: PHONE }), code: 'VALIDATION_ERROR' },
  { name: 'device empty', payload: json({ phone: PHONE, code: '123456', device: '' }), code: 'VALIDATION_ERROR' },
  { name: 'device too long', payload: json({ phone: PHONE, code: '123456', device: 'd'.repeat(65) }) },
  { name: 'device as an object', payload: json({ phone: PHONE, code: '123456', device: { a: 1 } }) },
  { name: 'unknown field', payload: json({ phone: PHONE, code: '123456', userId: 'u_1' }), code: 'VALIDATION_ERROR' },
  { name: 'invalid phone', payload: json({ phone: 'not-a-phone', code: '123456' }), code: 'INVALID_PHONE' },
  { name: 'truncated JSON', payload: '{"phone":', code: 'INVALID_JSON' },
  { name: 'a huge body', payload: huge, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  {
    name: 'form-encoded',
    payload: 'phone=1&code=123456',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
  },
]

async function expectRejected(
  app: ReturnType<typeof h.make>['app'],
  method: 'POST' | 'PATCH',
  url: string,
  cases: BadRequest[],
  headers: Record<string, string> = {},
) {
  for (const c of cases) {
    const res = await app.inject({
      method,
      url,
      payload: c.payload,
      headers: { ...headers, ...(c.contentType === '' ? {} : { 'content-type': c.contentType ?? 'application/json' }) },
    })
    expect(res.statusCode, `${url}: ${c.name}`).toBe(c.status ?? 400)
    const body = res.json()
    expect(CLIENT_CODES, `${url}: ${c.name}`).toContain(body.code)
    if (c.code) expect(body.code, `${url}: ${c.name}`).toBe(c.code)
    expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode'])
  }
}

describe('bad input', () => {
  it('POST /auth/code answers 4xx with a clear code and changes nothing in Redis', async () => {
    const { app, config } = await settled()
    const before = await h.keysUnder(config.KEY_PREFIX)
    await expectRejected(
      app,
      'POST',
      '/auth/code',
      CODE_BODIES.filter((c) => c.code !== 'INVALID_PHONE'),
    )
    expect(await h.keysUnder(config.KEY_PREFIX)).toEqual(before)
    // a well-formed request with an invalid phone is refused too; it only counts against the IP limit
    await expectRejected(
      app,
      'POST',
      '/auth/code',
      CODE_BODIES.filter((c) => c.code === 'INVALID_PHONE'),
    )
    expect(await h.stateKeys(config.KEY_PREFIX)).toEqual(before.filter((k) => !k.includes('{bull}')))
  })

  it('POST /auth/login answers 4xx with a clear code and changes nothing in Redis', async () => {
    const { app, config } = await settled()
    const before = await h.keysUnder(config.KEY_PREFIX)
    await expectRejected(
      app,
      'POST',
      '/auth/login',
      LOGIN_BODIES.filter((c) => c.code !== 'INVALID_PHONE'),
    )
    expect(await h.keysUnder(config.KEY_PREFIX)).toEqual(before)
    // a well-formed request with an invalid phone is refused too; it only counts against the IP limit
    await expectRejected(
      app,
      'POST',
      '/auth/login',
      LOGIN_BODIES.filter((c) => c.code === 'INVALID_PHONE'),
    )
    expect(await h.stateKeys(config.KEY_PREFIX)).toEqual(before.filter((k) => !k.includes('{bull}')))
  })

  it('PATCH /auth/me refuses bad bodies and leaves the user and its sessions as they were', async () => {
    const { app, keys, config } = h.make()
    const { token, user } = await signIn(app)
    const userBefore = await h.check.hgetall(keys.user(user.id))
    const keysBefore = await h.keysUnder(config.KEY_PREFIX)
    await expectRejected(
      app,
      'PATCH',
      '/auth/me',
      [
        { name: 'nickname as a number', payload: json({ nickname: 1 }), code: 'VALIDATION_ERROR' },
        { name: 'unknown field', payload: json({ nickname: 'a', phone: '+1' }), code: 'VALIDATION_ERROR' },
        { name: 'truncated JSON', payload: '{"nickname":', code: 'INVALID_JSON' },
        { name: 'form-encoded', payload: 'nickname=a', contentType: 'application/x-www-form-urlencoded', status: 415 },
        { name: 'a huge body', payload: json({ nickname: 'x'.repeat(70_000) }), status: 413 },
      ],
      bearer(token),
    )
    expect(await h.check.hgetall(keys.user(user.id))).toEqual(userBefore)
    expect(await h.keysUnder(config.KEY_PREFIX)).toEqual(keysBefore)
  })

  it('bad route parameters answer 400/404, never 500', async () => {
    const { app, config } = h.make()
    const { token } = await signIn(app)
    const before = await h.keysUnder(config.KEY_PREFIX)
    const long = await app.inject({ method: 'DELETE', url: `/auth/sessions/${'a'.repeat(65)}`, headers: bearer(token) })
    expect(long.statusCode).toBe(400)
    expect(long.json().code).toBe('VALIDATION_ERROR')
    const weird = await app.inject({ method: 'DELETE', url: '/auth/sessions/%E0%A4%A', headers: bearer(token) })
    expect(weird.statusCode).toBeGreaterThanOrEqual(400)
    expect(weird.statusCode).toBeLessThan(500)
    for (const p of ['abc', '%00', '1'.repeat(40), '+999']) {
      const res = await app.inject(`/auth/dev/sms/${p}`)
      expect(res.statusCode, p).toBe(400)
    }
    const sessionsBefore = before.filter((k) => !k.includes(':session:'))
    expect((await h.keysUnder(config.KEY_PREFIX)).filter((k) => !k.includes(':session:'))).toEqual(sessionsBefore)
  })
})
