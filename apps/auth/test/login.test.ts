import { BATCH_JOB_TYPE, eventsOfBatch, jobIdFor } from '@herald/contracts'
import { createRedis } from '@herald/service-kit'
import { Queue } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { UserStore } from '../src/users'
import { bearer, devCode, harness, login, PHONE, sendCode, signIn } from './helpers'

const h = harness()

describe('POST /auth/login', () => {
  it('creates the user on first login and answers 200 {token, expiresIn, user} with the phone masked', async () => {
    const { app, keys } = h.make()
    const first = await signIn(app, PHONE, 'laptop')
    expect(first.token).toMatch(/^[0-9a-f-]{36}$/)
    expect(first.expiresIn).toBe(1800)
    expect(first.user).toEqual({
      id: expect.stringMatching(/^u_[0-9a-f]{16}$/),
      nickname: 'user-5678',
      phone: '+86138****5678',
    })
    expect(await h.check.get(keys.phoneUser(PHONE))).toBe(first.user.id)
    expect(await h.check.sismember(keys.partitionUsers(keys.partitionOf(first.user.id)), first.user.id)).toBe(1)
    expect(await h.check.hgetall(keys.user(first.user.id))).toMatchObject({ phone: PHONE, nickname: 'user-5678' })

    await h.check.del(keys.otpCooldown(PHONE))
    const second = await signIn(app, '138-1234-5678')
    expect(second.user.id).toBe(first.user.id)
    expect(second.token).not.toBe(first.token)
    expect(await h.check.scard(keys.partitionUsers(0))).toBe(1)
  })

  it('refuses a wrong code with 401 INVALID_CODE, and a code that was never sent', async () => {
    const { app } = h.make()
    const none = await login(app, PHONE, '123456')
    expect(none.statusCode).toBe(401)
    expect(none.json().code).toBe('INVALID_CODE')
    await sendCode(app)
    const code = await devCode(app)
    const wrong = await login(app, PHONE, code === '000000' ? '000001' : '000000')
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json()).toMatchObject({ statusCode: 401, code: 'INVALID_CODE', error: 'Unauthorized' })
    expect((await login(app, PHONE, code)).statusCode).toBe(200)
  })

  it('claims the phone for a user only with the right code, in the step that burns it', async () => {
    const { app, keys } = h.make()
    await sendCode(app)
    const code = await devCode(app)
    expect((await login(app, PHONE, code === '000000' ? '000001' : '000000')).statusCode).toBe(401)
    expect(await h.check.exists(keys.phoneUser(PHONE))).toBe(0)
    expect(await h.check.scard(keys.partitionUsers(0))).toBe(0)
    const res = await login(app, PHONE, code)
    expect(res.statusCode).toBe(200)
    expect(await h.check.get(keys.phoneUser(PHONE))).toBe(res.json().user.id)
  })

  it('creates the record of a phone claimed by a sign-in that stopped before it (a crash between the two steps)', async () => {
    const { app, keys } = h.make()
    await h.check.set(keys.phoneUser(PHONE), 'u_00000000000000aa')
    const first = await signIn(app, PHONE)
    expect(first.user.id).toBe('u_00000000000000aa')
    expect(await h.check.hgetall(keys.user('u_00000000000000aa'))).toMatchObject({
      phone: PHONE,
      nickname: 'user-5678',
    })
    expect(
      await h.check.sismember(keys.partitionUsers(keys.partitionOf('u_00000000000000aa')), 'u_00000000000000aa'),
    ).toBe(1)
  })

  it('accepts a code once', async () => {
    const { app } = h.make()
    await sendCode(app)
    const code = await devCode(app)
    expect((await login(app, PHONE, code)).statusCode).toBe(200)
    const again = await login(app, PHONE, code)
    expect(again.statusCode).toBe(401)
    expect(again.json().code).toBe('INVALID_CODE')
  })

  it('burns the code after 5 wrong tries: the 5th answers 429 TOO_MANY_ATTEMPTS and the right code no longer works', async () => {
    const { app, keys } = h.make()
    await sendCode(app)
    const code = await devCode(app)
    const wrongCodes = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((c) => c !== code)
    for (let i = 0; i < 4; i++) {
      const res = await login(app, PHONE, wrongCodes[i] as string)
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('INVALID_CODE')
    }
    const fifth = await login(app, PHONE, wrongCodes[4] as string)
    expect(fifth.statusCode).toBe(429)
    expect(fifth.json().code).toBe('TOO_MANY_ATTEMPTS')
    expect(await h.check.exists(keys.otp(PHONE))).toBe(0)
    expect((await login(app, PHONE, code)).json().code).toBe('INVALID_CODE')
  })

  it('lets exactly one of two concurrent logins with one code win', async () => {
    const { app, keys } = h.make()
    await sendCode(app)
    const code = await devCode(app)
    const results = await Promise.all([login(app, PHONE, code), login(app, PHONE, code)])
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401])
    expect(await h.check.scard(keys.partitionUsers(0))).toBe(1)
  })

  it('lets exactly one of many logins with one code win across two replicas', async () => {
    const a = h.make()
    const b = h.make({}, {}, a.config.KEY_PREFIX)
    await sendCode(a.app)
    const code = await devCode(b.app)
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => login(i % 2 ? a.app : b.app, PHONE, code)))
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1)
  })

  it('allows at most OTP_MAX_FAILURES_PER_HOUR failed checks per phone across resends', async () => {
    const { app, keys } = h.make({
      RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: 1000,
      RATE_LIMIT_CODE_PER_MINUTE_PER_IP: 1000,
      SMS_DAILY_LIMIT_PER_PHONE: 1000,
    })
    let failures = 0
    // 20 codes × 5 wrong tries = 100 failed checks (the cooldown is skipped by deleting its key)
    for (let n = 0; n < 20; n++) {
      await h.check.del(keys.otpCooldown(PHONE))
      expect((await sendCode(app)).statusCode).toBe(202)
      const code = await devCode(app)
      const wrong = code === '999999' ? '999998' : '999999'
      for (let i = 0; i < 5; i++) {
        const res = await login(app, PHONE, wrong)
        expect([401, 429]).toContain(res.statusCode)
        failures++
      }
    }
    expect(failures).toBe(100)
    expect(await h.check.get(keys.otpFailures(PHONE))).toBe('100')
    // a fresh, right code is refused for the rest of the hour, and so is sending another
    await h.check.del(keys.otpCooldown(PHONE))
    const send = await sendCode(app)
    expect(send.statusCode).toBe(429)
    expect(Number(send.headers['retry-after'])).toBeGreaterThan(3500)
    // ... even if a code was sent before the limit was reached
    await h.check.del(keys.otpFailures(PHONE))
    await h.check.del(keys.otpCooldown(PHONE))
    await sendCode(app)
    const code = await devCode(app)
    await h.check.set(keys.otpFailures(PHONE), '100', 'EX', 3600)
    const locked = await login(app, PHONE, code)
    expect(locked.statusCode).toBe(429)
    expect(locked.json().code).toBe('TOO_MANY_ATTEMPTS')
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(3500)
    // another phone is not affected
    expect((await signIn(app, '+8613900001111')).user.phone).toBe('+86139****1111')
  })

  it('limits logins per client IP across two replicas', async () => {
    const a = h.make({ RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: 2 })
    const b = h.make({ RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: 2 }, {}, a.config.KEY_PREFIX)
    const attempt = (app: typeof a.app) =>
      app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { phone: PHONE, code: '123456' },
        remoteAddress: '10.1.1.1',
      })
    expect((await attempt(a.app)).statusCode).toBe(401)
    expect((await attempt(b.app)).statusCode).toBe(401)
    const limited = await attempt(a.app)
    expect(limited.statusCode).toBe(429)
    expect(limited.json().code).toBe('TOO_MANY_REQUESTS')
    expect(limited.headers['retry-after']).toBeDefined()
  })

  it('enqueues account.login on the events queue', async () => {
    const { app, queue } = h.make()
    const { user } = await signIn(app, PHONE, 'phone-app')
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed'])
    expect(jobs).toHaveLength(1)
    const job = jobs[0]!
    expect(job.name).toBe('account.login')
    // the same job id the notifier derives from an event id
    expect(job.id).toBe(jobIdFor(job.data.source, job.data.id))
    expect(job.data).toMatchObject({
      type: 'account.login',
      source: 'auth',
      data: { userId: user.id, device: 'phone-app', ip: '127.0.0.1' },
    })
    expect(Date.parse(job.data.occurredAt)).toBeGreaterThan(0)
    expect(job.opts.attempts).toBeGreaterThan(1)
    // removed once it completes: the event record the worker writes keeps its outcome
    expect(job.opts.removeOnComplete).toBe(true)
  })

  it('sends the account.login events of sign-ins that happen together in one batch job', async () => {
    const { app, queue } = h.make({ RATE_LIMIT_CODE_PER_MINUTE_PER_IP: 100, RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: 100 })
    const phones = Array.from({ length: 12 }, (_, i) => `+86139000${String(10_000 + i)}`)
    // codes first, then the logins all at once
    const codes: string[] = []
    for (const phone of phones) {
      expect((await sendCode(app, phone)).statusCode).toBe(202)
      codes.push(await devCode(app, phone))
    }
    const answers = await Promise.all(phones.map((phone, i) => login(app, phone, codes[i] as string)))
    expect(answers.map((r) => r.statusCode)).toEqual(phones.map(() => 200))
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed'])
    const events = jobs.flatMap((j) => eventsOfBatch(j.data) ?? [j.data])
    // every sign-in's event, once, in fewer jobs than sign-ins
    expect(events.map((e) => (e.data as { userId: string }).userId).sort()).toEqual(
      answers.map((r) => r.json().user.id).sort(),
    )
    expect(events.every((e) => e.type === 'account.login' && e.source === 'auth')).toBe(true)
    expect(jobs.length).toBeLessThan(phones.length)
    const batch = jobs.find((j) => j.data.type === BATCH_JOB_TYPE)
    expect(batch?.id).toBe(jobIdFor('herald', batch?.data.id as string))
    expect(batch?.opts).toMatchObject({ removeOnComplete: true, attempts: 5 })
  })

  it('still signs in when the events queue is unreachable, and logs a warning', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'command', 'dead')
    const deadQueue = new Queue('events', { connection: dead })
    deadQueue.on('error', () => {})
    try {
      const { app, logs } = h.make({ EVENTS_ENQUEUE_TIMEOUT_MS: 200 }, { queue: deadQueue })
      const started = Date.now()
      const { token } = await signIn(app)
      expect(Date.now() - started).toBeLessThan(2000)
      expect((await app.inject({ url: '/auth/me', headers: bearer(token) })).statusCode).toBe(200)
      expect(logs.text()).toContain('could not enqueue account.login')
    } finally {
      await deadQueue.close().catch(() => {})
      dead.disconnect()
    }
  })

  it('uses the User-Agent as the device name when the body has none', async () => {
    const { app } = h.make()
    await sendCode(app)
    const code = await devCode(app)
    const res = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { phone: PHONE, code },
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' },
    })
    const sessions = await app.inject({ url: '/auth/sessions', headers: bearer(res.json().token) })
    expect(sessions.json()[0].device).toBe('Mozilla/5.0 (X11; Linux x86_64)')
  })
})

describe('UserStore', () => {
  it('makes exactly one user when many first logins for one phone race', async () => {
    const { keys } = h.make()
    const users = new UserStore(h.redis, keys)
    const results = await Promise.all(Array.from({ length: 20 }, () => users.findOrCreate(PHONE, 'n')))
    const ids = new Set(results.map((r) => r.user.id))
    expect(ids.size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    expect(await h.check.scard(keys.partitionUsers(0))).toBe(1)
    expect(await h.check.get(keys.phoneUser(PHONE))).toBe([...ids][0])
  })
})
