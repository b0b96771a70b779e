import type { Keys } from '@herald/keys'
import type { ChainableCommander, Redis } from 'ioredis'
import { DELIVER_MANY } from './commands/deliver-many'
import { DELIVER_ONE } from './commands/deliver-one'
import { PAGE, SINCE } from './commands/read'
import { MARK_READ, RECORD_ACKS } from './commands/receipts'

export interface InboxOptions {
  /** most messages kept per user @default 1000 */
  maxItems: number
  /** age bound of a user's messages, in seconds @default 604800 (7 days) */
  retentionSeconds: number
  /** approximate cap of the delivery stream (XADD MAXLEN ~) @default 100000 */
  streamMaxLen: number
}

export const DEFAULT_INBOX_OPTIONS: InboxOptions = {
  maxItems: 1000,
  retentionSeconds: 7 * 24 * 3600,
  streamMaxLen: 100_000,
}

export interface NewMessage {
  id: string
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  /** ISO date-time */
  createdAt: string
}

export interface DeliverResult {
  userId: string
  messageId: string
  /** null: this user already had this message (a retried job) */
  cursor: string | null
}

export interface InboxItem {
  cursor: string
  id: string
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  createdAt: string
  read: boolean
}

export interface Receipt {
  id: string
  /** the recipient, or '*' for a message sent to many users */
  userId: string
  createdAt: string
  deliveredAt?: string
  devices: number
  readAt?: string
}

/** Message ids are restricted so they can be embedded in frames without escaping. */
const ID_RE = /^[A-Za-z0-9_:.-]{1,80}$/

type Cmd = (...args: (string | number)[]) => Promise<unknown>
type InboxRedis = Redis &
  Record<'heraldDeliverOne' | 'heraldDeliverMany' | 'heraldSince' | 'heraldPage' | 'heraldMarkRead' | 'heraldAcks', Cmd>

function define(redis: Redis): InboxRedis {
  const r = redis as InboxRedis
  if (typeof r.heraldDeliverOne !== 'function') {
    redis.defineCommand('heraldDeliverOne', { numberOfKeys: 8, lua: DELIVER_ONE })
    redis.defineCommand('heraldDeliverMany', { lua: DELIVER_MANY })
    redis.defineCommand('heraldSince', { numberOfKeys: 3, lua: SINCE })
    redis.defineCommand('heraldPage', { numberOfKeys: 3, lua: PAGE })
    redis.defineCommand('heraldMarkRead', { lua: MARK_READ })
    redis.defineCommand('heraldAcks', { lua: RECORD_ACKS })
  }
  return r
}

/** `{"id":…}` minus its opening brace: the script prepends `{"type":"message","cursor":"…",`. */
function frameTail(m: NewMessage): string {
  if (!ID_RE.test(m.id)) throw new Error(`invalid message id: ${m.id}`)
  const json = JSON.stringify({
    id: m.id,
    kind: m.kind,
    title: m.title,
    body: m.body,
    data: m.data,
    createdAt: m.createdAt,
  })
  return json.slice(1)
}

/** Compares two cursors (decimal strings of non-negative integers). */
export function compareCursors(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The per-user inbox — bounded by count and age — and the atomic write of each message
 * into it and onto the delivery stream. Shared by the notifier (writes, pages, reads) and
 * the gateways (replay, acks, reads).
 */
export class Inbox {
  private readonly redis: InboxRedis
  readonly opts: InboxOptions

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    opts: Partial<InboxOptions> = {},
  ) {
    this.redis = define(redis)
    this.opts = { ...DEFAULT_INBOX_OPTIONS, ...opts }
  }

  private userKeys(userId: string): string[] {
    const k = this.keys
    return [k.inbox(userId), k.inboxMessages(userId), k.inboxUnread(userId), k.inboxMeta(userId)]
  }

  /** Writes each (user, message) in one pipeline; idempotent per (message id, user). */
  async deliver(items: { userId: string; message: NewMessage }[]): Promise<DeliverResult[]> {
    if (items.length === 0) return []
    const pipe = this.redis.pipeline() as ChainableCommander & Record<'heraldDeliverOne', Cmd>
    const { maxItems, retentionSeconds, streamMaxLen } = this.opts
    for (const { userId, message: m } of items) {
      pipe.heraldDeliverOne(
        this.keys.cursor(),
        this.keys.stream(),
        ...this.userKeys(userId),
        this.keys.messageRecipients(m.id),
        this.keys.messageReceipt(m.id),
        userId,
        m.id,
        frameTail(m),
        maxItems,
        retentionSeconds,
        streamMaxLen,
        Date.parse(m.createdAt) || Date.now(),
      )
    }
    const res = (await pipe.exec()) ?? []
    return res.map(([err, cursor], i) => {
      if (err) throw err
      const item = items[i] as { userId: string; message: NewMessage }
      return { userId: item.userId, messageId: item.message.id, cursor: (cursor as string | null) ?? null }
    })
  }

  /** The same message (one id) for many users: per chunk one cursor and one stream entry; pipelined. */
  async deliverToMany(
    userIds: string[],
    message: NewMessage,
    opts: { chunkSize?: number } = {},
  ): Promise<{ written: number }> {
    const size = opts.chunkSize ?? 500
    const tail = frameTail(message)
    const { maxItems, retentionSeconds, streamMaxLen } = this.opts
    const createdMs = Date.parse(message.createdAt) || Date.now()
    const pipe = this.redis.pipeline() as ChainableCommander & Record<'heraldDeliverMany', Cmd>
    for (let i = 0; i < userIds.length; i += size) {
      const chunk = userIds.slice(i, i + size)
      const keys = [
        this.keys.cursor(),
        this.keys.stream(),
        this.keys.messageRecipients(message.id),
        this.keys.messageReceipt(message.id),
        ...chunk.flatMap((u) => this.userKeys(u)),
      ]
      pipe.heraldDeliverMany(
        keys.length,
        ...keys,
        message.id,
        tail,
        maxItems,
        retentionSeconds,
        streamMaxLen,
        createdMs,
        ...chunk,
      )
    }
    const res = (await pipe.exec()) ?? []
    let written = 0
    for (const [err, out] of res) {
      if (err) throw err
      written += Number((out as [unknown, number])[1])
    }
    return { written }
  }

  /**
   * Messages after `since`, oldest first (for replay on reconnect). `gap` is true when
   * messages after `since` were already removed by the count or age bound.
   */
  async since(
    userId: string,
    since: string,
    limit = 1000,
  ): Promise<{ frames: string[]; lastCursor: string | null; gap: boolean; more: boolean }> {
    const [inbox, messages, , meta] = this.userKeys(userId) as [string, string, string, string]
    const out = (await this.redis.heraldSince(inbox, messages, meta, since, limit)) as string[]
    const trimmed = out[0] ?? '0'
    const frames = out.slice(1)
    const ageCutoff = String((Date.now() - this.opts.retentionSeconds * 1000) * 1000)
    const gap = compareCursors(since, trimmed) < 0 || (since !== '0' && compareCursors(since, ageCutoff) < 0)
    const last = frames.length ? cursorOf(frames[frames.length - 1] as string) : null
    return { frames, lastCursor: last, gap, more: frames.length >= limit }
  }

  /** A page of the inbox, newest first, strictly before `before`. */
  async page(
    userId: string,
    opts: { before?: string; limit: number },
  ): Promise<{ items: InboxItem[]; unread: number; nextBefore: string | null }> {
    const [inbox, messages, unread] = this.userKeys(userId) as [string, string, string]
    const out = (await this.redis.heraldPage(inbox, messages, unread, opts.before ?? '+inf', opts.limit)) as (
      | string
      | number
    )[]
    const items: InboxItem[] = []
    for (let i = 2; i < out.length; i += 2) {
      const { type: _type, ...m } = JSON.parse(out[i] as string) as InboxItem & { type: string }
      items.push({ ...m, read: out[i + 1] === 0 })
    }
    const more = out[1] === 1
    return {
      items,
      unread: Number(out[0]),
      nextBefore: more && items.length ? (items[items.length - 1] as InboxItem).cursor : null,
    }
  }

  /** Marks messages read; returns those that were unread. Other sockets of the user get a `read` frame. */
  async markRead(userId: string, ids: string[], opts: { origin?: string; now?: number } = {}): Promise<string[]> {
    const valid = [...new Set(ids)].filter((id) => ID_RE.test(id))
    if (valid.length === 0) return []
    const keys = [this.keys.inboxUnread(userId), this.keys.stream(), ...valid.map((id) => this.keys.messageReceipt(id))]
    return (await this.redis.heraldMarkRead(
      keys.length,
      ...keys,
      opts.now ?? Date.now(),
      this.opts.streamMaxLen,
      userId,
      opts.origin ?? '',
      ...valid,
    )) as string[]
  }

  /** Marks every unread message of the user read. */
  async markAllRead(userId: string, opts: { origin?: string; now?: number } = {}): Promise<string[]> {
    const ids = await this.redis.zrange(this.keys.inboxUnread(userId), 0, -1)
    const out: string[] = []
    for (let i = 0; i < ids.length; i += 500) out.push(...(await this.markRead(userId, ids.slice(i, i + 500), opts)))
    return out
  }

  /** Delivery receipts from one device; only messages in this user's inbox count. */
  async recordAcks(userId: string, deviceId: string, ids: string[], now = Date.now()): Promise<number> {
    const valid = [...new Set(ids)].filter((id) => ID_RE.test(id))
    if (valid.length === 0) return 0
    const keys = [
      this.keys.inbox(userId),
      ...valid.flatMap((id) => [this.keys.messageReceipt(id), this.keys.messageDevices(id)]),
    ]
    return Number(
      await this.redis.heraldAcks(keys.length, ...keys, now, deviceId, this.opts.retentionSeconds, ...valid),
    )
  }

  async receipt(messageId: string): Promise<Receipt | null> {
    if (!ID_RE.test(messageId)) return null
    const [[, h], [, devices]] = (await this.redis
      .multi()
      .hgetall(this.keys.messageReceipt(messageId))
      .scard(this.keys.messageDevices(messageId))
      .exec()) as [[null, Record<string, string>], [null, number]]
    if (!h.createdAt) return null
    const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : undefined)
    return {
      id: messageId,
      userId: h.userId ?? '*',
      createdAt: iso(h.createdAt) as string,
      ...(h.deliveredAt ? { deliveredAt: iso(h.deliveredAt) } : {}),
      devices: Number(devices),
      ...(h.readAt ? { readAt: iso(h.readAt) } : {}),
    }
  }
}

/** The cursor of a frame written by this module (it always starts with type and cursor). */
export function cursorOf(frame: string): string {
  const start = frame.indexOf('"cursor":"') + 10
  return frame.slice(start, frame.indexOf('"', start))
}
