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

  private async wait(keys: string[]): Promise<void> {
    if (this.opts.replicas <= 0) return
    const acked = await waitForReplicas(this.redis, keys, this.opts)
    if (acked < this.opts.replicas) {
      this.log.warn({ acked, wanted: this.opts.replicas }, 'a write was acknowledged before enough replicas held it')
    }
  }
}
