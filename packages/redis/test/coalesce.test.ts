import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createRedis, waitReady } from '../src/client'

// the single redis-server of the global setup (packages/test-utils declares the type)
const url = () => (inject as (key: string) => string)('redisUrl')

/** Counts the socket writes of a connected client: each `_write` or `_writev` is one syscall. */
function countWrites(client: Redis): { writes: number; chunks: number } {
  type Write = (...args: unknown[]) => unknown
  const stream = (client as unknown as { stream: Socket & { _writev?: Write; _write: Write } }).stream
  const seen = { writes: 0, chunks: 0 }
  const write = stream._write.bind(stream)
  const writev = stream._writev?.bind(stream)
  stream._write = (...args: unknown[]) => {
    seen.writes++
    seen.chunks++
    return write(...args)
  }
  stream._writev = (...args: unknown[]) => {
    seen.writes++
    seen.chunks += (args[0] as unknown[]).length
    return writev?.(...args)
  }
  return seen
}

/** Commands given in one turn: synchronously, after a resolved promise, and two continuations later. */
async function oneTurn(client: Redis, key: string): Promise<unknown[]> {
  const first = client.set(key, '1')
  await Promise.resolve()
  const second = client.incr(key)
  const third = Promise.resolve()
    .then(() => undefined)
    .then(() => client.get(key))
  return Promise.all([first, second, third])
}

describe('coalesced writes (command and worker connections to one server)', () => {
  const clients: Redis[] = []
  const open = async (role: 'command' | 'blocking' | 'worker') => {
    const c = createRedis(url(), role, 'coalesce-test') as Redis
    clients.push(c)
    await waitReady(c)
    return c
  }
  const key = () => `test:coalesce:${randomBytes(6).toString('hex')}`
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect()
  })

  it('sends the commands of one turn, across its promise continuations, in one write, in order', async () => {
    const c = await open('command')
    const seen = countWrites(c)
    expect(await oneTurn(c, key())).toEqual(['OK', 2, '2'])
    expect(seen).toEqual({ writes: 1, chunks: 3 })
  })

  it('holds nothing past the turn: a command given after a reply goes out on its own', async () => {
    const c = await open('command')
    const k = key()
    const seen = countWrites(c)
    await c.set(k, 'a')
    expect(await c.get(k)).toBe('a')
    expect(seen.writes).toBe(2)
  })

  it('keeps coalescing on the new socket after a reconnect', async () => {
    const c = await open('command')
    c.disconnect(true)
    await new Promise<void>((resolve) => c.once('ready', () => resolve()))
    const seen = countWrites(c)
    expect(await oneTurn(c, key())).toEqual(['OK', 2, '2'])
    expect(seen.writes).toBe(1)
  })

  it('coalesces a worker connection too, including commands it queued while offline', async () => {
    const c = await open('worker')
    let seen = countWrites(c)
    expect(await oneTurn(c, key())).toEqual(['OK', 2, '2'])
    expect(seen).toEqual({ writes: 1, chunks: 3 })
    // a worker connection queues commands while it reconnects (enableOfflineQueue), then sends them
    c.disconnect(true)
    const queued = oneTurn(c, key())
    await new Promise<void>((resolve) => c.once('ready', () => resolve()))
    expect(await queued).toEqual(['OK', 2, '2'])
    seen = countWrites(c)
    expect(await oneTurn(c, key())).toEqual(['OK', 2, '2'])
    expect(seen.writes).toBe(1)
  })

  it('leaves a blocking connection alone: it writes each command at once', async () => {
    const c = await open('blocking')
    const seen = countWrites(c)
    expect(await oneTurn(c, key())).toEqual(['OK', 2, '2'])
    expect(seen.writes).toBe(3)
  })
})
