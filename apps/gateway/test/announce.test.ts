import { describe, expect, it } from 'vitest'
import type { RawData } from 'ws'
import { Connection } from '../src/connection'
import { Delivery, type RawEntry } from '../src/delivery'
import { Registry } from '../src/registry'
import type { Sink } from '../src/sink'

/** A sink that records what a connection wrote to it. */
class RecordingSink implements Sink {
  readonly transport = 'ws'
  readonly open = true
  readonly bufferedAmount = 0
  readonly sent: { frame: Buffer | string; cursor: string | null }[] = []
  send(frame: Buffer | string, cursor: string | null): void {
    this.sent.push({ frame, cursor })
  }
  close(): void {}
  terminate(): void {}
  ping(): void {}
  onPong(): void {}
  onClose(_listener: (code: number) => void): void {}
  onFrame(_listener: (data: RawData, isBinary: boolean) => void): void {}
  pause(): void {}
  resume(): void {}
}

// users named p0-… are in partition 0, p1-… in partition 1
const partitionOf = (userId: string) => Number(userId.slice(1, 2))

let n = 0
function live(registry: Registry, userId: string, startCursor = '0') {
  const sink = new RecordingSink()
  const conn = new Connection(
    sink,
    { connId: `c${++n}`, userId, sessionId: `s${n}`, device: 'd', tokenHash: 'h', connectedAt: 0 },
    { slowConsumerBytes: 1 << 20, replayBufferMax: 100 },
    () => {},
  )
  registry.add(conn)
  conn.startsAt(startCursor)
  conn.goLive()
  return { conn, sink, got: () => sink.sent.map((s) => String(s.frame)) }
}

const frame = (id: string, cursor: string) => JSON.stringify({ type: 'message', cursor, id })
const announce = (id: string, cursor: string, extra: string[] = []): RawEntry => [
  `${++n}-0`,
  ['k', 'a', 'c', cursor, ...extra, 'p', frame(id, cursor)],
]

describe('announcement entries (k a)', () => {
  it("reach every socket of the partition's users and none of another partition's", () => {
    const registry = new Registry(partitionOf)
    const delivered: [string, number][] = []
    const delivery = new Delivery(registry, { onDelivered: (kind, written) => delivered.push([kind, written]) })
    const aliceLaptop = live(registry, 'p0-alice')
    const alicePhone = live(registry, 'p0-alice')
    const bob = live(registry, 'p0-bob')
    const carol = live(registry, 'p1-carol')
    expect(delivery.dispatch([announce('ann', '5')], 0)).toEqual({ written: 3, matched: 1 })
    for (const s of [aliceLaptop, alicePhone, bob]) expect(s.got()).toEqual([frame('ann', '5')])
    expect(carol.got()).toEqual([])
    expect(delivered).toEqual([['a', 3]])
    // encoded once for the entry, not per socket
    expect(aliceLaptop.sink.sent[0]?.frame).toBe(bob.sink.sent[0]?.frame)
    expect(aliceLaptop.sink.sent[0]?.cursor).toBe('5')

    expect(delivery.dispatch([announce('ann1', '6')], 1)).toEqual({ written: 1, matched: 1 })
    expect(carol.got()).toEqual([frame('ann1', '6')])
    expect(bob.got()).toEqual([frame('ann', '5')])
  })

  it('skip the users listed in u, and count as unmatched where the partition has no socket', () => {
    const registry = new Registry(partitionOf)
    const delivery = new Delivery(registry)
    const alice = live(registry, 'p0-alice')
    const bob = live(registry, 'p0-bob')
    const dave = live(registry, 'p0-dave')
    expect(delivery.dispatch([announce('ann', '5', ['u', 'p0-bob,p0-dave'])], 0)).toEqual({ written: 1, matched: 1 })
    expect(alice.got()).toEqual([frame('ann', '5')])
    expect(bob.got()).toEqual([])
    expect(dave.got()).toEqual([])
    // an empty `u` excludes nobody
    expect(delivery.dispatch([announce('ann2', '6', ['u', ''])], 0).written).toBe(3)
    expect(delivery.dispatch([announce('ann3', '7')], 3)).toEqual({ written: 0, matched: 0 })
  })

  it('are not sent when read after their expiry', () => {
    const registry = new Registry(partitionOf)
    const now = 1_000_000
    const delivery = new Delivery(registry, {}, () => now)
    const alice = live(registry, 'p0-alice')
    const stats = delivery.dispatch(
      [announce('late', '5', ['x', String(now - 1)]), announce('ok', '6', ['x', String(now + 60_000)])],
      0,
    )
    expect(stats).toEqual({ written: 1, matched: 1 })
    expect(alice.got()).toEqual([frame('ok', '6')])
  })

  it("are dropped at or below a connection's start cursor, and held while it replays", () => {
    const registry = new Registry(partitionOf)
    const delivery = new Delivery(registry)
    const behind = live(registry, 'p0-alice', '5')
    const fresh = live(registry, 'p0-bob', '2')
    delivery.dispatch([announce('a4', '4'), announce('a5', '5'), announce('a6', '6')], 0)
    expect(behind.got()).toEqual([frame('a6', '6')])
    expect(fresh.got()).toEqual([frame('a4', '4'), frame('a5', '5'), frame('a6', '6')])

    const sink = new RecordingSink()
    const replaying = new Connection(
      sink,
      { connId: 'replaying', userId: 'p0-erin', sessionId: 's', device: 'd', tokenHash: 'h', connectedAt: 0 },
      { slowConsumerBytes: 1 << 20, replayBufferMax: 100 },
      () => {},
    )
    registry.add(replaying)
    replaying.startsAt('7')
    delivery.dispatch([announce('a7', '7'), announce('a8', '8')], 0)
    expect(sink.sent).toEqual([])
    replaying.goLive()
    expect(sink.sent.map((s) => String(s.frame))).toEqual([frame('a8', '8')])
  })
})

describe('Registry by partition', () => {
  it('lists the users of one partition and forgets a user with their last socket', () => {
    const registry = new Registry(partitionOf)
    const a1 = live(registry, 'p0-alice')
    const a2 = live(registry, 'p0-alice')
    const c = live(registry, 'p1-carol')
    expect([...(registry.usersIn(0)?.keys() ?? [])]).toEqual(['p0-alice'])
    expect(registry.usersIn(0)?.get('p0-alice')?.size).toBe(2)
    expect([...(registry.usersIn(1)?.keys() ?? [])]).toEqual(['p1-carol'])
    expect(registry.remove(a1.conn)).toBe(true)
    expect(registry.usersIn(0)?.get('p0-alice')?.size).toBe(1)
    registry.remove(a2.conn)
    registry.remove(c.conn)
    expect(registry.usersIn(0)).toBeUndefined()
    expect(registry.usersIn(1)).toBeUndefined()
    expect([registry.size, registry.users]).toEqual([0, 0])
  })

  it('puts every user in partition 0 by default', () => {
    const registry = new Registry()
    live(registry, 'p1-carol')
    expect([...(registry.usersIn(0)?.keys() ?? [])]).toEqual(['p1-carol'])
    expect(registry.forUser('p1-carol')?.size).toBe(1)
  })
})
