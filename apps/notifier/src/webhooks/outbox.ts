import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import type { WorkerLogger } from '../worker'
import type { WebhookDispatcher } from './dispatch'

const GROUP = 'webhooks'
/** Entries read per partition per poll. */
const BATCH = 200
/** A consumer that holds an entry this long without acking it (it died) loses it to another. */
const CLAIM_IDLE_MS = 30_000

export interface OutboxRelayOptions {
  /** time between two passes over the partitions */
  pollMs: number
  /**
   * how long a note may stay pending with a consumer before another claims it; stale notes are
   * looked for every half of it, not on every pass @default 30000
   */
  claimIdleMs?: number
}

type Entry = [id: string, fields: string[]]

/**
 * Relays the partitions' webhook outboxes (first acks and first reads, noted by the inbox's
 * receipt scripts; users going online and offline, noted by the presence scripts) to the
 * webhook queue: receipts to the message's calling system, presence to every system
 * subscribed to it (an offline held back for its settle window), through one consumer group so each note is relayed
 * by one worker. Non-blocking reads of every partition on a timer: the notes are rare next
 * to messages, and the delivery path pays nothing for them. A note is acked once its jobs
 * are queued; one left pending by a worker that died is claimed once it has waited
 * `claimIdleMs` (looked for every half of that: a pass of an idle worker is one read per
 * partition), and queuing it twice is harmless (job ids are deterministic).
 */
export class OutboxRelay {
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private grouped = new Set<number>()
  /** when the last pass that claimed stale notes began (ms) */
  private claimedAt = -Infinity

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly dispatcher: Pick<WebhookDispatcher, 'emit'>,
    private readonly opts: OutboxRelayOptions,
    private readonly log?: WorkerLogger,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.pollAll()
        .then(
          () => {},
          (err: Error) => this.log?.warn({ err: err.message }, 'webhook outbox poll failed'),
        )
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.opts.pollMs)
        })
    }
    this.timer = setTimeout(tick, 0)
  }

  async stop(): Promise<void> {
    const t = this.timer
    this.timer = null
    if (t) clearTimeout(t)
    await this.running
  }

  /** One pass over every partition: stale notes (every half claim-idle time), then new ones. */
  async pollAll(): Promise<number> {
    const idleMs = this.claimIdleMs
    const now = Date.now()
    const claim = now - this.claimedAt >= idleMs / 2
    if (claim) this.claimedAt = now
    const counts = await Promise.all(this.keys.allPartitions().map((p) => this.poll(p, claim ? idleMs : null)))
    return counts.reduce((a, b) => a + b, 0)
  }

  private get claimIdleMs(): number {
    return this.opts.claimIdleMs ?? CLAIM_IDLE_MS
  }

  /** `claimIdleMs`: claim the notes pending this long with another consumer first (null: not this pass) */
  private async poll(p: number, claimIdleMs: number | null): Promise<number> {
    const key = this.keys.webhookOutbox(p)
    if (!this.grouped.has(p)) {
      await this.redis.xgroup('CREATE', key, GROUP, '0', 'MKSTREAM').catch((err: Error) => {
        if (!err.message.includes('BUSYGROUP')) throw err
      })
      this.grouped.add(p)
    }
    const claimed =
      claimIdleMs === null
        ? null
        : ((await this.redis.xautoclaim(key, GROUP, this.consumer, claimIdleMs, '0-0', 'COUNT', BATCH)) as [
            string,
            Entry[],
          ])
    const fresh = (await this.redis.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', BATCH, 'STREAMS', key, '>')) as
      | [string, Entry[]][]
      | null
    // a full batch of stale notes: there may be more, claimed on the next pass
    if (claimed && claimed[1].length >= BATCH) this.claimedAt = -Infinity
    const entries = [...(claimed?.[1] ?? []), ...(fresh?.[0]?.[1] ?? [])].filter((e) => e[1])
    if (entries.length === 0) return 0
    for (const [, fields] of entries) await this.relay(fields)
    await this.redis.xack(key, GROUP, ...entries.map((e) => e[0]))
    return entries.length
  }

  private async relay(fields: string[]): Promise<void> {
    const f: Record<string, string> = {}
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string
    const t = Number(f.t)
    if (!f.u || !Number.isFinite(t)) return
    const at = new Date(t).toISOString()
    if (f.e === 'on') {
      await this.dispatcher.emit(null, 'user.online', { userId: f.u, at }, `${f.u}:${t}`)
      return
    }
    if (f.e === 'off') {
      // announced once the settle window has passed with no reconnect (the worker checks)
      const delayMs = Math.max(0, t + Number(f.w ?? 0) - Date.now())
      const settle = { userId: f.u, since: t }
      await this.dispatcher.emit(null, 'user.offline', { userId: f.u, at }, `${f.u}:${t}`, { delayMs, settle })
      return
    }
    if (!f.m || !f.s) return
    // a first ack ('d') or a first read ('r') of a message of the caller `s`
    if (f.e === 'd')
      await this.dispatcher.emit(f.s, 'message.delivered', { messageId: f.m, userId: f.u, deliveredAt: at }, f.m)
    else if (f.e === 'r')
      await this.dispatcher.emit(f.s, 'message.read', { messageId: f.m, userId: f.u, readAt: at }, f.m)
  }
}
