/**
 * The gateway streams: one Redis Stream per gateway replica and partition, read only by that
 * replica (XREAD). An entry is appended, in the same atomic step as the write it announces,
 * only to the streams of the replicas that hold a socket of its user(s). Entries are flat
 * field/value pairs so a gateway routes them by `k` and `u` without decoding `p`.
 *
 *   k  kind:  'm' message for user(s) `u`    c = its cursor, p = the ready-to-send `message` frame (JSON)
 *             'r' read/state sync for user(s) `u` p = the ready-to-send `read`, `state` or `retract` frame;
 *                                             `o` = origin connId (skipped)
 *             'x' control for user `u`        `s` = session id (absent: every socket of the user), p = reason
 *             'a' announcement: every user of the stream's partition but those in `u`; c, x, p as for 'm'
 *   u  target user id; for 'm' and 'r' possibly several ids joined by ',' (an announcement or its
 *      retraction: this replica's users of a chunk); for 'a' the users excluded (muted), absent or
 *      empty when none
 *   c  cursor (messages and announcements): a socket registered at cursor C takes only entries above C
 *   s  session id (control only)
 *   o  origin connection id (read/state sync only)
 *   d  devices (messages only): 's1,s2' these sessions, '!s0' every one but s0
 *   x  expiry, epoch ms (messages and announcements): an entry read after it is not sent
 *   p  payload
 */
export const StreamKind = {
  MESSAGE: 'm',
  READ: 'r',
  CONTROL: 'x',
  ANNOUNCE: 'a',
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
