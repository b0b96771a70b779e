import { createHash, ECDH } from 'node:crypto'
import type { Keys } from '@herald/keys'
import { defineScripts, type RedisClient, setPages } from '@herald/redis'
import { type TargetPolicy, urlProblem } from '@herald/webhooks'
import { pushIndex } from './commands/push-index-1'
import { pushSubscribe } from './commands/push-subscribe-2'
import { pushUnsubscribe } from './commands/push-unsubscribe-2'

const SCRIPTS = [pushSubscribe, pushUnsubscribe, pushIndex] as const

/** Longest endpoint URL accepted (the browsers' push services use a few hundred characters). */
export const MAX_ENDPOINT_LENGTH = 1024
/** Subscriptions one user may hold by default (one per browser profile and device). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 10

/** A browser's `PushSubscription.toJSON()`: where to send and the keys to encrypt for. */
export interface PushSubscriptionInput {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

export interface StoredSubscription extends PushSubscriptionInput {
  /** a digest of the endpoint: the subscription's id in the user's hash */
  id: string
  createdAt: number
}

export type SubscribeOutcome = 'added' | 'replaced' | 'full'
const OUTCOMES: Record<string, SubscribeOutcome> = { '1': 'added', '2': 'replaced', '0': 'full' }

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/

/** The id of a subscription: endpoints are long, and only their owner's hash needs them. */
export function subscriptionId(endpoint: string): string {
  return createHash('sha256').update(endpoint).digest('base64url').slice(0, 22)
}

/**
 * What is wrong with a subscription (null when nothing): the endpoint must be an https URL
 * of bounded length that the SSRF policy allows, `p256dh` a P-256 public key (65 bytes,
 * uncompressed, on the curve) and `auth` a 16-byte secret, both base64url.
 */
export function subscriptionProblem(policy: TargetPolicy, sub: PushSubscriptionInput): string | null {
  if (sub.endpoint.length > MAX_ENDPOINT_LENGTH) return `endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters`
  const problem = urlProblem({ ...policy, allowHttp: false }, sub.endpoint)
  if (problem) return `endpoint ${problem}`
  const { p256dh, auth } = sub.keys
  if (!B64URL.test(p256dh) || !B64URL.test(auth)) return 'keys must be base64url'
  const pub = Buffer.from(p256dh, 'base64url')
  if (pub.length !== 65 || pub[0] !== 4) return 'keys.p256dh must be an uncompressed P-256 public key'
  try {
    ECDH.convertKey(pub, 'prime256v1')
  } catch {
    return 'keys.p256dh is not a point of P-256'
  }
  if (Buffer.from(auth, 'base64url').length !== 16) return 'keys.auth must be 16 bytes'
  return null
}

/**
 * The users' Web Push subscriptions: the only code that reads or writes them. One hash per
 * user in the user's partition (the delivery script checks it exists, in the same slot),
 * at most `max` entries; an endpoint registered again replaces its keys.
 */
export class PushSubscriptions {
  private readonly redis: ReturnType<typeof defineScripts<(typeof SCRIPTS)[number]['name']>>

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly max = DEFAULT_MAX_SUBSCRIPTIONS,
  ) {
    this.redis = defineScripts(redis, SCRIPTS)
  }

  /** Stores a subscription the caller validated with `subscriptionProblem`. */
  async add(userId: string, sub: PushSubscriptionInput, now = Date.now()): Promise<SubscribeOutcome> {
    const stored: StoredSubscription = {
      id: subscriptionId(sub.endpoint),
      endpoint: sub.endpoint,
      keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth },
      createdAt: now,
    }
    const out = await this.redis.heraldPushSubscribe(
      this.keys.pushSubscriptions(userId),
      this.keys.pushSubscribers(this.keys.partitionOf(userId)),
      this.max,
      stored.id,
      JSON.stringify(stored),
      userId,
    )
    return OUTCOMES[String(out)] ?? 'full'
  }

  /** Removes the user's subscription of this endpoint; false when there was none. */
  async remove(userId: string, endpoint: string): Promise<boolean> {
    return this.removeId(userId, subscriptionId(endpoint))
  }

  /** Removes a subscription by id (the push service said it is gone). */
  async removeId(userId: string, id: string): Promise<boolean> {
    const out = await this.redis.heraldPushUnsubscribe(
      this.keys.pushSubscriptions(userId),
      this.keys.pushSubscribers(this.keys.partitionOf(userId)),
      id,
      userId,
    )
    return Number(out) === 1
  }

  /**
   * The partition's users holding a subscription, a page of about `pageSize` at a time (SSCAN):
   * the walk of a message to everyone's pushes. A user subscribed for the whole walk comes at
   * least once; one may come twice.
   */
  subscriberPagesIn(partition: number, pageSize: number): AsyncGenerator<string[]> {
    return setPages(this.redis, this.keys.pushSubscribers(partition), pageSize)
  }

  /**
   * Adds the users who subscribed before the partitions' subscriber sets existed (an upgrade):
   * once per partition (a marker key), a page of the partition's users at a time (`pagesOf`: the
   * users store's walk). Returns how many users were added.
   */
  async indexSubscribers(pagesOf: (partition: number) => AsyncIterable<string[]>): Promise<number> {
    let added = 0
    for (const p of this.keys.allPartitions()) {
      const marker = this.keys.pushSubscribersIndexed(p)
      if ((await this.redis.exists(marker)) === 1) continue
      const around = this.keys.aroundUser(p, this.keys.pushSubscriptions)
      for await (const page of pagesOf(p)) {
        added += Number(await this.redis.heraldPushIndex(this.keys.pushSubscribers(p), ...around, ...page))
      }
      await this.redis.set(marker, new Date().toISOString())
    }
    return added
  }

  /** The user's subscriptions, oldest first. */
  async list(userId: string): Promise<StoredSubscription[]> {
    const h = await this.redis.hgetall(this.keys.pushSubscriptions(userId))
    return Object.values(h)
      .map((v) => JSON.parse(v) as StoredSubscription)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }
}
