import type { Keys } from '@herald/keys'
import { defineScripts, type RedisClient } from '@herald/redis'
import { control } from './commands/control-n'
import { presenceConnect } from './commands/presence-connect-9'
import { presenceDisconnect } from './commands/presence-disconnect-8'
import { presenceReap } from './commands/presence-reap-n'
import { type ConnectionRecord, PRESENCE_SETTLE_MS, WEBHOOK_OUTBOX_MAXLEN } from './read'
import { ReplicaDirectory } from './routing'

const SCRIPTS = [presenceConnect, presenceDisconnect, presenceReap, control] as const
const withScripts = (redis: RedisClient) => defineScripts(redis, SCRIPTS)

export interface PresenceWriterOptions {
  /** this replica's name */
  replica: string
  /** how long a heartbeat keeps the replica alive, in ms @default 15000 */
  replicaTtlMs?: number
  /** connections removed per reap step @default 500 */
  reapBatch?: number
  /** how long presence settles before a change is announced to webhooks @default PRESENCE_SETTLE_MS */
  settleMs?: number
}

export type ConnectResult = { ok: true; cursor: string } | { ok: false }

/**
 * The write side of presence, used by one gateway replica: its connections (which also
 * route the users' entries to its streams), its heartbeat, and the reaping of replicas
 * whose heartbeat stopped (no key scan: each replica indexes its connections per partition).
 */
export class PresenceWriter {
  private readonly redis: ReturnType<typeof withScripts>
  readonly replica: string
  readonly replicaTtlMs: number
  private readonly reapBatch: number
  private readonly settleMs: number
  /** replicas whose deadline passed at the last heartbeat (they do not count against a user's cap) */
  private dead: string[] = []

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    opts: PresenceWriterOptions,
  ) {
    this.redis = withScripts(redis)
    this.replica = opts.replica
    this.replicaTtlMs = opts.replicaTtlMs ?? 15_000
    this.reapBatch = opts.reapBatch ?? 500
    this.settleMs = opts.settleMs ?? PRESENCE_SETTLE_MS
  }

  /**
   * Registers a connection. Returns the cursor the connection starts from: every later
   * message of the user reaches this replica's stream, every earlier one is in the inbox.
   * `ok: false` when the user already holds `maxPerUser` live connections.
   */
  async connect(
    connId: string,
    userId: string,
    rec: Omit<ConnectionRecord, 'replica'>,
    opts: { maxPerUser?: number } = {},
  ): Promise<ConnectResult> {
    const k = this.keys
    const p = k.partitionOf(userId)
    const json = JSON.stringify({ replica: this.replica, ...rec })
    const [ok, cursor] = (await this.redis.heraldPresenceConnect(
      k.presence(userId),
      k.routes(userId),
      k.replicaConnections(p, this.replica),
      k.replicaUsers(p, this.replica),
      k.onlineUsers(p),
      k.cursor(p),
      k.presenceOfflineAt(userId),
      k.webhookOutbox(p),
      k.partitionReplicas(p),
      connId,
      userId,
      json,
      this.replica,
      opts.maxPerUser ?? 0,
      this.settleMs,
      WEBHOOK_OUTBOX_MAXLEN,
      ...this.dead,
    )) as [number, string]
    return ok === 1 ? { ok: true, cursor } : { ok: false }
  }

  async disconnect(connId: string, userId: string): Promise<void> {
    const k = this.keys
    const p = k.partitionOf(userId)
    await this.redis.heraldPresenceDisconnect(
      k.presence(userId),
      k.routes(userId),
      k.replicaConnections(p, this.replica),
      k.replicaUsers(p, this.replica),
      k.onlineUsers(p),
      k.presenceOfflineAt(userId),
      k.webhookOutbox(p),
      k.partitionReplicas(p),
      connId,
      userId,
      this.replica,
      this.settleMs,
      WEBHOOK_OUTBOX_MAXLEN,
    )
  }

  /**
   * Extends this replica's deadline, then reaps every replica whose deadline passed.
   * `rejoined` is true when this replica had been reaped itself (it stalled past its
   * deadline): the caller must register its live connections again.
   */
  async heartbeat(now = Date.now()): Promise<{ rejoined: boolean; reaped: string[] }> {
    const added = await this.redis.zadd(this.keys.replicas(), now + this.replicaTtlMs, this.replica)
    const dead = (await this.redis.zrangebyscore(this.keys.replicas(), '-inf', `(${now}`)).filter(
      (r) => r !== this.replica,
    )
    this.dead = dead
    const reaped: string[] = []
    for (const r of dead) if (await this.reap(r, { now })) reaped.push(r)
    return { rejoined: Number(added) === 1, reaped }
  }

  /**
   * Removes every connection of a replica from presence, partition by partition in bounded
   * steps, then the replica itself. False when another replica is reaping it, or it came back.
   * `force`: even when it looks alive (its own shutdown, or a restart under the same name).
   */
  async reap(replica: string, opts: { now?: number; force?: boolean } = {}): Promise<boolean> {
    const k = this.keys
    const now = opts.now ?? Date.now()
    if (!opts.force) {
      const deadline = await this.redis.zscore(k.replicas(), replica)
      if (deadline !== null && Number(deadline) >= now) return false
      if ((await this.redis.set(k.replicaReaping(replica), this.replica, 'PX', 30_000, 'NX')) !== 'OK') return false
    }
    for (const p of k.allPartitions()) await this.reapPartition(p, replica)
    // last: while its routes were being removed, routed writers still knew its streams
    if (opts.force) await this.redis.zrem(k.replicas(), replica)
    else {
      const deadline = await this.redis.zscore(k.replicas(), replica)
      if (deadline !== null && Number(deadline) < now) await this.redis.zrem(k.replicas(), replica)
    }
    return true
  }

  private async reapPartition(p: number, replica: string): Promise<void> {
    const k = this.keys
    const conns = k.replicaConnections(p, replica)
    let cursor = '0'
    // bounded: each pass removes what it read, and a replica holds finitely many connections
    for (let pass = 0; pass < 100_000; pass++) {
      const [next, flat] = await this.redis.hscan(conns, cursor, 'COUNT', this.reapBatch)
      const keys = [
        conns,
        k.replicaUsers(p, replica),
        k.onlineUsers(p),
        k.gatewayStream(p, replica),
        k.webhookOutbox(p),
        k.partitionReplicas(p),
      ]
      const args: (string | number)[] = [replica, this.settleMs, WEBHOOK_OUTBOX_MAXLEN]
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const user = flat[i + 1] as string
        keys.push(k.presence(user), k.routes(user), k.presenceOfflineAt(user))
        args.push(flat[i] as string, user)
      }
      const [, left] = (await this.redis.heraldPresenceReap(keys.length, ...keys, ...args)) as [number, number]
      if (left === 0 || next === '0') {
        if (left === 0 || flat.length === 0) return
        cursor = '0'
        continue
      }
      cursor = next
    }
  }

  /** How many connections presence lists for this replica in one partition. */
  async countIn(partition: number): Promise<number> {
    return this.redis.hlen(this.keys.replicaConnections(partition, this.replica))
  }

  /** This replica leaves presence: every connection it held, at once (shutdown, or a restart under the same name). */
  async leave(): Promise<void> {
    await this.reap(this.replica, { force: true })
  }
}

/**
 * Closes a user's sockets (4409) on every gateway that holds them: all of them, or those of
 * one session. Routed like messages: only the gateways holding the user read the entry.
 */
export class ControlWriter {
  private readonly redis: ReturnType<typeof withScripts>
  private readonly directory: ReplicaDirectory

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly maxLen: number,
    directory?: ReplicaDirectory,
  ) {
    this.redis = withScripts(redis)
    this.directory = directory ?? new ReplicaDirectory(redis, keys)
  }

  async close(userId: string, reason: string, sessionId = ''): Promise<number> {
    const k = this.keys
    const p = k.partitionOf(userId)
    return this.directory.run(p, async (r) => {
      const keys = [k.routes(userId), ...r.streams]
      return (await this.redis.heraldControl(
        keys.length,
        ...keys,
        this.maxLen,
        userId,
        sessionId,
        reason,
        r.names.length,
        ...r.names,
        ...r.skip,
      )) as number
    })
  }
}
