import { randomUUID } from 'node:crypto'
import { redisModes, sleep } from '@herald/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Cluster, message } from './helpers'

/** Messages for some devices of a user only, or for all but the sender's: live and on reconnect. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let c: Cluster
  beforeEach(() => {
    c = new Cluster(mode)
  })
  afterEach(() => c.close())

  async function threeDevices() {
    const [r1, r2] = [await c.start(), await c.start()]
    const laptop = await c.user('laptop')
    const phone = await c.sessions.create({ userId: laptop.userId, nickname: 'n', phone: 'p', device: 'phone' })
    const tablet = await c.sessions.create({ userId: laptop.userId, nickname: 'n', phone: 'p', device: 'tablet' })
    const devices = {
      laptop: { userId: laptop.userId, sessionId: laptop.sessionId },
      phone: { userId: laptop.userId, sessionId: phone.record.id },
      tablet: { userId: laptop.userId, sessionId: tablet.record.id },
    }
    return { r1, r2, userId: laptop.userId, devices }
  }
  const send = (userId: string, extra: Parameters<typeof message>[1]) =>
    c.inbox.deliver([{ userId, message: message(c.inbox.messageIdFor(`t-${randomUUID()}`, userId), extra) }])

  it('the welcome names the session; to.sessionIds reaches only those devices, exceptSessionId every other one', async () => {
    const { r1, r2, userId, devices } = await threeDevices()
    const laptop = await c.online(r1, devices.laptop)
    const phone = await c.online(r2, devices.phone)
    const tablet = await c.online(r2, devices.tablet)
    expect(laptop.frames[0]).toMatchObject({ type: 'welcome', sessionId: devices.laptop.sessionId })

    await send(userId, { title: 'phone only', sessionIds: [devices.phone.sessionId] })
    await send(userId, { title: 'not the laptop', exceptSessionId: devices.laptop.sessionId })
    await send(userId, { title: 'everyone' })
    expect((await phone.next('message')).title).toBe('phone only')
    expect((await phone.next('message')).title).toBe('not the laptop')
    expect((await phone.next('message')).title).toBe('everyone')
    expect((await tablet.next('message')).title).toBe('not the laptop')
    expect((await tablet.next('message')).title).toBe('everyone')
    expect((await laptop.next('message')).title).toBe('everyone')
    await sleep(100)
    expect(laptop.of('message').map((m) => m.title)).toEqual(['everyone'])
    expect(tablet.of('message').map((m) => m.title)).toEqual(['not the laptop', 'everyone'])
  })

  it('a reconnect replays a device-targeted message only to the devices it was for', async () => {
    const { r1, userId, devices } = await threeDevices()
    const laptop = await c.online(r1, devices.laptop)
    const since = laptop.frames[0]?.cursor as string
    await send(userId, { title: 'phone only', sessionIds: [devices.phone.sessionId] })
    await send(userId, { title: 'not the phone', exceptSessionId: devices.phone.sessionId })
    await send(userId, { title: 'everyone', data: { sessionIds: ['x'], exceptSessionId: 'y' } })
    // offline devices come back from the same cursor
    const phone = await c.online(r1, devices.phone, since)
    const tablet = await c.online(r1, devices.tablet, since)
    await sleep(150)
    expect(phone.of('message').map((m) => m.title)).toEqual(['phone only', 'everyone'])
    expect(tablet.of('message').map((m) => m.title)).toEqual(['not the phone', 'everyone'])
  })
})
