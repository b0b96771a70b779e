import type { WebhookEventType } from '@herald/contracts'
import type { WebhookRegistry } from '@herald/webhooks'
import { ExpiringCache } from '../domain/expiring-cache'

/**
 * A calling system's endpoints for one event type (every system's for `caller` null), read
 * through a short cache: one registry look-up per (caller, type) and `cacheMs`, whatever the
 * traffic, so a caller without webhooks costs no Redis call per message. One per process,
 * shared by what asks (ReceiptHooks, WebhookDispatcher): an endpoint registered now is heard
 * of by everything sent from `cacheMs` on.
 */
export class CachedSubscribers {
  private readonly cache: ExpiringCache<string[]>

  constructor(
    private readonly registry: Pick<WebhookRegistry, 'subscribers'>,
    cacheMs: number,
    clock: () => number = Date.now,
  ) {
    this.cache = new ExpiringCache(cacheMs, 10_000, clock)
  }

  of(caller: string | null, type: WebhookEventType): Promise<string[]> {
    return this.cache.get(`${type}\0${caller ?? '*'}`, () => this.registry.subscribers(caller, type))
  }
}
