import type { PushJob } from '@herald/contracts'
import type { Inbox, NewMessage } from '@herald/inbox'
import type { Delivery, HandlerContext, MessageContent } from '../catalog'
import { broadcastMessageIdFor, messageIdFor } from './ids'
import type { UserDirectory } from './user-directory'

/** How many partitions an announcement (or a walk of their users) is written to at once. */
export const PARTITIONS_IN_FLIGHT = 4
/** How many chunks of users (FANOUT_CHUNK_SIZE) one page of a partition's users holds. */
const PAGE_CHUNKS = 4

/**
 * Writes what a handler decided into inboxes and onto the streams of the gateways that hold
 * the users. However many recipients, the writes go out together (inbox.deliver), never a
 * round trip per user; a message to everyone is written once per partition (inbox.announce),
 * not per user. Ids are derived from the event id, so a second run writes nothing new.
 */
export class Deliverer {
  readonly context: HandlerContext

  constructor(
    private readonly users: UserDirectory,
    private readonly inbox: Inbox,
    private readonly chunkSize: number,
    /** kinds no user may mute (the catalog's) */
    private readonly mandatoryKinds: ReadonlySet<string> = new Set(),
    /** the receipt events (first ack 'd', first read 'r') the source's webhooks want noted */
    private readonly hooksOf: (source: string) => Promise<string> = async () => '',
    /** queues Web Push sends (absent: push off) */
    private readonly pusher?: { enqueue(jobs: Omit<PushJob, 'done'>[]): Promise<number> },
    /** a partition's users holding a push subscription, a page at a time (PushSubscriptions) */
    private readonly subscriberPages?: (partition: number, pageSize: number) => AsyncIterable<string[]>,
  ) {
    this.context = { nickname: (userId) => this.users.nickname(userId) }
  }

  /**
   * Sends a message to everyone (`inbox.announceAll`) and nothing else: a request that has
   * queued its job sends from the request itself, not after the queue's hop; the job then sends
   * nothing again and walks the Web Push. Returns its id.
   */
  async announce(
    eventId: string,
    delivery: Delivery,
    opts: { now?: number; source?: string; expiresAt?: number } = {},
  ): Promise<string> {
    if (delivery.to !== 'all') throw new Error('announce: a delivery to everyone only')
    const m = this.messageOf(broadcastMessageIdFor(eventId), delivery.message, opts)
    await this.inbox.announceAll(m, PARTITIONS_IN_FLIGHT)
    return m.id
  }

  /** The message a handler's content becomes (`expiresAt`: epoch ms). */
  private messageOf(
    id: string,
    c: MessageContent,
    opts: { now?: number; source?: string; expiresAt?: number },
  ): NewMessage {
    return {
      id,
      kind: c.kind,
      title: c.title,
      body: c.body,
      data: c.data,
      createdAt: new Date(opts.now ?? Date.now()).toISOString(),
      source: opts.source ?? '',
      ...(this.mandatoryKinds.has(c.kind) ? { mandatory: true } : {}),
      ...(c.sessionIds ? { sessionIds: c.sessionIds } : {}),
      ...(c.exceptSessionId !== undefined ? { exceptSessionId: c.exceptSessionId } : {}),
      ...(opts.expiresAt !== undefined ? { expiresAt: new Date(opts.expiresAt).toISOString() } : {}),
    }
  }

  /**
   * Returns the ids of the messages written (or written before, on a retry). `expiresAt`: the
   * request's expiry (epoch ms), for every message. `ids`: the message ids of a `users`
   * delivery, in its order, when the caller derived them already.
   */
  async deliver(
    eventId: string,
    delivery: Delivery,
    opts: { now?: number; source?: string; expiresAt?: number; ids?: readonly string[] } = {},
  ): Promise<string[]> {
    const { now = Date.now(), source = '' } = opts
    const message = (id: string, c: MessageContent): NewMessage => this.messageOf(id, c, { ...opts, now, source })
    const expiry = opts.expiresAt === undefined ? {} : { expiresAt: opts.expiresAt }
    if (delivery.to === 'all') {
      const id = await this.announce(eventId, delivery, { ...opts, now, source })
      const m = message(id, delivery.message)
      // Web Push: of the users holding a subscription, those owed it with no live socket
      const pusher = this.inbox.opts.push === 'off' ? undefined : this.pusher
      const pages = this.subscriberPages
      if (pusher && pages) {
        const content = { messageId: id, kind: m.kind, title: m.title, body: m.body, ...expiry }
        await this.eachPartition(async (p, failed) => {
          for await (const page of pages(p, this.chunkSize)) {
            const push = await this.inbox.announcePushes(p, page, id)
            if (push.length > 0) {
              await pusher.enqueue(
                push.map((userId) => ({ userId, ...content, ...(m.mandatory ? { mandatory: true } : {}) })),
              )
            }
            if (failed()) return
          }
        })
      }
      return [id]
    }
    const hooks = await this.hooksOf(source)
    const items = delivery.messages.map(({ userId, ...content }, i) => ({
      userId,
      message: {
        ...message(opts.ids?.[i] ?? this.inbox.messageIdFor(messageIdFor(eventId, userId), userId), content),
        ...(hooks ? { hooks } : {}),
      },
    }))
    if (items.length === 0) return []
    const results = await this.inbox.deliver(items)
    // the users the delivery script found offline (or online, for a push if unacked) with a
    // push subscription: no other user costs a job or a Redis call
    const pushes = results.flatMap((r, i) => {
      const m = items[i]?.message
      if (!r.push || !m) return []
      return [
        {
          userId: r.userId,
          messageId: r.messageId,
          kind: m.kind,
          title: m.title,
          body: m.body,
          ...(m.mandatory ? { mandatory: true } : {}),
          ...(r.push === 'undelivered' ? { unlessDelivered: true } : {}),
          ...expiry,
        },
      ]
    })
    if (pushes.length > 0 && this.pusher) await this.pusher.enqueue(pushes)
    return results.map((r) => r.messageId)
  }

  /**
   * Takes a message to everyone back from every inbox: marked retracted in every partition
   * first (no delivery still under way writes it from then on), then removed partition by
   * partition, in chunks. Returns how many inboxes held it. Safe to run again.
   */
  async retractEverywhere(messageId: string): Promise<number> {
    await this.inbox.markTakenBack(messageId, 'retracted')
    let removed = 0
    await this.eachPage(async (p, userIds) => {
      removed += await this.inbox.retractFrom(p, userIds, messageId, { chunkSize: this.chunkSize })
    })
    return removed
  }

  /**
   * Runs `fn` on every user of every partition, a page at a time, each partition one page after
   * the other (eachPartition), so a walk holds at most PARTITIONS_IN_FLIGHT pages of ids.
   */
  private eachPage(fn: (partition: number, userIds: string[]) => Promise<void>): Promise<void> {
    return this.eachPartition(async (p, failed) => {
      for await (const page of this.users.idPagesIn(p, this.chunkSize * PAGE_CHUNKS)) {
        await fn(p, page)
        if (failed()) return
      }
    })
  }

  /** Runs `fn` for every partition, PARTITIONS_IN_FLIGHT side by side (inbox.eachPartition). */
  private eachPartition(fn: (partition: number, failed: () => boolean) => Promise<unknown>): Promise<void> {
    return this.inbox.eachPartition(fn, PARTITIONS_IN_FLIGHT)
  }
}
