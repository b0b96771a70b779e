import type { Keys } from '@herald/keys'
import type { Redis } from 'ioredis'
import { CONNECT } from './commands/connect'
import { DISCONNECT } from './commands/disconnect'
import { REAP } from './commands/reap'
import type { ConnectionRecord } from './read'

type Cmd = (...args: (string | number)[]) => Promise<number>
type PresenceRedis = Redis & Record<'heraldPresenceConnect' | 'heraldPresenceDisconnect' | 'heraldPresenceReap', Cmd>

function define(redis: Redis): PresenceRedis {
  const r = redis as PresenceRedis
  if (typeof r.heraldPresenceConnect !== 'function') {
    redis.defineCommand('heraldPresenceConnect', { numberOfKeys: 5, lua: CONNECT })
    redis.defineCommand('heraldPresenceDisconnect', { numberOfKeys: 4, lua: DISCONNECT })
    redis.defineCommand('heraldPresenceReap', { numberOfKeys: 4, lua: REAP })
  }
  return r
}

export interface PresenceWriterOptions {
  /** this replica's name */
  replica: string
  /** how long a heartbeat keeps the replica alive, in ms @default 15000 */
  replicaTtlMs?: number
}

/**
 * The write side of presence, used by one gateway replica: its connections, its
 * heartbeat, and the reaping of replicas whose heartbeat stopped (no key scan:
 * each replica indexes its own connections).
 */
export class PresenceWriter {
  private readonly redis: PresenceRedis
  readonly replica: string
  readonly replicaTtlMs: number

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    opts: PresenceWriterOptions,
  ) {
    this.redis = define(redis)
    this.replica = opts.replica
    this.replicaTtlMs = opts.replicaTtlMs ?? 15_000
  }

  /** Registers a connection; false when the user already holds `maxPerUser` live connections. */
  async connect(
    connId: string,
    userId: string,
    rec: Omit<ConnectionRecord, 'replica'>,
    opts: { maxPerUser?: number; now?: number } = {},
  ): Promise<boolean> {
    const k = this.keys
    const json = JSON.stringify({ replica: this.replica, ...rec })
    const res = await this.redis.heraldPresenceConnect(
      k.presence(userId),
      k.replicaConnections(this.replica),
      k.replicaUsers(this.replica),
      k.onlineUsers(),
      k.replicas(),
      connId,
      userId,
      json,
      opts.maxPerUser ?? 0,
      opts.now ?? Date.now(),
    )
    return res === 1
  }

  async disconnect(connId: string, userId: string): Promise<void> {
    const k = this.keys
    await this.redis.heraldPresenceDisconnect(
      k.presence(userId),
      k.replicaConnections(this.replica),
      k.replicaUsers(this.replica),
      k.onlineUsers(),
      connId,
      userId,
    )
  }

  /**
   * Extends this replica's deadline, then reaps every replica whose deadline passed.
   * `rejoined` is true when this replica had been reaped itself (it stalled past its
   * deadline): the caller must register its live connections again.
   */
  async heartbeat(now = Date.now()): Promise<{ rejoined: boolean; reaped: string[] }> {
    const added = await this.redis.zadd(this.keys.replicas(), now + this.replicaTtlMs, this.replica)
    const dead = await this.redis.zrangebyscore(this.keys.replicas(), '-inf', `(${now}`)
    const reaped: string[] = []
    for (const r of dead) {
      if (r === this.replica) continue
      if ((await this.reap(r, { now })) >= 0) reaped.push(r)
    }
    return { rejoined: Number(added) === 1, reaped }
  }

  /** Removes every connection of a replica from presence; `force` even when it looks alive. */
  async reap(replica: string, opts: { now?: number; force?: boolean } = {}): Promise<number> {
    const k = this.keys
    return this.redis.heraldPresenceReap(
      k.replicas(),
      k.replicaConnections(replica),
      k.replicaUsers(replica),
      k.onlineUsers(),
      replica,
      k.presence(''),
      opts.now ?? Date.now(),
      opts.force ? '1' : '0',
    )
  }

  /** This replica leaves presence: every connection it held, at once (shutdown, or a restart under the same name). */
  async leave(): Promise<number> {
    return this.reap(this.replica, { force: true })
  }
}
