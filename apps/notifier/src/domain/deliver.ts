import type { PushJob } from '@herald/contracts'
import type { Inbox, NewMessage } from '@herald/inbox'
import type { Delivery, HandlerContext, MessageContent } from '../catalog'
import { broadcastMessageIdFor, messageIdFor } from './ids'
import type { UserDirectory } from './user-directory'

/** How many partitions an announcement (or its retraction) is written to at once. */
export const PARTITIONS_IN_FLIGHT = 4
/** How many chunks of users (FANOUT_CHUNK_SIZE) one page of a partition's users holds. */
const PAGE_CHUNKS = 4

/**
 * Writes what a handler decided into inboxes and onto the streams of the gateways that hold
 * the users. However many recipients, the writes go out together (inbox.deliver /
 * inbox.deliverToMany), never a round trip per user. Ids are derived from the event id, so a
 * second run writes nothing new.
 */
export class Deliverer {
  readonly context: HandlerContext

  constructor(
    private readonly users: UserDirectory,
    private readonly inbox: Inbox,
    private readonly chunkSize: number,
    /** the first chunk of each partition of a message to everyone (doubling up to chunkSize) */
    private readonly firstChunkSize: number,
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
      await this.eachPage(async (_p, userIds, page) => {
        const { push } = await this.inbox.deliverToMany(userIds, m, {
          chunkSize: this.chunkSize,
          // a partition's first page starts small: its first users are reached sooner
          ...(page === 0 ? { firstChunkSize: this.firstChunkSize } : {}),
        })
        // the users of the page it reached with no live socket and a push subscription
        if (push.length > 0 && this.pusher) {
          const content = { messageId: id, kind: m.kind, title: m.title, body: m.body, ...expiry }
          await this.pusher.enqueue(
            push.map((userId) => ({ userId, ...content, ...(m.mandatory ? { mandatory: true } : {}) })),
          )
        }
      })
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
   * Runs `fn` on every user of every partition, a page at a time (with its index in the
   * partition): up to PARTITIONS_IN_FLIGHT
   * partitions side by side (on a Cluster they sit on different primaries), each one page after
   * the other, so a walk holds at most that many pages of ids. Rejects with the first error,
   * once the partitions under way have stopped.
   */
  private async eachPage(fn: (partition: number, userIds: string[], page: number) => Promise<void>): Promise<void> {
    const queue = [...this.inbox.partitions()]
    let failed: { err: unknown } | null = null
    const lane = async () => {
      for (let p = queue.shift(); p !== undefined && !failed; p = queue.shift()) {
        try {
          let n = 0
          for await (const page of this.users.idPagesIn(p, this.chunkSize * PAGE_CHUNKS)) {
            await fn(p, page, n++)
            if (failed) return
          }
        } catch (err) {
          failed ??= { err }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARTITIONS_IN_FLIGHT, queue.length) }, lane))
    if (failed) throw (failed as { err: unknown }).err
  }
}
