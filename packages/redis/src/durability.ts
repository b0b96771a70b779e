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

/**
 * Waits (Redis WAIT) until `replicas` replicas hold every write made so far on the
 * connections that serve `keys` (one per Cluster node): after it, a failover that promotes
 * one of them loses none of those writes. Resolves with the fewest replicas that
 * acknowledged in time on any of those nodes — fewer than asked when a replica is down or
 * slow; the writes stand either way.
 */
export async function waitForReplicas(client: RedisClient, keys: string[], opts: DurabilityOptions): Promise<number> {
  if (opts.replicas <= 0 || keys.length === 0) return 0
  const nodes = new Set<Redis>()
  for (const k of keys) {
    const n = nodeFor(client, k)
    if (n) nodes.add(n)
  }
  const acked = await Promise.all([...nodes].map(async (n) => Number(await n.wait(opts.replicas, opts.timeoutMs))))
  return Math.min(...acked)
}
