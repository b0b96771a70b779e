import { WebhookEventType } from '@herald/contracts'
import type { WebhookRegistry } from '@herald/webhooks'
import { ExpiringCache } from '../domain/expiring-cache'

/**
 * Which receipt events a calling system's webhooks want, as the letters the delivery script
 * stores on a message's receipt (`wh`): 'd' for message.delivered, 'r' for message.read. The
 * record-acks and mark-read scripts note a first ack or read on the webhook outbox only for
 * those, so a system without such endpoints costs no outbox entry, relay or look-up per
 * message. Read through a short cache: an endpoint registered now is heard of by messages
 * sent from `cacheMs` on.
 */
export class ReceiptHooks {
  private readonly cache: ExpiringCache<string>

  constructor(
    private readonly registry: Pick<WebhookRegistry, 'subscribers'>,
    cacheMs: number,
    clock: () => number = Date.now,
  ) {
    this.cache = new ExpiringCache(cacheMs, 10_000, clock)
  }

  async of(source: string): Promise<string> {
    if (!source) return ''
    return this.cache.get(source, async () => {
      const [delivered, read] = await Promise.all([
        this.registry.subscribers(source, WebhookEventType.MESSAGE_DELIVERED),
        this.registry.subscribers(source, WebhookEventType.MESSAGE_READ),
      ])
      return `${delivered.length > 0 ? 'd' : ''}${read.length > 0 ? 'r' : ''}`
    })
  }
}
