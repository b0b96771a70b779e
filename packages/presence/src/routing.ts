import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { STALE } from './commands/route-lib'

export { ROUTE_LIB, STALE } from './commands/route-lib'

/** What a routed script needs besides its own keys: every known replica's stream in the partition. */
export interface RouteArgs {
  /** the replicas' names, in the order of `streams` */
  names: string[]
  /** their streams in the partition (to go in KEYS) */
  streams: string[]
  /** replicas that left the directory but may still appear in a routes hash: not appended to */
  skip: string[]
}

/**
 * The gateway replicas known to the cluster (the replicas sorted set, live and not yet
 * reaped), cached. Routed scripts are given every known replica's stream and append only to
 * those in the user's routes; a replica registers itself here before it takes any socket, so
 * a script that meets an unknown route (`STALE`, nothing written) succeeds after one refresh.
 */
export class ReplicaDirectory {
  private names: string[] = []
  private loadedAt = -Infinity
  private loading: Promise<string[]> | null = null

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly maxAgeMs = 5000,
  ) {}

  async list(now = Date.now()): Promise<string[]> {
    if (now - this.loadedAt < this.maxAgeMs) return this.names
    return this.refresh()
  }

  refresh(): Promise<string[]> {
    this.loading ??= this.redis
      .zrange(this.keys.replicas(), 0, -1)
      .then((names) => {
        this.names = names
        this.loadedAt = Date.now()
        return names
      })
      .finally(() => {
        this.loading = null
      })
    return this.loading
  }

  args(partition: number, names: string[], skip: string[] = []): RouteArgs {
    return { names, streams: names.map((n) => this.keys.gatewayStream(partition, n)), skip }
  }

  /**
   * Runs a routed script for one partition. `call` gets the route arguments; its reply is
   * `['!STALE', replica…]` when the replica list was stale (nothing written): the list is
   * reloaded and the call repeated; replicas still unknown after a reload have left the
   * cluster (reaped) and are skipped.
   */
  async run<R>(partition: number, call: (r: RouteArgs) => Promise<R>): Promise<R> {
    let names = await this.list()
    let skip: string[] = []
    for (let attempt = 0; ; attempt++) {
      const reply = await call(this.args(partition, names, skip))
      const missing = staleReplicas(reply)
      if (!missing) return reply
      if (attempt >= 2) throw new Error(`replica list still stale after ${attempt + 1} tries: ${missing.join(',')}`)
      names = await this.refresh()
      skip = [...skip, ...missing.filter((m) => !names.includes(m))]
    }
  }
}

/** The replicas a routed script did not know, or null when the reply is a real one. */
export function staleReplicas(reply: unknown): string[] | null {
  if (Array.isArray(reply) && reply[0] === STALE) return reply.slice(1) as string[]
  return null
}
