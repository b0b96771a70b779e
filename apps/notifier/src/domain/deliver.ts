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
  ) {
    this.context = { nickname: (userId) => this.users.nickname(userId) }
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
    const createdAt = new Date(now).toISOString()
    const expiresAt = opts.expiresAt === undefined ? undefined : new Date(opts.expiresAt).toISOString()
    const message = (id: string, c: MessageContent): NewMessage => ({
      id,
      kind: c.kind,
      title: c.title,
      body: c.body,
      data: c.data,
      createdAt,
      source,
      ...(this.mandatoryKinds.has(c.kind) ? { mandatory: true } : {}),
      ...(c.sessionIds ? { sessionIds: c.sessionIds } : {}),
      ...(c.exceptSessionId !== undefined ? { exceptSessionId: c.exceptSessionId } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    })
    const expiry = opts.expiresAt === undefined ? {} : { expiresAt: opts.expiresAt }
    if (delivery.to === 'all') {
      const id = broadcastMessageIdFor(eventId)
      const m = message(id, delivery.message)
      await this.inbox.announceAll(m, PARTITIONS_IN_FLIGHT)
      // Web Push: the users owed it with no live socket and a subscription, a chunk at a time
      const pusher = this.pusher
      if (pusher) {
        const content = { messageId: id, kind: m.kind, title: m.title, body: m.body, ...expiry }
        await this.eachPage(async (p, userIds) => {
          for (let i = 0; i < userIds.length; i += this.chunkSize) {
            const push = await this.inbox.announcePushes(p, userIds.slice(i, i + this.chunkSize), id)
            if (push.length === 0) continue
            await pusher.enqueue(
              push.map((userId) => ({ userId, ...content, ...(m.mandatory ? { mandatory: true } : {}) })),
            )
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

  /**
   * Runs `fn` for every partition, up to PARTITIONS_IN_FLIGHT side by side (on a Cluster they
   * sit on different primaries). Rejects with the first error, once the partitions under way
   * have stopped; `failed()` tells a long `fn` to stop early.
   */
  private async eachPartition(fn: (partition: number, failed: () => boolean) => Promise<unknown>): Promise<void> {
    const queue = [...this.inbox.partitions()]
    let failed: { err: unknown } | null = null
    const lane = async () => {
      for (let p = queue.shift(); p !== undefined && !failed; p = queue.shift()) {
        try {
          await fn(p, () => failed !== null)
        } catch (err) {
          failed ??= { err }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARTITIONS_IN_FLIGHT, queue.length) }, lane))
    if (failed) throw (failed as { err: unknown }).err
  }
}
