import { compareCursors, cursorOf } from '@herald/inbox'
import type { WebSocket } from 'ws'

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
  /** for message frames: their cursor, to drop what the replay already sent */
  cursor: string | null
}

const SEND_OPTS = { binary: false } as const
/** a socket closed for slowness gets this long to take its close frame before it is cut */
const SLOW_TERMINATE_MS = 5000

/**
 * One client socket. While `replaying`, live frames are held (not sent) so that the
 * replay from the inbox and the live stream join with no gap and no duplicate.
 */
export class Connection {
  state: 'replaying' | 'live' | 'closed' = 'live'
  missedPongs = 0
  badFrames = 0
  private held: Held[] = []
  private closeListeners: ((code: number) => void)[] = []

  constructor(
    readonly socket: WebSocket,
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
   * A live frame for this socket. `frame` is encoded once for every socket it goes to.
   * Returns true when it was written (not held, not dropped).
   */
  deliver(frame: Buffer, message: boolean): boolean {
    if (this.state === 'closed') return false
    if (this.state === 'replaying') {
      if (this.held.length >= this.limits.replayBufferMax) {
        this.onSlow(this, 'replay_overflow')
        return false
      }
      this.held.push({ data: frame, cursor: message ? cursorOf(frame.toString()) : null })
      return false
    }
    return this.write(frame)
  }

  /** Writes a frame unless the socket already has too much queued: then it is closed 1013. */
  write(frame: Buffer | string): boolean {
    if (this.state === 'closed' || this.socket.readyState !== this.socket.OPEN) return false
    if (this.socket.bufferedAmount > this.limits.slowConsumerBytes) {
      this.onSlow(this, 'slow_consumer')
      return false
    }
    this.socket.send(frame, SEND_OPTS)
    return true
  }

  startReplay(): void {
    if (this.state === 'live') this.state = 'replaying'
  }

  /**
   * Ends the replay: writes the held live frames the replay did not already cover
   * (message cursors above `lastReplayed`; every other frame), then goes live.
   */
  finishReplay(lastReplayed: string | null): number {
    if (this.state !== 'replaying') return 0
    const held = this.held
    this.held = []
    this.state = 'live'
    let sent = 0
    for (const h of held) {
      if (h.cursor !== null && lastReplayed !== null && compareCursors(h.cursor, lastReplayed) <= 0) continue
      if (this.write(h.data)) sent++
    }
    return sent
  }

  /** Closes the socket (once); the connection stops receiving frames at once. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.markClosed(code)
    const ws = this.socket
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      ws.resume()
      ws.close(code, reason)
      if (code === 1013) {
        const t = setTimeout(() => ws.terminate(), SLOW_TERMINATE_MS)
        t.unref()
        ws.once('close', () => clearTimeout(t))
      }
    }
  }

  /** The socket is gone (closed by either side). */
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
