import { CloseCode } from '@herald/contracts'
import type { RawData } from 'ws'
import type { Connection } from './connection'
import { applyClientFrame, clientFrame, errorFrame, FrameError, type FrameTarget } from './frames'
import type { GatewayMetrics, RejectReason } from './metrics'
import { TokenBucket } from './rate-limit'

export interface ClientFrameLimits {
  ratePerSecond: number
  burst: number
  /** invalid frames a socket may send before it is closed 1008 */
  maxBadFrames: number
}

export interface FrameLog {
  warn(obj: object, msg?: string): void
}

/** A socket's frames past its rate are dropped; its client is told so at most this often. */
export const RATE_LIMITED_NOTICE_MS = 1000

/** A socket's token bucket, and when its client was last told it is over the rate. */
interface Limit {
  bucket: TokenBucket
  toldAt: number
}

const errMsg = (err: unknown) => ({ err: { message: (err as Error)?.message, type: (err as Error)?.name } })

/** What a client may send: `ack` (delivery receipts), `read` and `state`, rate-limited and validated. */
export class ClientFrames {
  constructor(
    private readonly target: FrameTarget,
    private readonly limits: ClientFrameLimits,
    private readonly metrics: GatewayMetrics,
    private readonly log: FrameLog,
  ) {}

  /** Starts reading a connection's frames (each socket gets its own token bucket). */
  attach(conn: Connection): void {
    const limit: Limit = { bucket: new TokenBucket(this.limits.ratePerSecond, this.limits.burst), toldAt: -Infinity }
    conn.sink.onFrame((data, isBinary) => this.onFrame(conn, limit, data, isBinary))
  }

  private onFrame(conn: Connection, limit: Limit, data: RawData, isBinary: boolean): void {
    if (conn.state === 'closed') return
    if (!limit.bucket.take()) {
      this.metrics.framesRejected.inc({ reason: 'rate_limited' })
      // told once a second at most: a flood is not answered frame for frame
      const now = Date.now()
      if (now - limit.toldAt >= RATE_LIMITED_NOTICE_MS) {
        limit.toldAt = now
        conn.write(errorFrame(FrameError.RATE_LIMITED, 'Too many frames; they are dropped until the rate falls'))
      }
      return
    }
    if (isBinary) {
      this.bad(conn, 'binary', 'Frames must be JSON text')
      return
    }
    let value: unknown
    try {
      value = JSON.parse(data.toString())
    } catch {
      this.bad(conn, 'invalid', 'Frames must be JSON')
      return
    }
    if (!clientFrame.Check(value)) {
      this.bad(conn, 'invalid', 'Expected {"type":"ack"|"read","ids":[…]} or {"type":"state","state":…,"ids":[…]}')
      return
    }
    const done = applyClientFrame(this.target, value, {
      userId: conn.userId,
      sessionId: conn.info.sessionId,
      origin: conn.connId,
    })
    done.catch((err) => {
      this.log.warn(errMsg(err), `${value.type} frame failed`)
      conn.write(errorFrame(FrameError.INTERNAL_ERROR, `Could not record ${value.type}; retry later`))
    })
  }

  private bad(conn: Connection, reason: RejectReason, message: string): void {
    this.metrics.framesRejected.inc({ reason })
    conn.badFrames++
    if (conn.badFrames >= this.limits.maxBadFrames) {
      conn.close(CloseCode.POLICY_VIOLATION, 'too many invalid frames')
      return
    }
    conn.write(errorFrame(FrameError.INVALID_FRAME, message))
  }
}
