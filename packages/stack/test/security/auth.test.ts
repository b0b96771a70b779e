import { createHmac } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, type Stack } from '../../src/stack'
import { signServiceToken } from '../../src/token'
import { api, newPhone, ticket } from '../client'
import { e2eStack } from '../e2e/helpers'
import { freshAddress, httpFrom } from '../support/http'
import { figure, sleep } from '../support/soak'

const CODES_PER_IP = 5
const DAILY_PER_PHONE = 3
const RESEND_SECONDS = 2
const IDLE_SECONDS = 10
const MAX_AGE_SECONDS = 60

let stack: Stack
/** every token, ticket and code this file saw: none may reach a log or Redis */
const tokens: string[] = []
const codes: string[] = []
let capped: { token: string; createdAt: number } | null = null
let keepAlive: NodeJS.Timeout | undefined

beforeAll(async () => {
  stack = await e2eStack({
    env: {
      RATE_LIMIT_CODE_PER_MINUTE_PER_IP: String(CODES_PER_IP),
      RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: '30',
      SMS_DAILY_LIMIT_PER_PHONE: String(DAILY_PER_PHONE),
      OTP_RESEND_SECONDS: String(RESEND_SECONDS),
      SESSION_IDLE_TTL_SECONDS: String(IDLE_SECONDS),
      SESSION_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
    },
  })
  tokens.push(stack.serviceToken)
  // a session kept busy all along: the absolute cap must end it anyway (checked last)
  const u = await loginFrom(freshAddress())
  capped = { token: u.token, createdAt: Date.now() }
  keepAlive = setInterval(() => void api(stack.url, 'GET', '/auth/me', { token: u.token }).catch(() => {}), 3000)
})
afterAll(async () => {
  clearInterval(keepAlive)
  await stack?.stop()
})

async function loginFrom(addr: string, phone = newPhone()) {
  const sent = await httpFrom(addr, `${stack.url}/auth/code`, 'POST', { body: { phone } })
  if (sent.status !== 202) throw new Error(`code → ${sent.status} ${JSON.stringify(sent.body)}`)
  const sms = await api<{ code: string }>(stack.url, 'GET', `/auth/dev/sms/${encodeURIComponent(phone)}`)
  codes.push(sms.body.code)
  const res = await httpFrom<{ token: string; user: { id: string } }>(addr, `${stack.url}/auth/login`, 'POST', {
    body: { phone, code: sms.body.code, device: 'sec' },
  })
  if (res.status !== 200) throw new Error(`login → ${res.status} ${JSON.stringify(res.body)}`)
  tokens.push(res.body.token)
  return { token: res.body.token, user: res.body.user, phone }
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
function hs256(
  payload: Record<string, unknown>,
  secret: string,
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
) {
  const head = `${b64(header)}.${b64(payload)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

describe('SMS login abuse behind nginx', () => {
  it('the per-IP code limit keys on the real client address; a spoofed X-Forwarded-For neither resets nor moves it', async () => {
    const a = freshAddress()
    const b = freshAddress()
    const statuses: number[] = []
    for (let i = 0; i < CODES_PER_IP; i++)
      statuses.push((await httpFrom(a, `${stack.url}/auth/code`, 'POST', { body: { phone: newPhone() } })).status)
    expect(statuses).toEqual(Array(CODES_PER_IP).fill(202))
    const over = await httpFrom(a, `${stack.url}/auth/code`, 'POST', { body: { phone: newPhone() } })
    expect(over.status).toBe(429)
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0)
    // the same address pretending to be someone else is still limited
    for (const spoof of ['10.9.9.9', `${b}`, '10.1.1.1, 10.2.2.2', 'unknown']) {
      const res = await httpFrom(a, `${stack.url}/auth/code`, 'POST', {
        body: { phone: newPhone() },
        headers: { 'x-forwarded-for': spoof, 'x-real-ip': spoof, forwarded: `for=${spoof}` },
      })
      expect(res.status, `spoofed ${spoof}`).toBe(429)
    }
    // another real address is not affected, even when it claims to be the limited one
    const other = await httpFrom(b, `${stack.url}/auth/code`, 'POST', {
      body: { phone: newPhone() },
      headers: { 'x-forwarded-for': a },
    })
    expect(other.status).toBe(202)
    figure(
      'per-IP code limit',
      `${CODES_PER_IP} per minute from ${a}, then 429 (Retry-After ${over.headers['retry-after']} s), spoofed XFF ignored, ${b} unaffected`,
    )
  })

  it('code brute force: 5 wrong tries from 5 different addresses burn the code; the right one then fails', async () => {
    const phone = newPhone()
    expect((await httpFrom(freshAddress(), `${stack.url}/auth/code`, 'POST', { body: { phone } })).status).toBe(202)
    const sms = await api<{ code: string }>(stack.url, 'GET', `/auth/dev/sms/${encodeURIComponent(phone)}`)
    codes.push(sms.body.code)
    const wrong = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0')
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await httpFrom(freshAddress(), `${stack.url}/auth/login`, 'POST', {
        body: { phone, code: wrong(sms.body.code) },
      })
      statuses.push(res.status)
    }
    const right = await httpFrom(freshAddress(), `${stack.url}/auth/login`, 'POST', {
      body: { phone, code: sms.body.code },
    })
    figure('code brute force', `wrong tries ${statuses.join(',')}, then the right code → ${right.status}`)
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401])
    expect([401, 429]).toContain(statuses[4])
    // the code is gone: no token, whatever the status
    expect([401, 429]).toContain(right.status)
  })

  it(`resend abuse and SMS pumping: ${RESEND_SECONDS} s cooldown and ${DAILY_PER_PHONE} codes per phone per day per address; the owner's own address still gets a code`, async () => {
    const phone = newPhone()
    const attacker = freshAddress()
    const seen: number[] = []
    for (let i = 0; i < DAILY_PER_PHONE; i++) {
      const ok = await httpFrom(attacker, `${stack.url}/auth/code`, 'POST', { body: { phone } })
      seen.push(ok.status)
      const again = await httpFrom(freshAddress(), `${stack.url}/auth/code`, 'POST', { body: { phone } })
      expect(again.status, 'resend inside the cooldown').toBe(429)
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(0)
      await sleep(RESEND_SECONDS * 1000 + 200)
    }
    const budget = await httpFrom(attacker, `${stack.url}/auth/code`, 'POST', { body: { phone } })
    const owner = await httpFrom(freshAddress(), `${stack.url}/auth/code`, 'POST', { body: { phone } })
    figure(
      'SMS pumping budget',
      `${seen.join(',')} then ${budget.status} for the ${DAILY_PER_PHONE + 1}th code of one phone from one address; ${owner.status} from the owner's`,
    )
    expect(seen).toEqual(Array(DAILY_PER_PHONE).fill(202))
    expect(budget.status).toBe(429)
    expect((budget.body as { code: string }).code).toBe('SMS_BUDGET_EXCEEDED')
    expect(owner.status).toBe(202)
  })
})

describe('sessions', () => {
  it(`idle expiry: an unused session dies after ${IDLE_SECONDS} s, a used one lives on`, async () => {
    const idle = await loginFrom(freshAddress())
    const busy = await loginFrom(freshAddress())
    const t0 = Date.now()
    while (Date.now() - t0 < (IDLE_SECONDS + 2) * 1000) {
      expect((await api(stack.url, 'GET', '/auth/me', { token: busy.token })).status).toBe(200)
      await sleep(2000)
    }
    const res = await api(stack.url, 'GET', '/auth/me', { token: idle.token })
    figure('session idle expiry', `unused → ${res.status} after ${Date.now() - t0} ms; used every 2 s → 200`)
    expect(res.status).toBe(401)
    expect((await api(stack.url, 'GET', '/auth/me', { token: busy.token })).status).toBe(200)
  })

  it('notifier API: expired, alg none, wrong secret, wrong audience and user-session tokens → 401; missing scope → 403', async () => {
    const secret = stack.secrets.SERVICE_JWT_SECRET
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: 'attacker', aud: AUDIENCE, scope: 'stats:read', iat: now }
    const session = await loginFrom(freshAddress())
    const cases: Record<string, string> = {
      expired: hs256({ ...claims, iat: now - 7200, exp: now - 3600 }, secret),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      'alg none with signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${hs256(claims, secret).split('.')[2]}`,
      'wrong secret': hs256(claims, 'not-the-secret-but-long-enough-32b'),
      'wrong audience': hs256({ ...claims, aud: 'someone-else' }, secret),
      'no audience': hs256({ sub: 'x', scope: 'stats:read' }, secret),
      'user session token': session.token,
      'ws ticket': await ticket(stack.url, session.token),
      garbage: 'a.b.c',
    }
    tokens.push(...Object.values(cases))
    const got: Record<string, number> = {}
    for (const [name, token] of Object.entries(cases)) {
      got[name] = (await api(stack.url, 'GET', '/v1/stats', { token })).status
    }
    got['no token'] = (await api(stack.url, 'GET', '/v1/stats')).status
    const noScope = signServiceToken({ secret, audience: AUDIENCE, sub: 'billing', scope: 'events:write' })
    tokens.push(noScope)
    const forbidden = (await api(stack.url, 'GET', '/v1/stats', { token: noScope })).status
    figure(
      'notifier API tokens',
      `${Object.entries(got)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}, missing scope=${forbidden}`,
    )
    for (const [name, status] of Object.entries(got)) expect(status, name).toBe(401)
    expect(forbidden).toBe(403)
  })

  it('Redis never holds a token, ticket or service token: SCAN of the whole keyspace', async () => {
    const u = await loginFrom(freshAddress())
    tokens.push(await ticket(stack.url, u.token))
    const redis = new Redis(stack.redisUrl, { lazyConnect: true })
    await redis.connect()
    let cursor = '0'
    const hits: string[] = []
    let scanned = 0
    try {
      do {
        const [next, keys] = await redis.scan(cursor, 'COUNT', 500)
        cursor = next
        for (const key of keys) {
          scanned++
          const type = await redis.type(key)
          let blob = key
          if (type === 'string') blob += await redis.get(key)
          else if (type === 'hash') blob += JSON.stringify(await redis.hgetall(key))
          else if (type === 'list') blob += JSON.stringify(await redis.lrange(key, 0, -1))
          else if (type === 'set') blob += JSON.stringify(await redis.smembers(key))
          else if (type === 'zset') blob += JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'))
          else if (type === 'stream') blob += JSON.stringify(await redis.xrange(key, '-', '+'))
          for (const t of tokens) if (blob.includes(t)) hits.push(`${key} holds a token`)
        }
      } while (cursor !== '0')
    } finally {
      redis.disconnect()
    }
    figure('tokens in Redis', `${scanned} keys scanned, ${tokens.length} secrets looked for, ${hits.length} found`)
    expect(hits).toEqual([])
  })

  it(`absolute cap: a session in use every 3 s still ends ${MAX_AGE_SECONDS} s after login`, async () => {
    const c = capped as { token: string; createdAt: number }
    expect((await api(stack.url, 'GET', '/auth/me', { token: c.token })).status).toBe(200)
    let diedAt = 0
    while (Date.now() - c.createdAt < (MAX_AGE_SECONDS + 10) * 1000) {
      if ((await api(stack.url, 'GET', '/auth/me', { token: c.token })).status === 401) {
        diedAt = Date.now() - c.createdAt
        break
      }
      await sleep(500)
    }
    figure('session absolute cap', `ended ${diedAt} ms after login (cap ${MAX_AGE_SECONDS} s)`)
    expect(diedAt).toBeGreaterThanOrEqual(MAX_AGE_SECONDS * 1000 - 1000)
    expect(diedAt).toBeLessThan((MAX_AGE_SECONDS + 3) * 1000)
  })

  it('no token, code or ticket in any log line of any service or in nginx’s access log', async () => {
    await sleep(500)
    const logs = stack.allLogs()
    expect(logs.length).toBeGreaterThan(1000)
    const leaked = tokens.filter((t) => logs.includes(t))
    const codeLeaks = codes.filter((c) => new RegExp(`(?<![0-9])${c}(?![0-9])`).test(logs))
    figure(
      'secrets in logs',
      `${tokens.length} tokens/tickets and ${codes.length} codes, ${leaked.length + codeLeaks.length} found in ${logs.split('\n').length} lines`,
    )
    expect(leaked).toEqual([])
    expect(codeLeaks).toEqual([])
    expect(logs).not.toMatch(/ticket=ey/)
  })
})
