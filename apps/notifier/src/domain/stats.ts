import type { StatsView, StreamStats } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import { getStats } from '@herald/presence'
import type { Redis } from 'ioredis'
import type { EventsQueue } from '../queue'

/** `GET /v1/stats`: presence figures from the gateways' keys, BullMQ's counts, and the delivery stream. */
export class Stats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly queue: EventsQueue,
  ) {}

  async read(now = Date.now()): Promise<StatsView> {
    const [presence, counts, stream] = await Promise.all([
      getStats(this.redis, this.keys, now),
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
      this.stream(),
    ])
    const n = (k: string) => Number(counts[k] ?? 0)
    return {
      ...presence,
      queue: {
        waiting: n('waiting'),
        active: n('active'),
        delayed: n('delayed'),
        failed: n('failed'),
        completed: n('completed'),
      },
      stream,
    }
  }

  private async stream(): Promise<StreamStats> {
    const key = this.keys.stream()
    const [[, length], [, last]] = (await this.redis.multi().xlen(key).xrevrange(key, '+', '-', 'COUNT', 1).exec()) as [
      [null, number],
      [null, [string, string[]][]],
    ]
    return { length: Number(length), lastId: last[0]?.[0] ?? null }
  }
}
