import { CloseCode, StreamKind, USER_LIST_SEPARATOR } from '@herald/contracts'
import type { Registry } from './registry'

/** A gateway-stream entry as XREAD returns it: its id and its flat field/value list. */
export type RawEntry = [id: string, fields: string[]]

export interface DeliveryStats {
  /** frames written to sockets */
  written: number
  /** entries that had at least one local target */
  matched: number
}

export interface DeliveryHooks {
  /** an entry reached local sockets: its kind, the frames written and its stream id (for lag) */
  onDelivered?(kind: string, written: number, entryId: string): void
}

interface Fields {
  k: string
  u: string
  c: string
  s: string
  o: string
  d: string
  x: string
  p: string
}

function readFields(flat: string[]): Fields {
  const f: Fields = { k: '', u: '', c: '', s: '', o: '', d: '', x: '', p: '' }
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]
    if (
      name === 'k' ||
      name === 'u' ||
      name === 'c' ||
      name === 's' ||
      name === 'o' ||
      name === 'd' ||
      name === 'x' ||
      name === 'p'
    ) {
      f[name] = flat[i + 1] as string
    }
  }
  return f
}

/** The user ids of an entry's `u`: one, or several joined (an announcement, a retraction). */
const usersOf = (u: string) => (u.includes(USER_LIST_SEPARATOR) ? u.split(USER_LIST_SEPARATOR) : [u])

/**
 * Which sessions a device-targeted message is for, from its entry's `d` field: 's1,s2' only
 * these, '!s0' every one but s0.
 */
export function deviceFilter(d: string): (sessionId: string) => boolean {
  if (d.startsWith('!')) {
    const except = d.slice(1)
    return (s) => s !== except
  }
  const only = new Set(d.split(USER_LIST_SEPARATOR))
  return (s) => only.has(s)
}

/**
 * Whether a stored message frame (a replay) is for this session: only frames of device-targeted
 * messages carry `sessionIds` or `exceptSessionId` at their top level, so the others are not parsed.
 */
export function frameIsFor(frame: string, sessionId: string): boolean {
  if (!frame.includes('"sessionIds":') && !frame.includes('"exceptSessionId":')) return true
  const m = JSON.parse(frame) as { sessionIds?: unknown; exceptSessionId?: unknown }
  if (Array.isArray(m.sessionIds)) return m.sessionIds.includes(sessionId)
  if (typeof m.exceptSessionId === 'string') return m.exceptSessionId !== sessionId
  return true
}

/**
 * Routes this replica's stream entries to its sockets. Entries are written only for users
 * this replica holds (presence-routed), so nearly every entry has a target; a user who left
 * in the meantime is skipped by `u` alone. An announcement names no user: it is for every
 * local user of the stream's partition but the muted ones its `u` lists. The payload is never decoded, and it is encoded
 * to bytes once for every socket it goes to.
 */
export class Delivery {
  constructor(
    private readonly registry: Registry,
    private readonly hooks: DeliveryHooks = {},
    private readonly now: () => number = Date.now,
  ) {}

  /** `partition`: the partition of the stream the entries were read from (an announcement's audience). */
  dispatch(entries: RawEntry[], partition = 0): DeliveryStats {
    const stats: DeliveryStats = { written: 0, matched: 0 }
    for (const [id, flat] of entries) {
      const f = readFields(flat)
      const written = this.route(f, partition)
      if (written < 0) continue
      stats.matched++
      stats.written += written
      this.hooks.onDelivered?.(f.k, written, id)
    }
    return stats
  }

  /** Frames written for one entry, or -1 when no local socket was concerned. */
  private route(f: Fields, partition: number): number {
    switch (f.k) {
      case StreamKind.MESSAGE: {
        // read after its expiry (a gateway behind): not sent; the inbox drops it too
        if (f.x && Number(f.x) <= this.now()) return -1
        let frame: Buffer | null = null
        let written = -1
        const users = usersOf(f.u)
        const devices = f.d ? deviceFilter(f.d) : null
        for (const u of users) {
          const conns = this.registry.forUser(u)
          if (!conns) continue
          frame ??= Buffer.from(f.p)
          written = Math.max(written, 0)
          // a copy: a write may close a slow socket, which removes it from the set being walked
          for (const c of [...conns]) {
            if (devices && !devices(c.info.sessionId)) continue
            if (c.deliver(frame, f.c)) written++
          }
        }
        return written
      }
      case StreamKind.ANNOUNCE: {
        // as for a message: read after its expiry, not sent
        if (f.x && Number(f.x) <= this.now()) return -1
        const users = this.registry.usersIn(partition)
        if (!users) return -1
        // muted users are few next to a partition's audience: most entries exclude nobody
        const excluded = f.u ? new Set(f.u.split(USER_LIST_SEPARATOR)) : null
        const frame = Buffer.from(f.p)
        let written = 0
        for (const [u, conns] of users) {
          if (excluded?.has(u)) continue
          for (const c of [...conns]) if (c.deliver(frame, f.c)) written++
        }
        return written
      }
      case StreamKind.READ: {
        let frame: Buffer | null = null
        let written = -1
        for (const u of usersOf(f.u)) {
          const conns = this.registry.forUser(u)
          if (!conns) continue
          written = Math.max(written, 0)
          for (const c of [...conns]) {
            if (c.connId === f.o) continue
            frame ??= Buffer.from(f.p)
            if (c.deliver(frame, null)) written++
          }
        }
        return written
      }
      case StreamKind.CONTROL: {
        const conns = this.registry.forUser(f.u)
        if (!conns) return -1
        let closed = 0
        for (const c of [...conns]) {
          if (f.s && c.info.sessionId !== f.s) continue
          c.close(CloseCode.SESSION_ENDED, f.p || 'session ended')
          closed++
        }
        return closed
      }
      default:
        return -1
    }
  }
}
