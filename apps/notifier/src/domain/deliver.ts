import type { Inbox, NewMessage } from '@herald/inbox'
import type { Keys } from '@herald/keys'
import type { Redis } from 'ioredis'
import type { Delivery, HandlerContext, MessageContent } from '../catalog'
import { broadcastMessageIdFor, messageIdFor } from './ids'

/**
 * Writes what a handler decided into inboxes and onto the delivery stream. However many
 * recipients, it is one pipeline (inbox.deliver / inbox.deliverToMany), never a round trip
 * per user. Ids are derived from the event id, so a second run writes nothing new.
 */
export class Deliverer {
  readonly context: HandlerContext

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly inbox: Inbox,
    private readonly chunkSize: number,
  ) {
    this.context = {
      nickname: async (userId) => (await this.redis.hget(this.keys.user(userId), 'nickname')) || null,
    }
  }

  /** Returns the ids of the messages written (or written before, on a retry). */
  async deliver(eventId: string, delivery: Delivery, now = Date.now()): Promise<string[]> {
    const createdAt = new Date(now).toISOString()
    const message = (id: string, c: MessageContent): NewMessage => ({
      id,
      kind: c.kind,
      title: c.title,
      body: c.body,
      data: c.data,
      createdAt,
    })
    if (delivery.to === 'all') {
      const id = broadcastMessageIdFor(eventId)
      const userIds = await this.redis.smembers(this.keys.users())
      if (userIds.length > 0) {
        await this.inbox.deliverToMany(userIds, message(id, delivery.message), { chunkSize: this.chunkSize })
      }
      return [id]
    }
    const items = delivery.messages.map(({ userId, ...content }) => ({
      userId,
      message: message(messageIdFor(eventId, userId), content),
    }))
    if (items.length === 0) return []
    const results = await this.inbox.deliver(items)
    return results.map((r) => r.messageId)
  }
}
