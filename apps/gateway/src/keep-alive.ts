import { CloseCode } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { PresenceWriter } from '@herald/presence'
import type { SessionStore } from '@herald/sessions'
import type { Connection } from './connection'
import type { Registry } from './registry'

export interface KeepAliveLog {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

/**
 * Pings go out in this many slices spread over PING_INTERVAL_MS, each socket in one: a replica
 * of 20,000 sockets writes 2,000 pings every tenth of the interval rather than 20,000 in one
 * event-loop turn, which held every delivery of the replica back for as long.
 */
export const PING_SLICES = 10

/**
 * What keeps sockets, sessions and this replica alive: pings (WebSocket pings, SSE comment
 * lines, in PING_SLICES slices; a client that misses two is cut), one batched refresh of the sessions of open sockets per interval (a session
 * that ended closes its sockets 4409), and the replica's heartbeat in presence (which also
 * reaps dead replicas, and registers this replica's sockets again if it was itself reaped).
 */
export class KeepAlive {
  constructor(
    private readonly registry: Registry,
    private readonly presence: PresenceWriter,
    private readonly sessions: SessionStore,
    private readonly keys: Keys,
    private readonly log: KeepAliveLog,
  ) {}

  private pingTick = 0

  /** The next slice's pings: called PING_SLICES times per PING_INTERVAL_MS, each socket pinged once per interval. */
  pingSlice(): void {
    const slice = this.pingTick++ % PING_SLICES
    for (const conn of this.registry.all()) {
      if (conn.pingSlot !== slice) continue
      if (conn.missedPongs >= 2) {
        conn.markClosed(1006)
        conn.sink.terminate()
        continue
      }
      conn.missedPongs++
      conn.sink.ping()
    }
  }

  async touchSessions(): Promise<void> {
    const byHash = new Map<string, Connection[]>()
    for (const c of this.registry.all()) {
      const list = byHash.get(c.info.tokenHash)
      if (list) list.push(c)
      else byHash.set(c.info.tokenHash, [c])
    }
    if (byHash.size === 0) return
    const hashes = [...byHash.keys()]
    const records = await this.sessions.touchManyHashes(hashes)
    records.forEach((rec, i) => {
      if (rec) return
      for (const c of byHash.get(hashes[i] as string) ?? []) c.close(CloseCode.SESSION_ENDED, 'session ended')
    })
  }

  async heartbeat(): Promise<void> {
    const { rejoined, reaped } = await this.presence.heartbeat()
    if (reaped.length) this.log.info({ reaped }, 'reaped dead replicas from presence')
    if (rejoined) {
      // this replica stalled past its deadline and was reaped: put its sockets back
      this.log.warn({}, 'replica was reaped while alive; registering its sockets again')
      await this.register([...this.registry.all()].filter((c) => c.state === 'live'))
      return
    }
    await this.reconcile()
  }

  /**
   * Registers again the live sockets of any partition where presence lists fewer of this
   * replica's connections than it holds: registrations lost by a failover (asynchronous
   * replication) or a flushed Redis. Until then the users' entries would not be routed here.
   */
  private async reconcile(): Promise<void> {
    const byPartition = new Map<number, Connection[]>()
    for (const c of this.registry.all()) {
      if (c.state !== 'live') continue
      const p = this.keys.partitionOf(c.userId)
      const list = byPartition.get(p)
      if (list) list.push(c)
      else byPartition.set(p, [c])
    }
    const held = [...byPartition]
    const listed = await Promise.all(held.map(([p]) => this.presence.countIn(p)))
    for (const [i, [p, conns]] of held.entries()) {
      if ((listed[i] as number) >= conns.length) continue
      this.log.warn(
        { partition: p, listed: listed[i], held: conns.length },
        'presence lost connections; registering them again',
      )
      await this.register(conns)
    }
  }

  private async register(conns: Connection[]): Promise<void> {
    await Promise.all(
      conns.map((c) =>
        this.presence.connect(c.connId, c.userId, {
          device: c.info.device,
          sessionId: c.info.sessionId,
          connectedAt: new Date(c.info.connectedAt).toISOString(),
        }),
      ),
    )
  }
}
