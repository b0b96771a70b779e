import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClientFrame } from '../src/types'
import { type FakeHerald, sleep, startFakeHerald, until } from './fake-server'
import { type Recorded, recordedClient } from './helpers'

let fake: FakeHerald
let rec: Recorded | undefined
beforeEach(async () => {
  fake = await startFakeHerald()
})
afterEach(async () => {
  rec?.client.stop()
  rec = undefined
  await fake.close()
})

const connected = () => until(() => rec?.client.status === 'connected', 'connected')
const acked = (frames: ClientFrame[]) => frames.filter((f) => f.type === 'ack').flatMap((f) => f.ids)

/** Every guarantee holds on both transports: the WebSocket and the SSE fallback. */
describe.each(['websocket', 'sse'] as const)('over %s', (transport) => {
  describe('recovery', () => {
    it('reconnects with since=<last cursor> and receives what was sent meanwhile, in order', async () => {
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      fake.publish()
      const second = fake.publish()
      await until(() => rec?.messages.length === 2, 'two messages')
      fake.connections[0]?.ws.terminate()
      await until(() => rec?.client.status === 'reconnecting', 'reconnecting')
      fake.publish()
      fake.publish()
      await until(() => rec?.messages.length === 4, 'four messages')
      expect(fake.connections[1]?.since).toBe(second.cursor)
      expect(rec.messages.map((m) => m.id)).toEqual(['m-1', 'm-2', 'm-3', 'm-4'])
      expect(rec.events.connected?.[1]?.resumed).toBe(true)
      expect(rec.client.lastCursor).toBe(fake.messages[3]?.cursor)
    })

    it('resumes from the welcome cursor when dropped before its first message', async () => {
      const before = fake.publish()
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      fake.connections[0]?.ws.terminate()
      await until(() => rec?.client.status === 'reconnecting', 'reconnecting')
      fake.publish()
      await until(() => rec?.messages.length === 1, 'the message sent while away')
      expect(fake.connections[1]?.since).toBe(before.cursor)
      expect(rec.messages.map((m) => m.id)).toEqual([fake.messages[1]?.id])
    })

    it('resumes from the cursor given at creation', async () => {
      const old = fake.publish()
      fake.publish()
      rec = recordedClient(fake, { transport, since: old.cursor })
      rec.client.connect()
      await until(() => rec?.messages.length === 1, 'the one message after since')
      expect(rec.messages[0]?.id).toBe('m-2')
    })

    it('drops duplicates by id, whether resent live or replayed', async () => {
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      const m = fake.publish()
      fake.sendRaw(m)
      fake.sendRaw(m)
      fake.publish()
      await until(() => rec?.messages.length === 2, 'two messages')
      await sleep(50)
      expect(rec.messages.map((x) => x.id)).toEqual(['m-1', 'm-2'])
    })

    it('remembers a bounded number of ids (LRU): an id older than the window is shown again', async () => {
      rec = recordedClient(fake, { transport, dedupeCapacity: 3 })
      rec.client.connect()
      await connected()
      const first = fake.publish()
      for (let i = 0; i < 3; i++) fake.publish()
      await until(() => rec?.messages.length === 4, 'four messages')
      fake.sendRaw(first)
      fake.sendRaw(fake.messages[3]!)
      await until(() => rec?.messages.length === 5, 'the forgotten id again')
      await sleep(50)
      expect(rec.messages.map((x) => x.id)).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-1'])
    })

    it('emits gap when since is older than what the server keeps, and the inbox can be reloaded', async () => {
      const old = fake.publish()
      for (let i = 0; i < 3; i++) fake.publish()
      fake.retainFrom = fake.messages[2]?.cursor
      rec = recordedClient(fake, { transport, since: old.cursor })
      const reloaded: string[][] = []
      rec.client.on('gap', async () => reloaded.push((await rec!.client.inbox({ limit: 50 })).items.map((i) => i.id)))
      rec.client.connect()
      await until(() => reloaded.length === 1, 'inbox reloaded after gap')
      expect(rec.events.gap).toEqual([{ since: old.cursor }])
      expect(reloaded[0]).toEqual(['m-4', 'm-3', 'm-2', 'm-1'])
    })

    it('no gap event on a normal resume', async () => {
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      fake.publish()
      await until(() => rec?.messages.length === 1, 'message')
      fake.connections[0]?.ws.terminate()
      await until(() => fake.connections.length === 2 && rec?.client.status === 'connected', 'reconnected')
      expect(rec.events.gap).toBeUndefined()
    })
  })

  describe('acks', () => {
    it('acks messages in one batched frame', async () => {
      rec = recordedClient(fake, { transport, ackDelay: 50 })
      rec.client.connect()
      await connected()
      for (let i = 0; i < 5; i++) fake.publish()
      await until(() => acked(fake.connections[0]!.frames).length === 5, 'five acks')
      expect(fake.connections[0]?.frames).toEqual([{ type: 'ack', ids: ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'] }])
    })

    it('never puts more than 100 ids in one ack frame', async () => {
      rec = recordedClient(fake, { transport, ackDelay: 1000 })
      rec.client.connect()
      await connected()
      for (let i = 0; i < 250; i++) fake.publish()
      await until(() => rec?.messages.length === 250, '250 messages')
      const frames = () => fake.connections[0]!.frames
      await until(() => acked(frames()).length === 250, '250 acks', 3000)
      expect(frames().map((f) => f.ids.length)).toEqual([100, 100, 50])
      expect(new Set(acked(frames())).size).toBe(250)
    })

    it('acks duplicates again (the first receipt may have died with its socket) but emits them once', async () => {
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      const m = fake.publish()
      fake.sendRaw(m)
      await until(() => acked(fake.connections[0]!.frames).length === 2, 'two acks')
      expect(rec.messages).toHaveLength(1)
    })

    it('sends what is pending when stop() is called', async () => {
      rec = recordedClient(fake, { transport, ackDelay: 10_000 })
      rec.client.connect()
      await connected()
      fake.publish()
      await until(() => rec?.messages.length === 1, 'message')
      rec.client.stop()
      await until(() => fake.connections[0]?.closed === true, 'closed')
      expect(acked(fake.connections[0]!.frames)).toEqual(['m-1'])
    })
  })

  describe('read sync', () => {
    it('emits read when another device marks messages read', async () => {
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      fake.sendRaw({ type: 'read', ids: ['m-1', 'm-2'] })
      await until(() => rec?.events.read?.length === 1, 'read event')
      expect(rec.events.read?.[0]).toEqual({ ids: ['m-1', 'm-2'] })
    })

    it('emits error frames without closing', async () => {
      rec = recordedClient(fake, { transport })
      rec.client.connect()
      await connected()
      fake.sendRaw({ type: 'error', code: 'BAD_FRAME', message: 'unknown frame type' })
      await until(() => rec?.events.error?.length === 1, 'error event')
      expect(rec.events.error?.[0]).toEqual({ code: 'BAD_FRAME', message: 'unknown frame type' })
      expect(rec.client.status).toBe('connected')
    })
  })
})
