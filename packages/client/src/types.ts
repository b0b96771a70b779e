/**
 * The public shapes of herald as the client sees them (docs/protocol.md). Declared here rather than
 * re-exported from @herald/contracts so that the built `.d.ts` stands alone for apps outside
 * this repository; test/contract-types.ts fails the typecheck if the two ever drift apart.
 */

/** A notification, as it arrives on the socket and as `/inbox` lists it. */
export interface HeraldMessage {
  /** grows per user; the client resumes with `since=<last cursor>` */
  cursor: string
  id: string
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  createdAt: string
  /** sent to these sessions (devices) only; it is listed in every device's inbox */
  sessionIds?: string[]
  /** sent to every session but this one (the sender's) */
  exceptSessionId?: string
  /** past this time herald neither delivers nor lists it: the client emits `retract` (reason `expired`) then */
  expiresAt?: string
}

export interface InboxItem extends HeraldMessage {
  read: boolean
  /** shown in a list on some device (a read message is seen) */
  seen: boolean
  /** left out of the list but with `state: 'archived'` */
  archived: boolean
}

/** A list filter: unread and read leave archived messages out; none lists every message not archived. */
export type InboxFilter = 'unread' | 'read' | 'archived'

/** What a user can do to messages (`POST /inbox/state`). */
export type InboxState = 'seen' | 'read' | 'unread' | 'archived' | 'unarchived' | 'deleted'

/** `GET /inbox/counts`: total, unseen and unread leave archived messages out. */
export interface InboxCounts {
  total: number
  unseen: number
  unread: number
  archived: number
}

export interface InboxPage {
  /** newest first */
  items: InboxItem[]
  unread: number
  /** pass as `before` for the next (older) page */
  nextBefore: string | null
}

export interface WelcomeFrame {
  type: 'welcome'
  connId: string
  userId: string
  /** this device's session: what `to.sessionIds` and `exceptSessionId` name */
  sessionId: string
  replica: string
  resumed: boolean
  gap: boolean
  /** on a fresh connection: where it starts; the client resumes from it until a message arrives */
  cursor?: string
}
export interface MessageFrame extends HeraldMessage {
  type: 'message'
}
export interface ReadFrame {
  type: 'read'
  ids: string[]
}
/** Another device changed these messages' state (read keeps its `read` frame); `upTo`: every message at or below that cursor. */
export interface StateFrame {
  type: 'state'
  state: 'seen' | 'unread' | 'archived' | 'unarchived' | 'deleted'
  ids?: string[]
  upTo?: string
}
/** The sending system took these messages back (`DELETE /v1/messages/:id`): they are gone from the inbox. */
export interface RetractFrame {
  type: 'retract'
  ids: string[]
}
export interface ErrorFrame {
  type: 'error'
  code: string
  message: string
}
export type ServerFrame = WelcomeFrame | MessageFrame | ReadFrame | StateFrame | RetractFrame | ErrorFrame

export type ClientFrame =
  | { type: 'ack'; ids: string[] }
  | { type: 'read'; ids: string[] }
  | { type: 'state'; state: InboxState; ids: string[] }

/** Most ids one ack/read frame or one `POST /inbox/read` may carry. */
export const MAX_IDS_PER_FRAME = 100

export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'ended'

export interface StatusEvent {
  newState: ClientState
  oldState: ClientState
  /** the close code that caused this change, when a socket closed */
  code?: number
  reason?: string
}

export interface GapEvent {
  /** the cursor the client asked to resume from; older messages may be missing: reload the inbox */
  since: string | undefined
}

export interface ReadEvent {
  ids: string[]
}

/** Messages changed state on another tab or device (a `read` frame too, as state `read`); `upTo`: every message at or below that cursor. */
export interface StateEvent {
  state: InboxState
  ids?: string[]
  upTo?: string
}

/**
 * Take these messages off the screen: the sender took them back (`retracted`, a `retract`
 * frame), or their `expiresAt` passed (`expired`, for messages this client handed out as
 * `message` events or in `inbox()` pages). Each id is announced once.
 */
export interface RetractEvent {
  ids: string[]
  reason: 'retracted' | 'expired'
}

export interface ConnectedEvent {
  connId: string
  userId: string
  /** this device's session: what `to.sessionIds` and `exceptSessionId` name */
  sessionId: string
  replica: string
  resumed: boolean
  /** what carries this connection: a WebSocket, or the SSE fallback */
  transport: 'websocket' | 'sse'
}

export interface ClientErrorEvent {
  /** `error` frame code, `HTTP_<status>` for a failed ticket request, or `NETWORK` */
  code: string
  message: string
}

export interface ClientEvents {
  message: HeraldMessage
  read: ReadEvent
  state: StateEvent
  retract: RetractEvent
  status: StatusEvent
  gap: GapEvent
  connected: ConnectedEvent
  error: ClientErrorEvent
}

/** What a user chose for one message kind: `on` (the default), `off` (not delivered) or `silent` (kept in the inbox, not pushed live). */
export type PreferenceValue = 'on' | 'off' | 'silent'

/** `GET /inbox/preferences`: the kinds set apart from `on`, and the kinds nobody may mute. */
export interface Preferences {
  kinds: Record<string, PreferenceValue>
  /** kinds nobody may mute (security notices such as `account.login`) */
  mandatory: string[]
}

/**
 * The `code` of a HeraldHttpError from the client's own calls (herald's full list: docs/protocol.md);
 * failed tickets and frames reach the `error` event with the same codes.
 */
export const ErrorCode = {
  /** not signed in, or the session ended (`onAuthError` is called too) */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** a malformed request: e.g. a kind that is not `[a-z][a-z0-9_.-]*`, or more than 100 of them */
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  /** `deleteMessage` of a message that is not in the inbox (already deleted, or trimmed) */
  NOT_FOUND: 'NOT_FOUND',
  /** `setPreferences` set a kind of `mandatory` apart from on */
  KIND_NOT_MUTABLE: 'KIND_NOT_MUTABLE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** herald could not be reached (no HTTP answer) */
  NETWORK: 'NETWORK',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export interface AuthErrorEvent {
  /** 401 from an HTTP call, or the close code (4401 twice in a row, 4409) */
  status: number
  message: string
}
