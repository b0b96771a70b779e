import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { requesterId } from '../src/otp'
import { harness, login, PHONE, sendCode } from './helpers'

const h = harness()

type Behaviour = 'ok' | 'fail' | 'reject' | 'hang'
interface Received {
  contentType: string | undefined
  body: { to: string; text: string }
}

/** A real SMS webhook on a free local port; each request takes the next behaviour (the last one repeats). */
let behaviours: Behaviour[] = ['ok']
let received: Received[] = []
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let raw = ''
  req.on('data', (d) => {
    raw += d
  })
  req.on('end', () => {
    received.push({ contentType: req.headers['content-type'], body: JSON.parse(raw) })
    const b = behaviours.length > 1 ? behaviours.shift()! : behaviours[0]!
    if (b === 'hang') return // never answers: the client's timeout must fire
    res.statusCode = b === 'ok' ? 200 : b === 'fail' ? 500 : 400
    res.end(b === 'ok' ? '{"accepted":true}' : '{"error":"nope"}')
  })
})
let url = ''
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})
beforeEach(() => {
  behaviours = ['ok']
  received = []
})

const webhook = (extra = {}) => h.make({ SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: url, ...extra })
const codeIn = (text: string) => /\b([0-9]{6})\b/.exec(text)?.[1] as string

describe('webhook SMS provider', () => {
  it('POSTs {to, text} as JSON; the code in the text signs in', async () => {
    const { app } = webhook()
    expect((await sendCode(app, '138 1234 5678')).statusCode).toBe(202)
    expect(received).toHaveLength(1)
    const msg = received[0]!
    expect(msg.contentType).toBe('application/json')
    expect(Object.keys(msg.body).sort()).toEqual(['text', 'to'])
    expect(msg.body.to).toBe(PHONE)
    expect((await login(app, PHONE, codeIn(msg.body.text))).statusCode).toBe(200)
  })

  it('retries once when the provider fails, then succeeds', async () => {
    behaviours = ['fail', 'ok']
    const { app } = webhook()
    expect((await sendCode(app)).statusCode).toBe(202)
    expect(received).toHaveLength(2)
    expect((await login(app, PHONE, codeIn(received[1]!.body.text))).statusCode).toBe(200)
  })

  it('answers 502 SMS_SEND_FAILED after two failures, stores no code and lets the user retry at once', async () => {
    behaviours = ['fail']
    const { app, keys, config } = webhook()
    const res = await sendCode(app)
    expect(res.statusCode).toBe(502)
    expect(res.json()).toEqual({
      statusCode: 502,
      code: 'SMS_SEND_FAILED',
      error: 'Bad Gateway',
      message: 'The code could not be sent, retry in a moment',
    })
    expect(received).toHaveLength(2)
    expect(await h.check.exists(keys.otp(PHONE), keys.otpCooldown(PHONE))).toBe(0)
    const day = new Date().toISOString().slice(0, 10)
    const daily = keys.otpDailyFrom(PHONE, day, requesterId('127.0.0.1'))
    expect(await h.check.get(daily)).toBe('0')
    // and the day's SMS spend was given back
    expect(await h.check.hget(keys.smsSpend(day), '*')).toBe('0')
    expect(await h.stateKeys(config.KEY_PREFIX)).toEqual([daily, keys.smsSpend(day)].sort())

    behaviours = ['ok']
    expect((await sendCode(app)).statusCode).toBe(202)
    expect(await h.check.get(daily)).toBe('1')
    expect(await h.check.hget(keys.smsSpend(day), 'CN')).toBe('1')
  })

  it('does not retry a request the provider refuses (4xx)', async () => {
    behaviours = ['reject']
    const { app } = webhook()
    const res = await sendCode(app)
    expect(res.statusCode).toBe(502)
    expect(res.json().code).toBe('SMS_SEND_FAILED')
    expect(received).toHaveLength(1)
  })

  it('gives up on a provider that does not answer: 503 SMS_SEND_FAILED after a timeout and one retry', async () => {
    behaviours = ['hang']
    const { app, keys } = webhook({ SMS_WEBHOOK_TIMEOUT_MS: 150 })
    const started = Date.now()
    const res = await sendCode(app)
    const took = Date.now() - started
    expect(res.statusCode).toBe(503)
    expect(res.json().code).toBe('SMS_SEND_FAILED')
    expect(received).toHaveLength(2)
    expect(took).toBeGreaterThanOrEqual(300)
    expect(took).toBeLessThan(2000)
    expect(await h.check.exists(keys.otpCooldown(PHONE))).toBe(0)
  })

  it('keeps the previous code valid when a resend fails', async () => {
    const { app, keys } = webhook()
    await sendCode(app)
    const first = codeIn(received[0]!.body.text)
    await h.check.del(keys.otpCooldown(PHONE))
    behaviours = ['fail']
    expect((await sendCode(app)).statusCode).toBe(502)
    expect((await login(app, PHONE, first)).statusCode).toBe(200)
  })

  it('answers 503 when the provider cannot be reached at all', async () => {
    const { app } = h.make({ SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'http://127.0.0.1:1/sms' })
    const res = await sendCode(app)
    expect(res.statusCode).toBe(503)
    expect(res.json().code).toBe('SMS_SEND_FAILED')
  })
})
