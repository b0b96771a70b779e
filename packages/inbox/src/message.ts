/**
 * What a message and its inbox entry look like to callers, and the pure helpers around them:
 * message ids (which name their partition), cursors, and the frame the delivery scripts send.
 */
export interface NewMessage {
  id: string
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  /** ISO date-time */
  createdAt: string
  /** the calling system (receipts are shown only to it) */
  source?: string
  /** only these sessions (devices) of the user get it, live and on replay; the inbox lists it everywhere */
  sessionIds?: string[]
  /** every session of the user but this one (the sender's own tab), live and on replay */
  exceptSessionId?: string
  /** a kind nobody may mute (the catalog's security notices): preferences are not consulted */
  mandatory?: boolean
  /** ISO date-time: past it the message is not delivered nor replayed, and it leaves the inbox */
  expiresAt?: string
  /**
   * the receipt events the source's webhooks want noted on the webhook outbox: 'd' (first
   * ack), 'r' (first read); none when absent (one user's message only)
   */
  hooks?: string
}

/** What a user chose for a kind: absent means 'on'. */
export type Preference = 'on' | 'off' | 'silent'

export interface DeliverResult {
  userId: string
  messageId: string
  /** null: this user already had this message (a retried job), or turned its kind off */
  cursor: string | null
  /** the user turned this kind off: nothing was written but the receipt */
  muted?: boolean
  /** it was past its expiry: nothing was written but the receipt */
  expired?: boolean
  /**
   * Web Push (InboxOptions.push): 'offline' — the user had no live socket and has a push
   * subscription; 'undelivered' — the user was online and has one. Also on a retried delivery
   * (cursor null) while the push is still owed: in the inbox, not acked, not pushed yet
   */
  push?: 'offline' | 'undelivered'
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
  /** shown in a list (a read message is seen) */
  seen: boolean
  archived: boolean
  sessionIds?: string[]
  exceptSessionId?: string
  expiresAt?: string
}

/** What a user can do to messages; each but read has its `state` frame for the user's other sockets. */
export type InboxState = 'seen' | 'read' | 'unread' | 'archived' | 'unarchived' | 'deleted'
/** The states a bulk change "every message up to a cursor" applies to. */
export const UP_TO_STATES: readonly InboxState[] = ['seen', 'read', 'archived']
/** A list filter: unread and read leave archived messages out; no filter lists every message not archived. */
export type InboxFilter = 'unread' | 'read' | 'archived'

/** Counts per state; total, unread and unseen leave archived messages out. */
export interface InboxCounts {
  total: number
  unseen: number
  unread: number
  archived: number
}

/** Where a message is, as its sender sees it (`GET /v1/messages/:id`). */
export type MessageStatus =
  | 'scheduled'
  | 'written'
  | 'delivered'
  | 'read'
  | 'muted'
  | 'expired'
  | 'canceled'
  | 'retracted'

export interface Receipt {
  id: string
  /** the recipient, or '*' for a message sent to many users */
  userId: string
  status: MessageStatus
  /** when it was written to the inbox (absent while scheduled, and when canceled or expired first) */
  createdAt?: string
  deliveredAt?: string
  devices: number
  readAt?: string
  /** the calling system that sent it */
  source: string
  /** the recipient turned this kind off: it was not delivered */
  muted?: boolean
  /** first accepted by a Web Push service (the user had no live connection) */
  pushedAt?: string
  /** the request that sent it (`POST /v1/messages` with `deliverAt`) */
  requestId?: string
  /** when a scheduled message is due */
  dueAt?: string
  expiresAt?: string
  /** taken back before it was written (`DELETE /v1/messages/:id`) */
  canceledAt?: string
  /** taken back after it was written: removed from the inbox */
  retractedAt?: string
}

/** Message ids are restricted so they can be embedded in frames without escaping. */
export const ID_RE = /^[A-Za-z0-9_:.-]{1,80}$/
/** Session ids travel in a stream field joined by ',' (and '!' for "all but"): neither may occur. */
const SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/
/** A cursor as clients send it back. */
export const CURSOR_RE = /^\d{1,20}$/

/**
 * The `d` field of a message's stream entries: '' every session of the user, 's1,s2' only
 * these, '!s0' every one but s0. The gateway applies it to its sockets and to replays.
 */
export function devicesOf(m: NewMessage): string {
  const ids = m.sessionIds ?? (m.exceptSessionId !== undefined ? [m.exceptSessionId] : [])
  for (const id of ids) if (!SESSION_RE.test(id)) throw new Error(`invalid session id: ${id}`)
  if (m.sessionIds) return m.sessionIds.join(',')
  return m.exceptSessionId !== undefined ? `!${m.exceptSessionId}` : ''
}

/** The partition a message id names: `<base>.p<N>` (one user's message), `<base>.all` (everyone's). */
export function messageIdIn(base: string, partition: number | 'all'): string {
  return partition === 'all' ? `${base}.all` : `${base}.p${partition}`
}

/** Whether a message id names a message to everyone (messageIdIn(base, 'all')). */
export function isForEveryone(id: string): boolean {
  return id.endsWith('.all')
}

export function partitionsOfId(id: string, partitions: number): number[] | null {
  if (isForEveryone(id)) return Array.from({ length: partitions }, (_, i) => i)
  const m = /\.p(\d{1,3})$/.exec(id)
  if (!m) return null
  const p = Number(m[1])
  return p < partitions ? [p] : null
}

/** `{"id":…}` minus its opening brace: the script prepends `{"type":"message","cursor":"…",`. */
export function frameTail(m: NewMessage): string {
  if (!ID_RE.test(m.id)) throw new Error(`invalid message id: ${m.id}`)
  const json = JSON.stringify({
    id: m.id,
    kind: m.kind,
    title: m.title,
    body: m.body,
    data: m.data,
    createdAt: m.createdAt,
    ...(m.sessionIds ? { sessionIds: m.sessionIds } : {}),
    ...(m.exceptSessionId !== undefined ? { exceptSessionId: m.exceptSessionId } : {}),
    ...(m.expiresAt !== undefined ? { expiresAt: m.expiresAt } : {}),
  })
  return json.slice(1)
}

/** Compares two cursors (decimal strings of non-negative integers). */
export function compareCursors(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** The cursor of a frame written by this module (it always starts with type and cursor). */
export function cursorOf(frame: string): string {
  const start = frame.indexOf('"cursor":"') + 10
  return frame.slice(start, frame.indexOf('"', start))
}
