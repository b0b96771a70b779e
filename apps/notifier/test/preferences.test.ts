import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness, signIn } from './helpers'

let h: Harness
afterEach(() => h?.close())

const fields = (flat: string[]) => {
  const o: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i] as string] = flat[i + 1] as string
  return o
}

describe('/inbox/preferences', () => {
  it('reads and replaces the choices; a mandatory kind cannot be muted (400 KIND_NOT_MUTABLE); bounds are 400', async () => {
    h = await harness()
    const headers = await signIn(h, 'u1')
    const empty = await h.app.inject({ url: '/inbox/preferences', headers })
    expect(empty.statusCode).toBe(200)
    expect(empty.json()).toEqual({ kinds: {}, mandatory: ['account.login'] })
    const put = await h.app.inject({
      method: 'PUT',
      url: '/inbox/preferences',
      headers,
      payload: { kinds: { 'chat.message': 'silent', 'order.shipped': 'off', news: 'on' } },
    })
    expect(put.statusCode).toBe(200)
    expect(put.json().kinds).toEqual({ 'chat.message': 'silent', 'order.shipped': 'off' })
    expect((await h.app.inject({ url: '/inbox/preferences', headers })).json().kinds).toEqual(put.json().kinds)

    const mute = await h.app.inject({
      method: 'PUT',
      url: '/inbox/preferences',
      headers,
      payload: { kinds: { 'account.login': 'off' } },
    })
    expect(mute.statusCode).toBe(400)
    expect(mute.json().code).toBe('KIND_NOT_MUTABLE')
    // 'on' for a mandatory kind is no muting
    const on = { method: 'PUT' as const, url: '/inbox/preferences', headers }
    expect((await h.app.inject({ ...on, payload: { kinds: { 'account.login': 'on' } } })).statusCode).toBe(200)

    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'off']))
    for (const payload of [{ kinds: many }, { kinds: { 'Bad Kind': 'off' } }, { kinds: { a: 'loud' } }, {}]) {
      const res = await h.app.inject({ ...on, payload })
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
    }
    expect((await h.app.inject({ url: '/inbox/preferences' })).statusCode).toBe(401)
  })

  it('POST /v1/messages honours them: off is not delivered (receipt muted), silent reaches the inbox only', async () => {
    h = await harness()
    const headers = await signIn(h, 'u1')
    await h.app.inject({
      method: 'PUT',
      url: '/inbox/preferences',
      headers,
      payload: { kinds: { promo: 'off', 'chat.message': 'silent' } },
    })
    const send = (kind: string) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: h.auth(),
        payload: { to: { userIds: ['u1'] }, title: kind, body: 'b', kind },
      })
    const off = await send('promo')
    expect(off.statusCode).toBe(202)
    const silent = await send('chat.message')
    const on = await send('order.shipped')
    const titles = (await h.entries()).map(([, f]) => JSON.parse(fields(f).p as string).title)
    expect(titles).toEqual(['order.shipped'])
    const inbox = (await h.app.inject({ url: '/inbox', headers })).json()
    expect(inbox.items.map((i: { title: string }) => i.title)).toEqual(['order.shipped', 'chat.message'])
    const receipt = await h.app.inject({ url: `/v1/messages/${off.json().ids[0]}`, headers: h.auth() })
    expect(receipt.json()).toMatchObject({ userId: 'u1', muted: true, devices: 0 })
    expect(
      (await h.app.inject({ url: `/v1/messages/${silent.json().ids[0]}`, headers: h.auth() })).json().muted,
    ).toBeUndefined()
    expect(on.statusCode).toBe(202)
  })
})

describe('device targeting', () => {
  it('to.sessionIds and exceptSessionId reach the stream entry (d) and the inbox item; bounds are 400', async () => {
    h = await harness()
    const headers = await signIn(h, 'u1')
    const post = (payload: object) => h.app.inject({ method: 'POST', url: '/v1/messages', headers: h.auth(), payload })
    expect(
      (await post({ to: { userIds: ['u1'], sessionIds: ['s-1', 's-2'] }, title: 'only', body: '' })).statusCode,
    ).toBe(202)
    expect(
      (await post({ to: { userIds: ['u1'] }, exceptSessionId: 's-1', title: 'others', body: '' })).statusCode,
    ).toBe(202)
    const entries = (await h.entries()).map(([, f]) => fields(f))
    expect(entries.map((e) => e.d)).toEqual(['s-1,s-2', '!s-1'])
    const items = (await h.app.inject({ url: '/inbox', headers })).json().items
    expect(items[0]).toMatchObject({ title: 'others', exceptSessionId: 's-1' })
    expect(items[1]).toMatchObject({ title: 'only', sessionIds: ['s-1', 's-2'] })

    const tooMany = Array.from({ length: 21 }, (_, i) => `s${i}`)
    for (const payload of [
      { to: { userIds: ['u1'], sessionIds: tooMany }, title: 't', body: '' },
      { to: { userIds: ['u1'], sessionIds: ['a,b'] }, title: 't', body: '' },
      { to: { userIds: ['u1'], sessionIds: [] }, title: 't', body: '' },
      { to: { all: true, sessionIds: ['s'] }, title: 't', body: '' },
      { to: { userIds: ['u1'] }, exceptSessionId: '!s', title: 't', body: '' },
    ]) {
      const res = await post(payload)
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
    }
  })
})
