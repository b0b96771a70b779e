import { compareCursors } from '@herald/inbox'
import { PING_SLICES } from './keep-alive'
import type { Sink } from './sink'

export interface ConnectionInfo {
  connId: string
  userId: string
  sessionId: string
  device: string
  /** SHA-256 of the session token: the socket never keeps the token itself */
  tokenHash: string
  connectedAt: number
}

export interface ConnectionLimits {
  /** bytes queued for the socket before it counts as too slow */
  slowConsumerBytes: number
  /** live frames held while replaying */
  replayBufferMax: number
}

/** Why the gateway closed a socket itself (for metrics). */
export type SlowReason = 'slow_consumer' | 'replay_overflow'

interface Held {
  data: Buffer
  /** for message frames: their cursor, to drop what the inbox already covers */
  cursor: string | null
}

/** a socket closed for slowness gets this long to take its close frame before it is cut */
const SLOW_TERMINATE_MS = 5000

/** Round-robin over the ping slices: each new connection is pinged in the next one. */
let nextPingSlot = 0

/**
 * One client connection, over whichever transport its sink is. Until it goes live (while it registers, then replays), live frames
 * are held, not sent. Registration returns the cursor C the connection starts from: every
 * message at or below C is in the inbox (and replayed when the client asked), every message
 * above it reaches this replica's stream. So live message frames at or below C are dropped,
 * held or not: the replay and the live stream join with no gap and no duplicate.
 */
export class Connection {
  state: 'holding' | 'live' | 'closed' = 'holding'
  missedPongs = 0
  /** which of KeepAlive's PING_SLICES pings this socket */
  readonly pingSlot = nextPingSlot++ % PING_SLICES
  badFrames = 0
  /** the cursor registration returned; message frames at or below it are not sent live */
  private liveFrom: string | null = null
  private held: Held[] = []
  private closeListeners: ((code: number) => void)[] = []

  constructor(
    readonly sink: Sink,
    readonly info: ConnectionInfo,
    private readonly limits: ConnectionLimits,
    private readonly onSlow: (conn: Connection, reason: SlowReason) => void,
  ) {}

  get connId(): string {
    return this.info.connId
  }
  get userId(): string {
    return this.info.userId
  }

  /**
   * A live frame for this socket, with its cursor when it is a message. `frame` is encoded
   * once for every socket it goes to. Returns true when it was written (not held, not dropped).
   */
  deliver(frame: Buffer, cursor: string | null): boolean {
    if (this.state === 'closed') return false
    if (this.state === 'holding') {
      if (this.held.length >= this.limits.replayBufferMax) {
        this.onSlow(this, 'replay_overflow')
        return false
      }
      this.held.push({ data: frame, cursor })
      return false
    }
    if (this.covered(cursor)) return false
    return this.write(frame, cursor)
  }

  /** A message the inbox covers for this connection (at or below its start cursor). */
  private covered(cursor: string | null): boolean {
    return cursor !== null && this.liveFrom !== null && compareCursors(cursor, this.liveFrom) <= 0
  }

  /** The cursor registration returned (see the class comment). */
  startsAt(cursor: string): void {
    this.liveFrom = cursor
  }

  /**
   * Writes a frame (with its resume cursor, if it has one) unless the client already has too
   * much queued: then it is closed 1013.
   */
  write(frame: Buffer | string, cursor: string | null = null): boolean {
    if (this.state === 'closed' || !this.sink.open) return false
    if (this.sink.bufferedAmount > this.limits.slowConsumerBytes) {
      this.onSlow(this, 'slow_consumer')
      return false
    }
    this.sink.send(frame, cursor)
    return true
  }

  /** Goes live: writes the held frames the inbox does not cover, in the order they came. */
  goLive(): number {
    if (this.state !== 'holding') return 0
    const held = this.held
    this.held = []
    this.state = 'live'
    let sent = 0
    for (const h of held) {
      if (this.covered(h.cursor)) continue
      if (this.write(h.data, h.cursor)) sent++
    }
    return sent
  }

  /** Closes the connection (once); it stops receiving frames at once. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.markClosed(code)
    const sink = this.sink
    if (!sink.open) return
    sink.close(code, reason)
    if (code === 1013) {
      // a client too slow to read its frames is too slow to read the close too
      const t = setTimeout(() => sink.terminate(), SLOW_TERMINATE_MS)
      t.unref()
      sink.onClose(() => clearTimeout(t))
    }
  }

  /** The connection is gone (closed by either side). */
  markClosed(code: number): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.held = []
    for (const l of this.closeListeners.splice(0)) l(code)
  }

  onClosed(listener: (code: number) => void): void {
    if (this.state === 'closed') listener(0)
    else this.closeListeners.push(listener)
  }
}
