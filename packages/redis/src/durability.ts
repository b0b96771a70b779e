import calculateSlot from 'cluster-key-slot'
import type { Redis } from 'ioredis'
import { isCluster } from './client'
import type { RedisClient } from './scripts'

export interface DurabilityOptions {
  /** replicas that must hold a write before it is acknowledged (0: do not wait) */
  replicas: number
  /** longest wait, in ms */
  timeoutMs: number
}

/** The connection that serves a key's slot: the client itself, or the Cluster node owning it. */
function nodeFor(client: RedisClient, key: string): Redis | null {
  if (!isCluster(client)) return client
  const owner = client.slots[calculateSlot(key)]?.[0]
  return client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner) ?? null
}

/** How often a node's count of connected replicas is read again (INFO replication). */
const REPLICAS_TTL_MS = 1000

/**
 * WAIT on one connection. WAIT blocks the connection it is sent on, and every command
 * pipelined behind it, so at most one is in flight: a caller that comes while one is
 * pending waits for the next, which is sent after it and so covers the caller's writes.
 * A node with no connected replica (just after a failover, before a replica re-attaches)
 * is not waited on at all: there is nothing to wait for, and each WAIT would stall the
 * connection for its whole timeout.
 */
class NodeWaiter {
  private inflight: Promise<number> | null = null
  private next: Promise<number> | null = null
  private replicas = 0
  private checkedAt = -Infinity

  constructor(private readonly node: Redis) {}

  async wait(n: number, timeoutMs: number): Promise<number> {
    if ((await this.connectedReplicas()) === 0) return 0
    if (!this.inflight) {
      this.inflight = this.send(n, timeoutMs)
      return this.inflight
    }
    const pending = this.inflight
    this.next ??= pending
      .catch(() => 0)
      .then(() => {
        this.next = null
        return this.wait(n, timeoutMs)
      })
    return this.next
  }

  private send(n: number, timeoutMs: number): Promise<number> {
    return this.node
      .wait(n, timeoutMs)
      .then(Number)
      .finally(() => {
        this.inflight = null
      })
  }

  private async connectedReplicas(): Promise<number> {
    if (Date.now() - this.checkedAt < REPLICAS_TTL_MS) return this.replicas
    const info = await this.node.info('replication')
    this.replicas = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0)
    this.checkedAt = Date.now()
    return this.replicas
  }
}

const waiters = new WeakMap<Redis, NodeWaiter>()

/**
 * Waits (Redis WAIT) until `replicas` replicas hold every write made so far on the
 * connections that serve `keys` (one per Cluster node): after it, a failover that promotes
 * one of them loses none of those writes. Resolves with the fewest replicas that
 * acknowledged in time on any of those nodes — fewer than asked when a replica is down,
 * slow or not attached; the writes stand either way.
 */
export async function waitForReplicas(client: RedisClient, keys: string[], opts: DurabilityOptions): Promise<number> {
  if (opts.replicas <= 0 || keys.length === 0) return 0
  const nodes = new Set<Redis>()
  for (const k of keys) {
    const n = nodeFor(client, k)
    if (n) nodes.add(n)
  }
  const acked = await Promise.all(
    [...nodes].map((node) => {
      let w = waiters.get(node)
      if (!w) {
        w = new NodeWaiter(node)
        waiters.set(node, w)
      }
      return w.wait(opts.replicas, opts.timeoutMs)
    }),
  )
  return Math.min(...acked)
}
