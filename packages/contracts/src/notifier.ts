import { type Static, Type } from 'typebox'
import { Cursor, ExpiryFields, JsonObject, MessageId, SessionId, UserId } from './common'
import { EventId } from './events'
import { InboxState } from './frames'

/**
 * The notifier's HTTP contract: `/v1` for other systems (service JWT), `/inbox` for
 * browsers (session token). Every route's request and response schema is here.
 */

// ---- service tokens
/** Scopes a service token may carry (the JWT `scope` claim, space-separated). */
export const Scope = {
  EVENTS_WRITE: 'events:write',
  MESSAGES_WRITE: 'messages:write',
  PRESENCE_READ: 'presence:read',
  USERS_DISCONNECT: 'users:disconnect',
  STATS_READ: 'stats:read',
  WEBHOOKS_WRITE: 'webhooks:write',
} as const
export type Scope = (typeof Scope)[keyof typeof Scope]

/** Claims of a service token: HS256, signed with SERVICE_JWT_SECRET. */
export interface ServiceClaims {
  /** the calling system, e.g. `billing` */
  sub: string
  aud: string | string[]
  /** space-separated scopes */
  scope: string
  iat?: number
  exp?: number
  /** the token's id: what a revocation names */
  jti?: string
}

// ---- events
export const EventStatus = Type.Union(
  [
    Type.Literal('queued'),
    Type.Literal('delayed'),
    Type.Literal('processing'),
    Type.Literal('done'),
    Type.Literal('failed'),
    Type.Literal('canceled'),
    Type.Literal('expired'),
  ],
  {
    description:
      'queued → (delayed) → processing → done | failed; a failed attempt that will be retried is queued; canceled (`DELETE /v1/events/:id` before it was processed); expired (its `expiresAt` passed before it was processed)',
  },
)
export type EventStatus = Static<typeof EventStatus>

/** Answer of `POST /v1/events` (202 when accepted now, 200 when the id was already known). */
export const EventAccepted = Type.Object({
  id: EventId,
  status: EventStatus,
})
export type EventAccepted = Static<typeof EventAccepted>

export const EventIdParams = Type.Object({ id: EventId })

export const EventView = Type.Object({
  id: EventId,
  type: Type.String(),
  status: EventStatus,
  attempts: Type.Integer({ description: 'processing attempts started so far' }),
  messageIds: Type.Array(MessageId, { description: 'ids of the messages the event became (once done)' }),
  error: Type.Optional(Type.String({ description: 'why the last attempt failed' })),
  acceptedAt: Type.String({ format: 'date-time' }),
  deliverAt: Type.Optional(Type.String({ format: 'date-time' })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'when its messages expire' })),
  source: Type.String({ description: '`sub` of the system that sent it' }),
})
export type EventView = Static<typeof EventView>

// ---- messages
export const MAX_RECIPIENTS = 10_000

/** The most sessions one message may be addressed to (`to.sessionIds`). */
export const MAX_TARGET_SESSIONS = 20

export const Recipients = Type.Union([
  Type.Object(
    {
      userIds: Type.Array(UserId, { minItems: 1, maxItems: MAX_RECIPIENTS, uniqueItems: true }),
      sessionIds: Type.Optional(
        Type.Array(SessionId, {
          minItems: 1,
          maxItems: MAX_TARGET_SESSIONS,
          uniqueItems: true,
          description:
            "Only these sessions (devices, the ids of `/auth/sessions` and of the `welcome` frame) of the listed users get it, live and on reconnect; it is still kept in each user's inbox, marked with `sessionIds`",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
])
export type Recipients = Static<typeof Recipients>

export const MessageKind = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' })

export const SendMessageBody = Type.Object(
  {
    to: Recipients,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.String({ maxLength: 4000 }),
    data: Type.Optional(JsonObject),
    kind: Type.Optional(MessageKind),
    deliverAt: Type.Optional(Type.String({ format: 'date-time' })),
    ...ExpiryFields,
    exceptSessionId: Type.Optional({
      ...SessionId,
      description:
        "Every session but this one gets it (a chat message is not echoed to the tab that sent it); it is kept in the user's inbox, marked with `exceptSessionId`",
    }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        to: { userIds: ['u_3b9f2c'] },
        title: 'Invoice paid',
        body: 'We received your payment of €42.00.',
        data: { invoiceId: 'inv_1001' },
        kind: 'billing.invoice',
      },
    ],
  },
)
export type SendMessageBody = Static<typeof SendMessageBody>

export const SendMessageReply = Type.Object({
  requestId: EventId,
  ids: Type.Array(MessageId, {
    description: 'one message id per recipient, in the order of `to.userIds`; one id for `to.all`',
  }),
  status: EventStatus,
})
export type SendMessageReply = Static<typeof SendMessageReply>

export const MessageIdParams = Type.Object({ id: MessageId })

export const MessageStatus = Type.Union(
  [
    Type.Literal('scheduled'),
    Type.Literal('written'),
    Type.Literal('delivered'),
    Type.Literal('read'),
    Type.Literal('muted'),
    Type.Literal('expired'),
    Type.Literal('canceled'),
    Type.Literal('retracted'),
  ],
  {
    description:
      'scheduled (`deliverAt` ahead) → written (in the inbox) → delivered (a device acked) → read; or muted (the user turned the kind off), expired (past `expiresAt`), canceled (taken back before it was written), retracted (taken back after)',
  },
)
export type MessageStatus = Static<typeof MessageStatus>

export const MessageReceipt = Type.Object({
  id: MessageId,
  userId: Type.String({ description: 'the recipient, or `*` for a message sent to everyone' }),
  status: MessageStatus,
  createdAt: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'when it was written to the inbox (absent while scheduled, or when canceled or expired first)',
    }),
  ),
  deliveredAt: Type.Optional(Type.String({ format: 'date-time', description: 'first ack from any device' })),
  devices: Type.Integer({ description: 'devices that acked the message' }),
  readAt: Type.Optional(Type.String({ format: 'date-time' })),
  muted: Type.Optional(
    Type.Boolean({ description: 'the recipient turned this kind off (`/inbox/preferences`): not delivered' }),
  ),
  pushedAt: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'first accepted by a push service (Web Push, the user was offline)',
    }),
  ),
  requestId: Type.Optional({ ...EventId, description: 'the `POST /v1/messages` request of a scheduled message' }),
  dueAt: Type.Optional(Type.String({ format: 'date-time', description: 'when a scheduled message is due' })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  canceledAt: Type.Optional(Type.String({ format: 'date-time', description: 'taken back before it was written' })),
  retractedAt: Type.Optional(
    Type.String({ format: 'date-time', description: 'taken back after it was written: removed from the inbox' }),
  ),
})
export type MessageReceipt = Static<typeof MessageReceipt>

/** Answer of `DELETE /v1/messages/:id`. */
export const MessageCanceled = Type.Object({
  id: MessageId,
  status: Type.Union([Type.Literal('canceled'), Type.Literal('retracted')], {
    description:
      'canceled: it had not been written and never will be; retracted: it was written and is removed from the inbox (open clients get a `retract` frame; for a message to everyone, inbox by inbox in the background)',
  }),
})
export type MessageCanceled = Static<typeof MessageCanceled>

// ---- users, presence, stats
export const UserIdParams = Type.Object({ id: UserId })

export const PresenceConnection = Type.Object({
  connId: Type.String(),
  replica: Type.String(),
  device: Type.String(),
  connectedAt: Type.String({ format: 'date-time' }),
})

export const PresenceView = Type.Object({
  userId: UserId,
  online: Type.Boolean(),
  connections: Type.Array(PresenceConnection),
})
export type PresenceView = Static<typeof PresenceView>

export const QueueCounts = Type.Object({
  waiting: Type.Integer(),
  active: Type.Integer(),
  delayed: Type.Integer(),
  failed: Type.Integer(),
  completed: Type.Integer(),
})
export type QueueCounts = Static<typeof QueueCounts>

export const StreamStats = Type.Object({
  length: Type.Integer(),
  lastId: Type.Union([Type.String(), Type.Null()]),
})
export type StreamStats = Static<typeof StreamStats>

export const ReplicaStats = Type.Object(
  {
    id: Type.String({ description: 'the replica name' }),
    alive: Type.Boolean({ description: 'false once its heartbeat is overdue (it will be reaped)' }),
    connections: Type.Integer(),
    users: Type.Integer(),
  },
  { additionalProperties: true },
)

export const StatsView = Type.Object({
  onlineUsers: Type.Integer(),
  connections: Type.Integer(),
  replicas: Type.Array(ReplicaStats),
  queue: QueueCounts,
  stream: StreamStats,
})
export type StatsView = Static<typeof StatsView>

// ---- /inbox (browsers)
export const INBOX_PAGE_MAX = 100

/** A list filter: unread and read leave archived messages out; no filter lists every message not archived. */
export const InboxFilter = Type.Union([Type.Literal('unread'), Type.Literal('read'), Type.Literal('archived')])
export type InboxFilter = Static<typeof InboxFilter>

export const InboxQuery = Type.Object(
  {
    before: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: INBOX_PAGE_MAX, default: 50 })),
    kind: Type.Optional(MessageKind),
    state: Type.Optional(InboxFilter),
  },
  { additionalProperties: false },
)
export type InboxQuery = Static<typeof InboxQuery>

export const InboxItem = Type.Object({
  cursor: Cursor,
  id: MessageId,
  kind: Type.String(),
  title: Type.String(),
  body: Type.String(),
  data: JsonObject,
  createdAt: Type.String({ format: 'date-time' }),
  read: Type.Boolean(),
  /** shown in a list on some device (a read message is seen) */
  seen: Type.Boolean(),
  /** archived: left out of the list but with `state=archived` */
  archived: Type.Boolean(),
  /** sent to these devices only (it is listed on every device) */
  sessionIds: Type.Optional(Type.Array(SessionId)),
  /** sent to every device but this one */
  exceptSessionId: Type.Optional(SessionId),
  /** it leaves the inbox at this time (the sender's `expiresAt` or `ttl`) */
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
})
export type InboxItem = Static<typeof InboxItem>

// ---- preferences (per user, per message kind)
/** What a user chose for a kind: 'on' (the default), 'off' (not delivered), 'silent' (inbox only, not pushed live). */
export const PreferenceValue = Type.Union([Type.Literal('on'), Type.Literal('off'), Type.Literal('silent')])
export const MAX_PREFERENCE_KINDS = 100

export const PreferencesBody = Type.Object(
  {
    kinds: Type.Record(MessageKind, PreferenceValue, {
      maxProperties: MAX_PREFERENCE_KINDS,
      additionalProperties: false,
      propertyNames: { maxLength: 64 },
      description: `message kind → on | off | silent; replaces every earlier choice (kinds not listed are on); at most ${MAX_PREFERENCE_KINDS}`,
    }),
  },
  { additionalProperties: false, examples: [{ kinds: { 'chat.message': 'silent', 'order.shipped': 'off' } }] },
)
export type PreferencesBody = Static<typeof PreferencesBody>

export const PreferencesReply = Type.Object({
  kinds: Type.Record(Type.String(), PreferenceValue, { description: 'the kinds set apart from on' }),
  mandatory: Type.Array(Type.String(), { description: 'kinds nobody may mute (security notices)' }),
})
export type PreferencesReply = Static<typeof PreferencesReply>

// ---- Web Push subscriptions (per user, per browser)
/** A browser's `PushSubscription.toJSON()`; the server checks the endpoint and keys further. */
export const PushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 9, maxLength: 1024, description: 'the push service URL (https)' }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: Type.Object(
      {
        p256dh: Type.String({ minLength: 80, maxLength: 100, description: 'P-256 public key, base64url' }),
        auth: Type.String({ minLength: 16, maxLength: 32, description: '16-byte auth secret, base64url' }),
      },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        endpoint: 'https://fcm.googleapis.com/fcm/send/c1K…',
        expirationTime: null,
        keys: {
          p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
          auth: 'tBHItJI5svbpez7KI4CCXg',
        },
      },
    ],
  },
)
export type PushSubscriptionBody = Static<typeof PushSubscriptionBody>

export const PushSubscriptionReply = Type.Object({
  id: Type.String({ description: 'the subscription (a digest of its endpoint)' }),
  replaced: Type.Boolean({ description: 'the endpoint was already registered: its keys were replaced' }),
})
export type PushSubscriptionReply = Static<typeof PushSubscriptionReply>

export const PushUnsubscribeBody = Type.Object(
  { endpoint: Type.String({ minLength: 9, maxLength: 1024 }) },
  { additionalProperties: false },
)
export type PushUnsubscribeBody = Static<typeof PushUnsubscribeBody>

export const PushKeyReply = Type.Object({
  publicKey: Type.String({ description: "the VAPID public key (base64url): the browser's `applicationServerKey`" }),
})
export type PushKeyReply = Static<typeof PushKeyReply>

export const InboxPage = Type.Object({
  items: Type.Array(InboxItem, { description: 'newest first' }),
  unread: Type.Integer(),
  nextBefore: Type.Union([Cursor, Type.Null()], { description: 'pass as `before` for the next (older) page' }),
})
export type InboxPage = Static<typeof InboxPage>

export const InboxReadBody = Type.Union([
  Type.Object(
    { ids: Type.Array(MessageId, { minItems: 1, maxItems: INBOX_PAGE_MAX }) },
    { additionalProperties: false },
  ),
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
])
export type InboxReadBody = Static<typeof InboxReadBody>

export const InboxStateBody = Type.Union(
  [
    Type.Object(
      { state: InboxState, ids: Type.Array(MessageId, { minItems: 1, maxItems: INBOX_PAGE_MAX }) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        state: Type.Union([Type.Literal('seen'), Type.Literal('read'), Type.Literal('archived')]),
        upTo: Cursor,
      },
      { additionalProperties: false, description: 'every message up to this cursor (inclusive)' },
    ),
  ],
  {
    examples: [
      { state: 'archived', ids: ['m_1.p3'] },
      { state: 'seen', upTo: '1732790000000000' },
    ],
  },
)
export type InboxStateBody = Static<typeof InboxStateBody>

export const InboxStateReply = Type.Object({
  changed: Type.Integer({
    description: 'how many messages changed state (ids not in the inbox, or already so, do not count)',
  }),
})
export type InboxStateReply = Static<typeof InboxStateReply>

export const InboxCounts = Type.Object({
  total: Type.Integer({ description: 'messages not archived' }),
  unseen: Type.Integer({ description: 'not archived, never shown in a list nor read' }),
  unread: Type.Integer({ description: 'not archived, not read' }),
  archived: Type.Integer(),
})
export type InboxCounts = Static<typeof InboxCounts>
