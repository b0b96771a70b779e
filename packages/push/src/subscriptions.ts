import { createHash, ECDH } from 'node:crypto'
import type { Keys } from '@herald/keys'
import { defineScripts, type RedisClient } from '@herald/redis'
import { type TargetPolicy, urlProblem } from '@herald/webhooks'
import { pushSubscribe } from './commands/push-subscribe-1'

const SCRIPTS = [pushSubscribe] as const

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
      this.max,
      stored.id,
      JSON.stringify(stored),
    )
    return OUTCOMES[String(out)] ?? 'full'
  }

  /** Removes the user's subscription of this endpoint; false when there was none. */
  async remove(userId: string, endpoint: string): Promise<boolean> {
    return this.removeId(userId, subscriptionId(endpoint))
  }

  /** Removes a subscription by id (the push service said it is gone). */
  async removeId(userId: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.pushSubscriptions(userId), id)) === 1
  }

  /** The user's subscriptions, oldest first. */
  async list(userId: string): Promise<StoredSubscription[]> {
    const h = await this.redis.hgetall(this.keys.pushSubscriptions(userId))
    return Object.values(h)
      .map((v) => JSON.parse(v) as StoredSubscription)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }
}
