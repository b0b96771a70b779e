import type { Keys } from '@herald/keys'
import { ReplicaDirectory, type RouteArgs } from '@herald/presence'
import { defineScripts, type RedisClient } from '@herald/redis'
import { absorbAnnouncements } from './commands/absorb-11'
import { announce } from './commands/announce-n'
import { announcePush } from './commands/announce-push-n'
import { counts } from './commands/counts-11'
import { deliverOne } from './commands/deliver-one-n'
import { markRead } from './commands/mark-read-n'
import { page } from './commands/page-12'
import { recordAcks } from './commands/record-acks-n'
import { retractMany } from './commands/retract-many-n'
import { retract } from './commands/retract-n'
import { schedule } from './commands/schedule-1'
import { setState } from './commands/set-state-n'
import { since } from './commands/since-13'
import {
  CURSOR_RE,
  compareCursors,
  type DeliverResult,
  devicesOf,
  frameTail,
  ID_RE,
  type InboxCounts,
  type InboxFilter,
  type InboxItem,
  type InboxState,
  isForEveryone,
  type MessageStatus,
  messageIdIn,
  type NewMessage,
  partitionsOfId,
  type Receipt,
  UP_TO_STATES,
} from './message'

/** The public part of message.ts (its checks and frame helpers stay inside the package). */
export {
  compareCursors,
  cursorOf,
  type DeliverResult,
  type InboxCounts,
  type InboxFilter,
  type InboxItem,
  type InboxState,
  type MessageStatus,
  messageIdIn,
  type NewMessage,
  type Preference,
  type Receipt,
  UP_TO_STATES,
} from './message'

/** One ack frame's worth: a user's device acknowledging message ids, at `at` (epoch ms). */
export interface AckBatchItem {
  userId: string
  deviceId: string
  ids: readonly string[]
  at: number
}

export interface InboxOptions {
  /** most messages kept per user @default 1000 */
  maxItems: number
  /** age bound of a user's messages, in seconds @default 604800 (7 days) */
  retentionSeconds: number
  /** approximate cap of each gateway stream (XADD MAXLEN ~) @default 100000 */
  streamMaxLen: number
  /**
   * Web Push: 'off'; 'offline' — a delivery tells which users had no live socket and a push
   * subscription; 'undelivered' — also which online users have one @default 'off'
   */
  push: 'off' | 'offline' | 'undelivered'
}

export const DEFAULT_INBOX_OPTIONS: InboxOptions = {
  maxItems: 1000,
  retentionSeconds: 7 * 24 * 3600,
  streamMaxLen: 100_000,
  push: 'off',
}
const PUSH_MODE = { off: '', offline: 'o', undelivered: 'u' } as const

/** The reply of the deliver script for a user who turned the message's kind off. */
const MUTED = '!OFF'
/** The reply of the deliver script for a message past its expiry. */
const EXPIRED = '!EXP'
/** The start of the deliver script's reply for a message written before whose push is still owed. */
const OWED = '!DUP+'

/** The expiry argument of the deliver scripts: epoch ms, or '' for a message that does not expire. */
function expiresMs(m: NewMessage): string | number {
  if (m.expiresAt === undefined) return ''
  const ms = Date.parse(m.expiresAt)
  if (!Number.isFinite(ms)) throw new Error(`invalid expiresAt: ${m.expiresAt}`)
  return ms
}

/** The replica list as the routing scripts take it: G, the names, S, the replicas to skip. */
function routeArgv(r: RouteArgs): (string | number)[] {
  return [r.names.length, ...r.names, r.skip.length, ...r.skip]
}

const SCRIPTS = [
  deliverOne,
  announce,
  announcePush,
  absorbAnnouncements,
  since,
  page,
  markRead,
  recordAcks,
  setState,
  counts,
  retract,
  retractMany,
  schedule,
] as const
/** How many ids one mark-read script call takes (a bulk read walks the unread set in chunks). */
const READ_CHUNK = 500
const withScripts = (redis: RedisClient) => defineScripts(redis, SCRIPTS)

/** The user keys each script over many users builds from the ids, in the order its header lists them. */
const MANY_USER_KEYS = {
  recordAcks: (k: Keys) => [k.inbox, k.user, k.preferences],
  announcePush: (k: Keys) => [k.user, k.preferences, k.routes, k.pushSubscriptions, k.inboxUnread, k.inboxMeta],
  retractMany: (k: Keys) => [
    k.inbox,
    k.inboxMessages,
    k.inboxUnread,
    k.inboxSeen,
    k.inboxArchived,
    k.inboxExpiring,
    k.routes,
    k.inboxChanges,
    k.inboxMeta,
    k.user,
    k.preferences,
  ],
} satisfies Record<string, (k: Keys) => ((userId: string) => string)[]>

/**
 * The per-user inbox — bounded by count and age — and the atomic write of each message
 * into it and onto the streams of the gateways holding the user. Shared by the notifier
 * (writes, pages, reads) and the gateways (replay, acks, reads).
 */
export class Inbox {
  private readonly redis: ReturnType<typeof withScripts>
  private readonly directory: ReplicaDirectory
  readonly opts: InboxOptions

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    opts: Partial<InboxOptions> = {},
    directory?: ReplicaDirectory,
  ) {
    this.redis = withScripts(redis)
    this.directory = directory ?? new ReplicaDirectory(redis, keys)
    this.opts = { ...DEFAULT_INBOX_OPTIONS, ...opts }
  }

  /** The user's inbox keys in the order inbox_write takes them. */
  private userKeys(userId: string): [string, string, string, string, string, string, string] {
    const k = this.keys
    return [
      k.inbox(userId),
      k.inboxMessages(userId),
      k.inboxUnread(userId),
      k.inboxMeta(userId),
      k.inboxSeen(userId),
      k.inboxArchived(userId),
      k.inboxExpiring(userId),
    ]
  }

  /**
   * What surrounds the user id in each user key a script over many users builds itself
   * (Keys.aroundUser), in the order that script lists them: a chunk of 500 users then carries
   * 500 ids instead of 5000 keys.
   */
  private aroundUsers(p: number, script: keyof typeof MANY_USER_KEYS): string[] {
    return MANY_USER_KEYS[script](this.keys).flatMap((build) => this.keys.aroundUser(p, build))
  }

  /** A message's sets in the user's inbox, in the order purge_expired (and the scripts removing a message) take them. */
  private messageSets(userId: string): [string, string, string, string, string, string] {
    const [inbox, messages, unread, , seen, archived, expiring] = this.userKeys(userId)
    return [inbox, messages, unread, seen, archived, expiring]
  }

  /** Every partition number (announcements walk them one by one). */
  partitions(): number[] {
    return this.keys.allPartitions()
  }

  /** The message id of `base` for this user (it names the user's partition). */
  messageIdFor(base: string, userId: string): string {
    return messageIdIn(base, this.keys.partitionOf(userId))
  }

  /**
   * Writes each (user, message): one atomic script per item, all sent at once (one round
   * trip on a single Redis; one per node on a Cluster). Idempotent per message id: an id names
   * one user (messageIdFor), and another user under it is an error.
   */
  async deliver(items: { userId: string; message: NewMessage }[]): Promise<DeliverResult[]> {
    return Promise.all(items.map(({ userId, message }) => this.deliverOne(userId, message)))
  }

  private async deliverOne(userId: string, m: NewMessage): Promise<DeliverResult> {
    const k = this.keys
    const p = k.partitionOf(userId)
    const tail = frameTail(m)
    const { maxItems, retentionSeconds, streamMaxLen } = this.opts
    const created = Date.parse(m.createdAt) || Date.now()
    const devices = devicesOf(m)
    const cursor = await this.directory.run(p, (r: RouteArgs) => {
      const keys = [
        k.cursor(p),
        ...this.userKeys(userId),
        k.messageReceipt(p, m.id),
        k.routes(userId),
        k.preferences(userId),
        k.pushSubscriptions(userId),
        ...r.streams,
      ]
      return this.redis.heraldDeliverOne(
        keys.length,
        ...keys,
        userId,
        m.id,
        tail,
        maxItems,
        retentionSeconds,
        streamMaxLen,
        created,
        m.source ?? '',
        m.mandatory ? '' : m.kind,
        devices,
        m.hooks ?? '',
        PUSH_MODE[this.opts.push],
        expiresMs(m),
        r.names.length,
        ...r.names,
        ...r.skip,
      )
    })
    if (cursor === MUTED) return { userId, messageId: m.id, cursor: null, muted: true }
    if (cursor === EXPIRED) return { userId, messageId: m.id, cursor: null, expired: true }
    if (typeof cursor === 'string' && cursor.at(-2) === '+') {
      // '+p' a push now, '+u' one if it stays unacked; on '!DUP' (written before) a push still
      // owed, asked for again (its job id dedupes)
      const push = cursor.endsWith('p') ? 'offline' : 'undelivered'
      const written = cursor.startsWith(OWED) ? null : cursor.slice(0, -2)
      return { userId, messageId: m.id, cursor: written, push }
    }
    return { userId, messageId: m.id, cursor: (cursor as string | null) ?? null }
  }

  /**
   * A message to everyone, in one partition: written once (fan-out on read: each inbox takes it
   * in the next time it is read) and sent in one entry to each replica holding a socket of the
   * partition, which leaves out the users who turned its kind off or silent. Returns its cursor
   * (the first one, on a retry: nothing is written or sent again), or null when it was taken
   * back or is past its expiry.
   */
  async announce(p: number, m: NewMessage): Promise<string | null> {
    if (m.sessionIds || m.exceptSessionId !== undefined) throw new Error('a message to everyone names no session')
    const k = this.keys
    const tail = frameTail(m)
    const created = Date.parse(m.createdAt) || Date.now()
    const out = await this.directory.run(p, (r) => {
      const keys = [
        k.cursor(p),
        k.messageReceipt(p, m.id),
        k.announcementFrames(p),
        k.announcementFramesUntil(p),
        k.announcementLog(p),
        k.announcementAttrs(p),
        k.partitionReplicas(p),
        k.partitionPreferences(p),
        ...r.streams,
        ...r.names.map((n) => k.replicaUsers(p, n)),
      ]
      return this.redis.heraldAnnounce(
        keys.length,
        ...keys,
        m.id,
        tail,
        this.opts.retentionSeconds,
        this.opts.streamMaxLen,
        created,
        m.source ?? '',
        m.mandatory ? '' : m.kind,
        expiresMs(m),
        ...routeArgv(r),
      )
    })
    return typeof out === 'string' ? out : null
  }

  /**
   * A message to everyone in every partition (announce), `inFlight` partitions side by side:
   * each partition's cursor, null where it was taken back or is past its expiry.
   */
  async announceAll(m: NewMessage, inFlight = 4): Promise<(string | null)[]> {
    const out: (string | null)[] = this.partitions().map(() => null)
    await this.eachPartition(async (p) => {
      out[p] = await this.announce(p, m)
    }, inFlight)
    return out
  }

  /**
   * Runs `fn` for every partition, up to `inFlight` side by side (on a Cluster they sit on
   * different primaries). Rejects with the first error, once the partitions under way have
   * stopped; `failed()` tells a long `fn` to stop early.
   */
  async eachPartition(
    fn: (partition: number, failed: () => boolean) => Promise<unknown>,
    inFlight: number,
  ): Promise<void> {
    const queue = this.partitions()
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
    await Promise.all(Array.from({ length: Math.min(inFlight, queue.length) }, lane))
    if (failed) throw (failed as { err: unknown }).err
  }

  /**
   * Of these users of partition `p`, those a message to everyone owes a Web Push now: owed the
   * message, not silent for its kind, no live socket, a push subscription. Empty with push off.
   */
  async announcePushes(p: number, userIds: string[], messageId: string): Promise<string[]> {
    if (this.opts.push === 'off' || userIds.length === 0) return []
    const k = this.keys
    const keys = [k.announcementLog(p), k.announcementAttrs(p)]
    return (await this.redis.heraldAnnouncePush(
      keys.length,
      ...keys,
      messageId,
      ...this.aroundUsers(p, 'announcePush'),
      ...userIds,
    )) as string[]
  }

  /**
   * Takes the messages to everyone the user is owed into the user's inbox, before a read: what
   * the read returns includes every one written before it.
   */
  private async absorb(userId: string): Promise<void> {
    await this.redis.heraldAbsorb(
      ...this.absorbSources(userId),
      ...this.userKeys(userId),
      this.opts.maxItems,
      this.opts.retentionSeconds,
    )
  }

  /**
   * What absorb reads besides the inbox: the partition's announcement log and attrs, the user's
   * record and preferences. The read scripts (since, page, counts) declare them too and take the
   * messages in themselves, in the read's own call.
   */
  private absorbSources(userId: string): [string, string, string, string] {
    const k = this.keys
    const p = k.partitionOf(userId)
    return [k.announcementLog(p), k.announcementAttrs(p), k.user(userId), k.preferences(userId)]
  }

  /**
   * Messages after `since` (and at most `upTo`), oldest first, with the changes made meanwhile
   * (read, state and retract frames, in cursor order among them): the replay on reconnect.
   * `gap` is true when messages or changes after `since` were already removed by a bound.
   * `lastCursor` is the cursor of the last item: where the next page starts.
   */
  async since(
    userId: string,
    since: string,
    limit = 1000,
    upTo = '+inf',
  ): Promise<{ frames: string[]; lastCursor: string | null; gap: boolean; more: boolean }> {
    const [inbox, messages, unread, meta, seen, archived, expiring] = this.userKeys(userId)
    const out = (await this.redis.heraldSince(
      inbox,
      messages,
      meta,
      unread,
      seen,
      archived,
      expiring,
      this.keys.inboxChanges(userId),
      this.keys.announcementFrames(this.keys.partitionOf(userId)),
      ...this.absorbSources(userId),
      since,
      limit,
      upTo,
      this.opts.maxItems,
      this.opts.retentionSeconds,
    )) as string[]
    const [trimmed = '0', changesTrimmed = '0', last = ''] = out
    const frames = out.slice(3)
    const ageCutoff = String((Date.now() - this.opts.retentionSeconds * 1000) * 1000)
    const gap =
      compareCursors(since, trimmed) < 0 ||
      compareCursors(since, changesTrimmed) < 0 ||
      (since !== '0' && compareCursors(since, ageCutoff) < 0)
    return { frames, lastCursor: last || null, gap, more: frames.length >= limit }
  }

  /**
   * A page of the inbox, newest first, strictly before `before`: every message not archived,
   * or those of one state, of one kind. `unread` counts the unread messages not archived.
   */
  async page(
    userId: string,
    opts: { before?: string; limit: number; state?: InboxFilter; kind?: string },
  ): Promise<{ items: InboxItem[]; unread: number; nextBefore: string | null }> {
    const kind = opts.kind === undefined ? '' : `,"kind":${JSON.stringify(opts.kind)},`
    const before = opts.before ?? '+inf'
    const out = (await this.redis.heraldPage(
      ...this.messageSets(userId),
      this.keys.announcementFrames(this.keys.partitionOf(userId)),
      this.keys.inboxMeta(userId),
      ...this.absorbSources(userId),
      before,
      opts.limit,
      opts.state ?? '',
      kind,
      this.opts.maxItems,
      this.opts.retentionSeconds,
    )) as (string | number)[]
    const items: InboxItem[] = []
    for (let i = 2; i < out.length; i += 2) {
      const { type: _type, ...m } = JSON.parse(out[i] as string) as InboxItem & { type: string }
      const flags = Number(out[i + 1])
      items.push({ ...m, read: (flags & 1) === 0, seen: (flags & 2) !== 0, archived: (flags & 4) !== 0 })
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
    if (valid.some((id) => isForEveryone(id))) await this.absorb(userId)
    const k = this.keys
    const p = k.partitionOf(userId)
    const out = await this.directory.run(p, (r) => {
      const keys = [
        k.inboxUnread(userId),
        k.inboxSeen(userId),
        k.routes(userId),
        ...r.streams,
        ...valid.map((id) => k.messageReceipt(p, id)),
        k.webhookOutbox(p),
        k.cursor(p),
        k.inboxChanges(userId),
        k.inboxMeta(userId),
      ]
      return this.redis.heraldMarkRead(
        keys.length,
        ...keys,
        opts.now ?? Date.now(),
        this.opts.streamMaxLen,
        userId,
        opts.origin ?? '',
        this.opts.retentionSeconds,
        ...routeArgv(r),
        ...valid,
      )
    })
    return out as string[]
  }

  /** Marks every unread message of the user read (up to a cursor, inclusive, when given). */
  async markAllRead(userId: string, opts: { origin?: string; now?: number; upTo?: string } = {}): Promise<string[]> {
    await this.absorb(userId)
    const ids = await this.redis.zrangebyscore(this.keys.inboxUnread(userId), '-inf', opts.upTo ?? '+inf')
    const out: string[] = []
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      out.push(...(await this.markRead(userId, ids.slice(i, i + READ_CHUNK), opts)))
    }
    return out
  }

  /**
   * Changes the state of listed messages, or of every message up to a cursor (inclusive; only
   * seen, read and archived), and tells the user's other sockets (not `origin`): a `state`
   * frame, or for read the `read` frame. Returns the ids whose state changed; ids not in the
   * user's inbox are skipped.
   */
  async setState(
    userId: string,
    state: InboxState,
    target: { ids: string[] } | { upTo: string },
    opts: { origin?: string; now?: number } = {},
  ): Promise<string[]> {
    const upTo = 'upTo' in target ? target.upTo : ''
    if ('upTo' in target && (!CURSOR_RE.test(upTo) || !UP_TO_STATES.includes(state))) {
      throw new Error(`invalid bulk change: ${state} up to ${upTo}`)
    }
    const listed = 'ids' in target ? target.ids : []
    if (state === 'read')
      return upTo ? this.markAllRead(userId, { ...opts, upTo }) : this.markRead(userId, listed, opts)
    const ids = [...new Set(listed)].filter((id) => ID_RE.test(id))
    if (!upTo && ids.length === 0) return []
    if (upTo || ids.some((id) => isForEveryone(id))) await this.absorb(userId)
    const k = this.keys
    const p = k.partitionOf(userId)
    const [inbox, messages, unread, , seen, archived] = this.userKeys(userId)
    const out = await this.directory.run(p, (r) => {
      const keys = [
        inbox,
        messages,
        unread,
        seen,
        archived,
        k.routes(userId),
        ...r.streams,
        k.cursor(p),
        k.inboxChanges(userId),
        k.inboxMeta(userId),
      ]
      return this.redis.heraldSetState(
        keys.length,
        ...keys,
        state,
        upTo,
        this.opts.streamMaxLen,
        this.opts.retentionSeconds,
        userId,
        opts.origin ?? '',
        ...routeArgv(r),
        ...ids,
      )
    })
    return out as string[]
  }

  /** The user's counts per state, in one script. */
  async counts(userId: string): Promise<InboxCounts> {
    const [inbox, messages, unread, meta, seen, archived, expiring] = this.userKeys(userId)
    const [total, unreadN, unseen, archivedN] = (await this.redis.heraldCounts(
      inbox,
      unread,
      seen,
      archived,
      messages,
      expiring,
      meta,
      ...this.absorbSources(userId),
      this.opts.maxItems,
      this.opts.retentionSeconds,
    )) as number[]
    return { total: Number(total), unseen: Number(unseen), unread: Number(unreadN), archived: Number(archivedN) }
  }

  /**
   * Delivery receipts from one device; only messages in this user's inbox count. A message's
   * first ack (and, in markRead, its first read) is noted on the partition's webhook outbox in
   * the same script: no extra round trip.
   */
  async recordAcks(userId: string, deviceId: string, ids: string[], now = Date.now()): Promise<number> {
    const [call] = this.ackCalls([{ userId, deviceId, ids, at: now }])
    return call ? Number(await call.run()) : 0
  }

  /**
   * The acks of many users and devices at once (a gateway's window of them): one script per
   * partition, side by side. Answers, per ack in order, null once recorded or the error of its
   * partition's call — the others are recorded all the same.
   */
  async recordAckBatch(acks: readonly AckBatchItem[]): Promise<(Error | null)[]> {
    const calls = this.ackCalls(acks)
    const failed = new Map<number, Error>()
    await Promise.all(
      calls.map((c) =>
        c.run().catch((err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err))
          for (const i of c.acks) failed.set(i, e)
        }),
      ),
    )
    return acks.map((_, i) => failed.get(i) ?? null)
  }

  /**
   * One record-acks call per partition of the acks: which acks (by index) it carries. Inside a
   * call the acks are grouped by message id, each group in arrival order.
   */
  private ackCalls(acks: readonly AckBatchItem[]): { acks: number[]; run: () => Promise<unknown> }[] {
    const k = this.keys
    const { retentionSeconds, streamMaxLen } = this.opts
    // per message id, its acks as (user id, arrival, device) triples: the script builds each
    // user's keys from the id (a window of a message to everyone's acks carries thousands)
    const parts = new Map<number, { acks: number[]; byId: Map<string, (string | number)[]> }>()
    acks.forEach((a, i) => {
      const ids = [...new Set(a.ids)].filter((id) => ID_RE.test(id))
      if (ids.length === 0) return
      const p = k.partitionOf(a.userId)
      let part = parts.get(p)
      if (!part) {
        part = { acks: [], byId: new Map() }
        parts.set(p, part)
      }
      part.acks.push(i)
      for (const id of ids) {
        let triples = part.byId.get(id)
        if (!triples) {
          triples = []
          part.byId.set(id, triples)
        }
        triples.push(a.userId, a.at, a.deviceId)
      }
    })
    return [...parts].map(([p, part]) => {
      const keys = [k.webhookOutbox(p)]
      const args: (string | number)[] = [retentionSeconds, streamMaxLen, ...this.aroundUsers(p, 'recordAcks')]
      for (const [id, triples] of part.byId) {
        const everyone = isForEveryone(id)
        keys.push(k.messageReceipt(p, id), k.messageDevices(p, id))
        if (everyone) keys.push(k.announcementLog(p), k.announcementAttrs(p))
        args.push(id, triples.length / 3, everyone ? 1 : 0, ...triples)
      }
      return { acks: part.acks, run: () => this.redis.heraldAcks(keys.length, ...keys, ...args) }
    })
  }

  /**
   * The receipt of a message: one partition's for a user's message, merged over every
   * partition for a message to everyone (first delivery, devices summed, first read).
   */
  async receipt(messageId: string, now = Date.now()): Promise<Receipt | null> {
    if (!ID_RE.test(messageId)) return null
    const parts = partitionsOfId(messageId, this.keys.partitions)
    if (!parts) return null
    const k = this.keys
    const rows = await Promise.all(
      parts.map((p) =>
        Promise.all([
          this.redis.hgetall(k.messageReceipt(p, messageId)),
          this.redis.scard(k.messageDevices(p, messageId)),
        ]),
      ),
    )
    const min = (a: string | undefined, b: string | undefined) =>
      a === undefined ? b : b === undefined ? a : String(Math.min(Number(a), Number(b)))
    const devices = rows.reduce((n, [, d]) => n + Number(d), 0)
    const found = rows.map(([row]) => row as Record<string, string | undefined>).filter((row) => row.userId)
    if (found.length === 0) return null
    const h: Record<string, string | undefined> = { ...found[0] }
    for (const row of found.slice(1)) {
      for (const f of ['createdAt', 'deliveredAt', 'readAt', 'pushedAt', 'retractedAt', 'canceledAt'] as const)
        h[f] = min(h[f], row[f])
      for (const f of ['source', 'requestId', 'dueAt', 'expiresAt', 'expired'] as const) h[f] ??= row[f]
    }
    const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : undefined)
    const expired = h.expired === '1' || (h.createdAt !== undefined && Number(h.expiresAt) <= now)
    const status: MessageStatus = h.retractedAt
      ? 'retracted'
      : h.canceledAt
        ? 'canceled'
        : expired
          ? 'expired'
          : h.muted === '1'
            ? 'muted'
            : !h.createdAt
              ? 'scheduled'
              : h.readAt
                ? 'read'
                : h.deliveredAt
                  ? 'delivered'
                  : 'written'
    const out: Receipt = {
      id: messageId,
      userId: h.userId ?? '*',
      status,
      source: h.source ?? '',
      devices,
      ...(h.muted === '1' ? { muted: true } : {}),
      ...(h.requestId ? { requestId: h.requestId } : {}),
    }
    const dates = ['createdAt', 'deliveredAt', 'readAt', 'pushedAt', 'dueAt', 'expiresAt', 'canceledAt', 'retractedAt']
    for (const f of dates as (keyof Receipt & keyof typeof h)[]) {
      const v = iso(h[f])
      if (v) (out as unknown as Record<string, string>)[f] = v
    }
    return out
  }

  /**
   * Notes the receipts of messages scheduled for later (`deliverAt`), each naming its user ('*'
   * for a message to everyone) and request, so they can be looked up and canceled before they
   * are written. Kept until the retention has passed after their due time.
   */
  async schedule(
    messages: { userId: string; messageId: string }[],
    info: { source: string; requestId: string; dueAt: number },
    now = Date.now(),
  ): Promise<void> {
    const ttl = this.opts.retentionSeconds + Math.max(0, Math.ceil((info.dueAt - now) / 1000))
    await Promise.all(
      messages.map(({ userId, messageId }) => {
        const p = userId === '*' ? 0 : this.keys.partitionOf(userId)
        return this.redis.heraldSchedule(
          this.keys.messageReceipt(p, messageId),
          ttl,
          userId,
          info.source,
          info.requestId,
          info.dueAt,
        )
      }),
    )
  }

  /**
   * Takes one user's message back: 'canceled' before it is written (the delivery will write
   * nothing), 'retracted' after — removed from the inbox, and the user's sockets get a
   * `retract` frame. A second call answers the same.
   */
  async retract(userId: string, messageId: string, now = Date.now()): Promise<'canceled' | 'retracted'> {
    if (!ID_RE.test(messageId)) throw new Error(`invalid message id: ${messageId}`)
    const k = this.keys
    const p = k.partitionOf(userId)
    const out = await this.directory.run(p, (r) => {
      const keys = [
        k.messageRecipients(p, messageId),
        k.messageReceipt(p, messageId),
        ...this.messageSets(userId),
        k.routes(userId),
        ...r.streams,
        k.cursor(p),
        k.inboxChanges(userId),
        k.inboxMeta(userId),
      ]
      return this.redis.heraldRetract(
        keys.length,
        ...keys,
        userId,
        messageId,
        now,
        this.opts.retentionSeconds,
        this.opts.streamMaxLen,
        ...routeArgv(r),
      )
    })
    return out as 'canceled' | 'retracted'
  }

  /**
   * Marks a message to everyone taken back in every partition — 'canceled' when it was
   * scheduled and not written, else 'retracted': from then on no delivery writes it. Copies
   * already written are removed by `retractFrom`, partition by partition.
   */
  async markTakenBack(messageId: string, how: 'canceled' | 'retracted', now = Date.now()): Promise<void> {
    const parts = partitionsOfId(messageId, this.keys.partitions)
    if (!parts) throw new Error(`invalid message id: ${messageId}`)
    const field = how === 'canceled' ? 'canceledAt' : 'retractedAt'
    await Promise.all(parts.map((p) => this.retractChunk(p, [], messageId, now, field)))
  }

  /** Removes a retracted message from these users of partition `p` (chunked); how many had it. */
  async retractFrom(
    p: number,
    userIds: string[],
    messageId: string,
    opts: { chunkSize?: number } = {},
  ): Promise<number> {
    const size = opts.chunkSize ?? 500
    let removed = 0
    for (let i = 0; i < userIds.length; i += size) {
      removed += await this.retractChunk(p, userIds.slice(i, i + size), messageId, Date.now())
    }
    return removed
  }

  private async retractChunk(
    p: number,
    chunk: string[],
    messageId: string,
    now: number,
    field: 'retractedAt' | 'canceledAt' = 'retractedAt',
  ): Promise<number> {
    const k = this.keys
    const out = await this.directory.run(p, (r) => {
      const keys = [
        k.messageReceipt(p, messageId),
        k.cursor(p),
        ...r.streams,
        k.announcementFrames(p),
        k.announcementFramesUntil(p),
        k.announcementLog(p),
        k.announcementAttrs(p),
      ]
      return this.redis.heraldRetractMany(
        keys.length,
        ...keys,
        messageId,
        now,
        this.opts.retentionSeconds,
        this.opts.streamMaxLen,
        field,
        ...routeArgv(r),
        ...this.aroundUsers(p, 'retractMany'),
        ...chunk,
      )
    })
    return Number(out)
  }

  /**
   * Notes on a user's message receipt that a push service accepted it (the first time only);
   * false when the message has no receipt (trimmed, or never written).
   */
  async markPushed(userId: string, messageId: string, now = Date.now()): Promise<boolean> {
    if (!ID_RE.test(messageId)) return false
    const key = this.keys.messageReceipt(this.keys.partitionOf(userId), messageId)
    const [[, exists]] = (await this.redis.multi().exists(key).hsetnx(key, 'pushedAt', String(now)).exec()) as [
      [Error | null, number],
    ]
    if (exists === 0) await this.redis.del(key)
    return exists === 1
  }
}
