import { WebhookEventType } from '@herald/contracts'
import type { CachedSubscribers } from './subscribers'

/**
 * Which receipt events a calling system's webhooks want, as the letters the delivery script
 * stores on a message's receipt (`wh`): 'd' for message.delivered, 'r' for message.read. The
 * record-acks and mark-read scripts note a first ack or read on the webhook outbox only for
 * those, so a system without such endpoints costs no outbox entry, relay or look-up per
 * message. Read through the process's CachedSubscribers.
 */
export class ReceiptHooks {
  constructor(private readonly subscribers: Pick<CachedSubscribers, 'of'>) {}

  async of(source: string): Promise<string> {
    if (!source) return ''
    const [delivered, read] = await Promise.all([
      this.subscribers.of(source, WebhookEventType.MESSAGE_DELIVERED),
      this.subscribers.of(source, WebhookEventType.MESSAGE_READ),
    ])
    return `${delivered.length > 0 ? 'd' : ''}${read.length > 0 ? 'r' : ''}`
  }
}
