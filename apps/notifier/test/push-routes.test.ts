import { createECDH, randomBytes } from 'node:crypto'
import { generateVapidKeys, PushSubscriptions } from '@herald/push'
import { afterEach, describe, expect, it } from 'vitest'
import { vapidOf } from '../src/config'
import { type Harness, harness, signIn, testConfig } from './helpers'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const vapid = generateVapidKeys()
const pushOn = { PUSH_VAPID_PUBLIC_KEY: vapid.publicKey, PUSH_VAPID_PRIVATE_KEY: vapid.privateKey }

const browserSubscription = (endpoint = `https://push.example.com/send/${randomBytes(8).toString('hex')}`) => ({
  endpoint,
  expirationTime: null,
  keys: {
    p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  },
})

describe('/inbox/push-subscriptions', () => {
  it('is off (404) without VAPID keys, and needs a session', async () => {
    const hh = await harness()
    h = hh
    const headers = await signIn(hh, 'u1')
    expect((await hh.app.inject({ url: '/inbox/push-subscriptions/key', headers })).statusCode).toBe(404)
    const post = await hh.app.inject({
      method: 'POST',
      url: '/inbox/push-subscriptions',
      headers,
      payload: browserSubscription(),
    })
    expect(post.statusCode).toBe(404)
    expect((await hh.app.inject({ url: '/inbox/push-subscriptions/key' })).statusCode).toBe(401)
  })

  it('gives the VAPID public key, registers up to the bound, replaces a known endpoint, refuses bad ones, removes', async () => {
    const hh = await harness({ ...pushOn, PUSH_MAX_SUBSCRIPTIONS: 2 })
    h = hh
    const headers = await signIn(hh, 'u1')
    const key = await hh.app.inject({ url: '/inbox/push-subscriptions/key', headers })
    expect(key.json()).toEqual({ publicKey: vapid.publicKey })
    const post = (payload: object) =>
      hh.app.inject({ method: 'POST', url: '/inbox/push-subscriptions', headers, payload })
    const a = browserSubscription()
    const first = await post(a)
    expect(first.statusCode).toBe(201)
    expect(first.json()).toMatchObject({ replaced: false })
    expect((await post({ ...a, keys: browserSubscription().keys })).json()).toMatchObject({ replaced: true })
    expect((await post(browserSubscription())).statusCode).toBe(201)
    const full = await post(browserSubscription())
    expect(full.statusCode).toBe(400)
    expect(full.json().message).toMatch(/already has 2/)
    const http = await post(browserSubscription('http://push.example.com/x'))
    expect(http.statusCode).toBe(400)
    expect(http.json().message).toMatch(/must be https/)
    expect((await post(browserSubscription('https://127.0.0.1/x'))).json().message).toMatch(/refused address/)
    expect((await post({ ...a, keys: { ...a.keys, auth: 'A'.repeat(20) } })).statusCode).toBe(400)
    const store = new PushSubscriptions(hh.redis, hh.keys)
    expect(await store.list('u1')).toHaveLength(2)
    const del = await hh.app.inject({
      method: 'DELETE',
      url: '/inbox/push-subscriptions',
      headers,
      payload: { endpoint: a.endpoint },
    })
    expect(del.statusCode).toBe(204)
    expect((await store.list('u1')).map((s) => s.endpoint)).not.toContain(a.endpoint)
    // another user's endpoint is not theirs to remove
    const other = await signIn(hh, 'u2')
    const theirs = (await store.list('u1'))[0]?.endpoint as string
    await hh.app.inject({
      method: 'DELETE',
      url: '/inbox/push-subscriptions',
      headers: other,
      payload: { endpoint: theirs },
    })
    expect(await store.list('u1')).toHaveLength(1)
  })

  it('refuses a half-configured VAPID pair at start-up, naming the variable', async () => {
    expect(() => vapidOf(testConfig({ PUSH_VAPID_PUBLIC_KEY: vapid.publicKey }))).toThrow(/PUSH_VAPID_PRIVATE_KEY/)
    expect(() => vapidOf(testConfig({ ...pushOn, PUSH_VAPID_PUBLIC_KEY: 'short' }))).toThrow(/PUSH_VAPID_PUBLIC_KEY/)
    expect(vapidOf(testConfig())).toBeNull()
  })
})
