/**
 * The delivery stream: ONE Redis Stream that every gateway replica reads with XREAD.
 * Entries are flat field/value pairs so that a gateway can decide from `k` and `u`
 * alone whether it has anything to do, without decoding `p`.
 *
 *   k  kind:  'm' message for user(s) `u`    p = the ready-to-send `message` frame (JSON)
 *             'b' message for every local socket, p = the ready-to-send frame
 *             'r' read sync for user `u`      p = the ready-to-send `read` frame; `o` = origin connId (skipped)
 *             'x' control for user `u`        `s` = session id (absent: every socket of the user), p = reason
 *   u  target user id; for 'm' possibly several ids joined by ','
 *   s  session id (control only)
 *   o  origin connection id (read sync only)
 *   p  payload
 */
export const StreamKind = {
  MESSAGE: 'm',
  BROADCAST: 'b',
  READ: 'r',
  CONTROL: 'x',
} as const
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind]

export const USER_LIST_SEPARATOR = ','

/** Why a control entry closes sockets (4409). */
export const ControlReason = {
  LOGOUT: 'logout',
  SESSION_REVOKED: 'session-revoked',
  LOGOUT_ALL: 'logout-all',
  DISCONNECTED: 'disconnected',
} as const
export type ControlReason = (typeof ControlReason)[keyof typeof ControlReason]

export type StreamEntry =
  | { k: 'm'; u: string; p: string }
  | { k: 'b'; p: string }
  | { k: 'r'; u: string; p: string; o?: string }
  | { k: 'x'; u: string; s?: string; p: ControlReason }
