import type { Keys } from '@herald/keys'
import { type RedisClient, waitForReplicas } from '@herald/redis'

export interface DurabilityLog {
  warn(obj: object, msg?: string): void
}

/**
 * What the API waits for before it acknowledges a write: with REDIS_WAIT_REPLICAS > 0, that
 * many replicas hold it (Redis WAIT on the node of each slot written), so a Sentinel or
 * Cluster failover — which promotes a replica — cannot lose an acknowledged event or
 * message. A replica that does not answer in REDIS_WAIT_TIMEOUT_MS delays the answer by
 * that much, no more; it is logged, and the write stands on the primary.
 */
export class Durability {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly opts: { replicas: number; timeoutMs: number },
    private readonly log: DurabilityLog,
  ) {}

  /** After an accepted event (its record and its BullMQ job). */
  async accepted(): Promise<void> {
    await this.wait([this.keys.bullPrefix()])
  }

  /** After messages written for these users (their partitions' slots). */
  async delivered(userIds: string[]): Promise<void> {
    const parts = new Set(userIds.map((u) => this.keys.partitionOf(u)))
    await this.wait([...parts].map((p) => this.keys.cursor(p)))
  }

  private warnedAt = -Infinity

  private async wait(keys: string[]): Promise<void> {
    if (this.opts.replicas <= 0) return
    const acked = await waitForReplicas(this.redis, keys, this.opts)
    // at most one line per 10 s: after a failover every write is short until a replica attaches
    if (acked < this.opts.replicas && Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now()
      this.log.warn({ acked, wanted: this.opts.replicas }, 'writes acknowledged before enough replicas held them')
    }
  }
}
