import { type Static, Type } from 'typebox'
import { Cursor, JsonObject, MessageId, SessionId, UserId } from './common'

/** WebSocket close codes of herald (docs/protocol.md lists their meaning). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  SESSION_ENDED: 4409,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

// ---- server → client
export const WelcomeFrame = Type.Object({
  type: Type.Literal('welcome'),
  connId: Type.String(),
  userId: UserId,
  /** the session (device) this socket belongs to: what `to.sessionIds` and `exceptSessionId` name */
  sessionId: Type.String(),
  replica: Type.String(),
  resumed: Type.Boolean(),
  gap: Type.Boolean(),
  /**
   * On a fresh (not resumed) connection: the newest cursor handed out just before this
   * socket started receiving. A client that has not received a message yet resumes from
   * it (`since`), so what was sent between this welcome and a drop is replayed, not lost.
   */
  cursor: Type.Optional(Cursor),
})
export type WelcomeFrame = Static<typeof WelcomeFrame>

/** What a message looks like everywhere a client sees one: on the socket and in `/inbox`. */
export const MessageFrame = Type.Object({
  type: Type.Literal('message'),
  cursor: Cursor,
  id: MessageId,
  kind: Type.String(),
  title: Type.String(),
  body: Type.String(),
  data: JsonObject,
  createdAt: Type.String({ format: 'date-time' }),
  /** a message sent to some devices only: the sessions it is for (it stays in every device's inbox) */
  sessionIds: Type.Optional(Type.Array(SessionId)),
  /** a message sent to every device but one (the sender's): that session */
  exceptSessionId: Type.Optional(SessionId),
  /**
   * when the message stops being shown: past it, it is neither delivered nor replayed and it
   * leaves the inbox; a client drops it from what it shows then (the SDK emits `retract`)
   */
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
})
export type MessageFrame = Static<typeof MessageFrame>

export const ReadFrame = Type.Object({ type: Type.Literal('read'), ids: Type.Array(MessageId) })
export type ReadFrame = Static<typeof ReadFrame>

/**
 * The user changed messages' state on another device (read keeps its `read` frame): the listed
 * ids, or every message up to a cursor (inclusive) for a bulk change.
 */
export const SyncedState = Type.Union([
  Type.Literal('seen'),
  Type.Literal('unread'),
  Type.Literal('archived'),
  Type.Literal('unarchived'),
  Type.Literal('deleted'),
])
export type SyncedState = Static<typeof SyncedState>

export const StateFrame = Type.Object({
  type: Type.Literal('state'),
  state: SyncedState,
  ids: Type.Optional(Type.Array(MessageId)),
  upTo: Type.Optional(Cursor),
})
export type StateFrame = Static<typeof StateFrame>

/**
 * The sending system took these messages back (`DELETE /v1/messages/:id`): they are gone from
 * the inbox, and a client removes them from what it shows.
 */
export const RetractFrame = Type.Object({ type: Type.Literal('retract'), ids: Type.Array(MessageId) })
export type RetractFrame = Static<typeof RetractFrame>

export const ErrorFrame = Type.Object({ type: Type.Literal('error'), code: Type.String(), message: Type.String() })
export type ErrorFrame = Static<typeof ErrorFrame>

export type ServerFrame = WelcomeFrame | MessageFrame | ReadFrame | StateFrame | RetractFrame | ErrorFrame

// ---- client → server
export const MAX_IDS_PER_FRAME = 100
const Ids = Type.Array(MessageId, { minItems: 1, maxItems: MAX_IDS_PER_FRAME })

export const AckClientFrame = Type.Object({ type: Type.Literal('ack'), ids: Ids }, { additionalProperties: false })
export const ReadClientFrame = Type.Object({ type: Type.Literal('read'), ids: Ids }, { additionalProperties: false })
/** What a user can do to messages: every one but read is synced with a `state` frame (read with `read`). */
export const InboxState = Type.Union([
  Type.Literal('seen'),
  Type.Literal('read'),
  Type.Literal('unread'),
  Type.Literal('archived'),
  Type.Literal('unarchived'),
  Type.Literal('deleted'),
])
export type InboxState = Static<typeof InboxState>

/** Any inbox state change from the socket (e.g. `seen` when a list shows messages); the other sockets get it, not this one. */
export const StateClientFrame = Type.Object(
  {
    type: Type.Literal('state'),
    state: InboxState,
    ids: Ids,
  },
  { additionalProperties: false },
)
export const ClientFrame = Type.Union([AckClientFrame, ReadClientFrame, StateClientFrame])
export type ClientFrame = Static<typeof ClientFrame>
