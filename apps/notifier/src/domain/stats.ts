import type { StatsView, StreamStats } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import { getStats } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import type { EventsQueue } from '../queue'

/** `GET /v1/stats`: presence figures from the gateways' keys, BullMQ's counts, and the gateways' streams. */
export class Stats {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly queue: EventsQueue,
  ) {}

  async read(now = Date.now()): Promise<StatsView> {
    const [presence, counts] = await Promise.all([
      getStats(this.redis, this.keys, now),
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
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
      stream: await this.streams(presence.replicas.map((r) => r.id)),
    }
  }

  /** Entries waiting in the gateways' streams, summed, and the newest entry id. */
  private async streams(replicas: string[]): Promise<StreamStats> {
    const rows = await Promise.all(
      replicas.flatMap((r) =>
        this.keys.allPartitions().map(async (p) => {
          const key = this.keys.gatewayStream(p, r)
          const [length, last] = await Promise.all([
            this.redis.xlen(key),
            this.redis.xrevrange(key, '+', '-', 'COUNT', 1) as Promise<[string, string[]][]>,
          ])
          return { length, lastId: last[0]?.[0] ?? null }
        }),
      ),
    )
    const lastId = rows
      .map((r) => r.lastId)
      .filter((id): id is string => id !== null)
      .sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]))
      .pop()
    return { length: rows.reduce((n, r) => n + r.length, 0), lastId: lastId ?? null }
  }
}
