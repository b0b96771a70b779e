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
 * Pings go out in up to this many slices spread over PING_INTERVAL_MS, each socket in one: a
 * replica of 20,000 sockets writes 2,000 pings every tenth of the interval rather than 20,000
 * in one event-loop turn, which held every delivery of the replica back for as long.
 */
export const PING_SLICES = 10

/**
 * How many slices a replica of `sockets` uses: as few as keep each turn at `perTurn` pings or
 * fewer (1, 2, 5 or 10: they divide the interval's 10 ticks). Every slice wakes this process,
 * nginx and the clients, so a replica that can ping everyone in one turn does.
 */
export function pingSlicesFor(sockets: number, perTurn: number): 1 | 2 | 5 | 10 {
  const need = Math.ceil(sockets / Math.max(1, perTurn))
  return need <= 1 ? 1 : need <= 2 ? 2 : need <= 5 ? 5 : 10
}

/**
 * What keeps sockets, sessions and this replica alive: pings (WebSocket pings, SSE comment
 * lines, in up to PING_SLICES slices; a client that misses two is cut), one batched refresh of the sessions of open sockets per interval (a session
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
    /** PINGS_PER_TURN: the most pings one slice writes */
    private readonly pingsPerTurn: number,
  ) {}

  private pingTick = 0
  /** this interval's slices, chosen at its first tick from the sockets held then */
  private slices: number = PING_SLICES

  /**
   * Called PING_SLICES times per PING_INTERVAL_MS: the pings of this tick's slice, if it has
   * one. Each socket is pinged once per interval.
   */
  pingSlice(): void {
    const tick = this.pingTick++ % PING_SLICES
    if (tick === 0) this.slices = pingSlicesFor(this.registry.size, this.pingsPerTurn)
    const ticksPerSlice = PING_SLICES / this.slices
    if (tick % ticksPerSlice !== 0) return
    const slice = tick / ticksPerSlice
    for (const conn of this.registry.all()) {
      if (conn.pingSlot % this.slices !== slice) continue
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
