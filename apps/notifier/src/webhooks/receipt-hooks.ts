import { WebhookEventType } from '@herald/contracts'
import type { WebhookRegistry } from '@herald/webhooks'

/**
 * Which receipt events a calling system's webhooks want, as the letters the delivery script
 * stores on a message's receipt (`wh`): 'd' for message.delivered, 'r' for message.read. The
 * record-acks and mark-read scripts note a first ack or read on the webhook outbox only for
 * those, so a system without such endpoints costs no outbox entry, relay or look-up per
 * message. Read through a short cache: an endpoint registered now is heard of by messages
 * sent from `cacheMs` on.
 */
export class ReceiptHooks {
  private readonly cache = new Map<string, { hooks: string; until: number }>()

  constructor(
    private readonly registry: Pick<WebhookRegistry, 'subscribers'>,
    private readonly cacheMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async of(source: string): Promise<string> {
    if (!source) return ''
    const hit = this.cache.get(source)
    if (hit && hit.until > this.clock()) return hit.hooks
    const [delivered, read] = await Promise.all([
      this.registry.subscribers(source, WebhookEventType.MESSAGE_DELIVERED),
      this.registry.subscribers(source, WebhookEventType.MESSAGE_READ),
    ])
    const hooks = `${delivered.length > 0 ? 'd' : ''}${read.length > 0 ? 'r' : ''}`
    // bounded: callers are few, but a flood of distinct ones must not grow it without end
    if (this.cache.size >= 10_000) this.cache.clear()
    this.cache.set(source, { hooks, until: this.clock() + this.cacheMs })
    return hooks
  }
}
