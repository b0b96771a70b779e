import { type PushService, startPushService } from '@herald/test-utils/push-service'
import { targetPolicy } from '@herald/webhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateVapidKeys, PushSender } from '../src/sender'

const vapid = { subject: 'mailto:ops@herald.example', ...generateVapidKeys() }
const policy = targetPolicy({ allowPrivate: true, allowHttp: false, cidrs: '' })

/** The web-push library, unmocked, against a push service that checks VAPID and decrypts like a browser. */
describe('PushSender', () => {
  let status = 201
  let service: PushService
  let sender: PushSender
  beforeAll(async () => {
    service = await startPushService({ answer: () => status })
    sender = new PushSender({ vapid, policy, timeoutMs: 5000, tls: { ca: service.ca } })
  })
  afterAll(async () => {
    sender.close()
    await service.close()
  })

  it('delivers a payload the browser decrypts, signed with VAPID for the endpoint origin, with TTL and urgency', async () => {
    status = 201
    const sub = service.subscribe('alice')
    const payload = JSON.stringify({ id: 'm_1', kind: 'chat.message', title: 'Hi', body: 'Hello — ünïcødé' })
    const result = await sender.send(sub, payload, { ttl: 3600, urgency: 'high' })
    expect(result).toEqual({ outcome: 'sent', status: 201 })
    const got = service.received.at(-1)
    expect(got?.vapidProblem).toBeNull()
    expect(got?.claims?.aud).toBe(service.origin)
    expect(got?.claims?.sub).toBe(vapid.subject)
    expect(got?.headers.authorization).toContain(`k=${vapid.publicKey}`)
    expect(got?.headers.ttl).toBe('3600')
    expect(got?.headers.urgency).toBe('high')
    expect(got?.headers['content-encoding']).toBe('aes128gcm')
    expect(got?.payload).toBe(payload)
  })

  it('tells gone (404/410), retry (429 with Retry-After, 5xx, unreachable) and rejected (other 4xx) apart', async () => {
    const sub = service.subscribe()
    const send = () => sender.send(sub, '{}', { ttl: 60, urgency: 'normal' })
    status = 410
    expect(await send()).toEqual({ outcome: 'gone', status: 410 })
    status = 404
    expect(await send()).toEqual({ outcome: 'gone', status: 404 })
    status = 429
    expect(await send()).toEqual({ outcome: 'retry', status: 429, error: 'HTTP 429', retryAfterMs: 1000 })
    status = 503
    expect(await send()).toMatchObject({ outcome: 'retry', status: 503 })
    status = 400
    expect(await send()).toMatchObject({ outcome: 'rejected', status: 400 })
    const unreachable = await sender.send({ ...sub, endpoint: 'https://127.0.0.1:1/push/x' }, '{}', {
      ttl: 60,
      urgency: 'low',
    })
    expect(unreachable.outcome).toBe('retry')
  })

  it('refuses a private endpoint unless the policy allows it, and a VAPID key of another server is refused', async () => {
    status = 201
    const strict = new PushSender({
      vapid,
      policy: targetPolicy({ allowPrivate: false, allowHttp: false, cidrs: '' }),
      timeoutMs: 2000,
      tls: { ca: service.ca },
    })
    const sub = service.subscribe()
    const before = service.received.length
    expect(await strict.send(sub, '{}', { ttl: 60, urgency: 'normal' })).toMatchObject({ outcome: 'rejected' })
    expect(service.received.length).toBe(before)
    strict.close()
    const other = { ...vapid, privateKey: generateVapidKeys().privateKey }
    const forger = new PushSender({ vapid: other, policy, timeoutMs: 2000, tls: { ca: service.ca } })
    expect(await forger.send(sub, '{}', { ttl: 60, urgency: 'normal' })).toMatchObject({
      outcome: 'rejected',
      status: 403,
    })
    expect(service.received.at(-1)?.vapidProblem).toBe('bad signature')
    forger.close()
  })
})
