import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, ErrorCode, HeraldHttpError, type HeraldMessage } from '../src/index'
import { type FakeHerald, startFakeHerald, until } from './fake-server'

let fake: FakeHerald
beforeEach(async () => {
  fake = await startFakeHerald()
})
afterEach(async () => {
  await fake.close()
})

const make = (token = 'token-1', onAuthError?: (e: { status: number }) => void) =>
  createClient({
    baseUrl: `${fake.url}/`,
    WebSocket,
    getToken: () => token,
    ...(onAuthError ? { onAuthError } : {}),
  })

describe('inbox and markRead', () => {
  it('inbox() passes before and limit and returns the page', async () => {
    fake.publish()
    fake.publish()
    const page = await make().inbox({ before: '1800000000000000000', limit: 10 })
    expect(page.items.map((i) => i.id)).toEqual(['m-2', 'm-1'])
    expect(page.unread).toBe(2)
    expect(fake.inboxQueries[0]?.toString()).toBe('before=1800000000000000000&limit=10')
  })

  it("markRead(ids) posts them in chunks of 100; markRead('all') posts {all:true}", async () => {
    const client = make()
    await client.markRead(Array.from({ length: 150 }, (_, i) => `m-${i}`))
    await client.markRead(['m-1', 'm-1'])
    await client.markRead([])
    await client.markRead('all')
    expect(fake.readBodies.map((b) => ('ids' in (b as object) ? (b as { ids: string[] }).ids.length : b))).toEqual([
      100,
      50,
      1,
      { all: true },
    ])
  })

  it('markRead reaches the other tabs as a read event', async () => {
    const other = make()
    const reads: string[][] = []
    other.on('read', (e) => reads.push(e.ids))
    other.connect()
    await until(() => other.status === 'connected', 'connected')
    await make().markRead(['m-7'])
    await until(() => reads.length === 1, 'read event')
    expect(reads[0]).toEqual(['m-7'])
    other.stop()
  })

  it('a 401 throws HeraldHttpError and calls onAuthError', async () => {
    const errors: number[] = []
    const client = make('expired', (e) => errors.push(e.status))
    const err = await client.inbox().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HeraldHttpError)
    expect(err).toMatchObject({ status: 401, code: 'UNAUTHORIZED' })
    await expect(client.markRead('all')).rejects.toMatchObject({ status: 401 })
    expect(errors).toEqual([401, 401])
  })

  it('a server that cannot be reached is a NETWORK error', async () => {
    const client = createClient({ baseUrl: 'http://127.0.0.1:1', WebSocket, getToken: () => 't' })
    await expect(client.inbox()).rejects.toMatchObject({ status: 0, code: 'NETWORK' })
  })
})

describe('inbox states', () => {
  it('setState marks ids (100 per call) or every message up to a cursor; counts, filters and deleteMessage', async () => {
    const client = make()
    const [m1, m2, m3] = [fake.publish(), fake.publish(), fake.publish()]
    expect(await client.counts()).toEqual({ total: 3, unseen: 3, unread: 3, archived: 0 })
    expect(await client.setState('seen', { upTo: m2.cursor })).toBe(2)
    expect(await client.setState('archived', [m1.id, m1.id])).toBe(1)
    const many = Array.from({ length: 150 }, (_, i) => `m-${i + 1}`)
    expect(await client.setState('read', many)).toBe(3)
    expect(fake.stateBodies.map((b) => ('ids' in (b as object) ? (b as { ids: string[] }).ids.length : b))).toEqual([
      { state: 'seen', upTo: m2.cursor },
      1,
      100,
      50,
    ])
    expect(await client.counts()).toEqual({ total: 2, unseen: 0, unread: 0, archived: 1 })
    expect((await client.inbox({ state: 'archived', kind: 'test' })).items.map((i) => i.id)).toEqual([m1.id])
    expect(fake.inboxQueries.at(-1)?.toString()).toBe('state=archived&kind=test')
    await client.deleteMessage(m3.id)
    await expect(client.deleteMessage(m3.id)).rejects.toMatchObject({ status: 404, code: ErrorCode.NOT_FOUND })
    expect((await client.inbox()).items).toEqual([expect.objectContaining({ id: m2.id, read: true, seen: true })])
  })

  it('another tab gets a state event for each change, and a read as state read too', async () => {
    const other = make()
    const changes: unknown[] = []
    other.on('state', (e) => changes.push(e))
    other.connect()
    await until(() => other.status === 'connected', 'connected')
    const m = fake.publish()
    const client = make()
    await client.setState('archived', [m.id])
    await client.setState('seen', { upTo: m.cursor })
    await client.markRead([m.id])
    await client.deleteMessage(m.id)
    await until(() => changes.length === 4, 'state events')
    expect(changes).toEqual([
      { state: 'archived', ids: [m.id] },
      { state: 'seen', upTo: m.cursor },
      { state: 'read', ids: [m.id] },
      { state: 'deleted', ids: [m.id] },
    ])
    other.stop()
  })
})

describe('preferences', () => {
  it('setPreferences replaces the choices with a PUT; getPreferences reads them and the mandatory kinds', async () => {
    const client = make()
    expect(await client.getPreferences()).toEqual({ kinds: {}, mandatory: ['account.login'] })
    const saved = await client.setPreferences({ 'chat.message': 'silent', 'order.shipped': 'off', 'x.y': 'on' })
    expect(saved).toEqual({ kinds: { 'chat.message': 'silent', 'order.shipped': 'off' }, mandatory: ['account.login'] })
    await client.setPreferences({ 'order.shipped': 'off' })
    expect((await client.getPreferences()).kinds).toEqual({ 'order.shipped': 'off' })
  })

  it('muting a mandatory kind rejects with KIND_NOT_MUTABLE and changes nothing', async () => {
    const client = make()
    await client.setPreferences({ 'chat.message': 'silent' })
    const err = await client.setPreferences({ 'account.login': 'off' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HeraldHttpError)
    expect(err).toMatchObject({ status: 400, code: ErrorCode.KIND_NOT_MUTABLE })
    expect((await client.getPreferences()).kinds).toEqual({ 'chat.message': 'silent' })
  })

  it('a 401 on preferences calls onAuthError', async () => {
    const errors: number[] = []
    const client = make('expired', (e) => errors.push(e.status))
    await expect(client.getPreferences()).rejects.toMatchObject({ status: 401, code: ErrorCode.UNAUTHORIZED })
    await expect(client.setPreferences({})).rejects.toMatchObject({ status: 401 })
    expect(errors).toEqual([401, 401])
  })
})

describe('sessionId', () => {
  it('is null before the first welcome, then the session the welcome names, and it stays after a stop', async () => {
    const client = make()
    const connected: string[] = []
    client.on('connected', (e) => connected.push(e.sessionId))
    expect(client.sessionId).toBeNull()
    client.connect()
    await until(() => client.status === 'connected', 'connected')
    expect(client.sessionId).toBe('s1')
    expect(connected).toEqual(['s1'])
    client.stop()
    expect(client.sessionId).toBe('s1')
  })

  it('a device-targeted message reaches the message event with its sessionIds or exceptSessionId', async () => {
    const client = make()
    const got: HeraldMessage[] = []
    client.on('message', (m) => got.push(m))
    client.connect()
    await until(() => client.status === 'connected', 'connected')
    fake.publish({ sessionIds: ['s1'] })
    fake.publish({ exceptSessionId: 's2' })
    await until(() => got.length === 2, 'two messages')
    expect(got.map((m) => [m.sessionIds, m.exceptSessionId])).toEqual([
      [['s1'], undefined],
      [undefined, 's2'],
    ])
    client.stop()
  })
})
