import { cursorOf, type Inbox } from '@herald/inbox'
import type { Connection } from './connection'
import { frameIsFor } from './delivery'
import { welcomeFrame } from './frames'

/** How every message frame the inbox stores begins (the delivery scripts write it so). */
const MESSAGE_FRAME_START = '{"type":"message"'

export interface ReplayRequest {
  conn: Connection
  replica: string
  /** the client's last cursor (exclusive) */
  since: string
  /** the cursor registration returned (inclusive): above it, messages come live */
  upTo: string
  pageSize: number
}

/**
 * Sends the client what it missed: the `welcome` (resumed, with `gap` when messages or changes
 * after `since` were already trimmed), then every inbox message in (since, upTo] and the read,
 * state and retract changes made meanwhile, in cursor order, in pages. Live frames are held by
 * the connection meanwhile; the caller sends them after.
 */
export async function replay(inbox: Inbox, r: ReplayRequest): Promise<void> {
  const { conn } = r
  let cursor = r.since
  let first = true
  // bounded: each page moves the cursor forward, and the inbox holds finitely many messages
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await inbox.since(conn.userId, cursor, r.pageSize, r.upTo)
    if (conn.state === 'closed') return
    if (first) {
      conn.write(
        welcomeFrame({
          connId: conn.connId,
          userId: conn.userId,
          sessionId: conn.info.sessionId,
          replica: r.replica,
          resumed: true,
          gap: page.gap,
        }),
      )
      first = false
    }
    for (const frame of page.frames) {
      // a change (read, state, retract) made while the client was away: it has no cursor of its own
      if (!frame.startsWith(MESSAGE_FRAME_START)) conn.write(frame, null)
      // a device-targeted message replays only to the sessions it was for
      else if (frameIsFor(frame, conn.info.sessionId)) conn.write(frame, cursorOf(frame))
    }
    if (!page.more || page.lastCursor === null) return
    cursor = page.lastCursor
  }
}
