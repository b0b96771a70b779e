import { randomUUID } from 'node:crypto'
import { CloseCode } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import type { PresenceWriter } from '@herald/presence'
import type { Authenticator, AuthResult } from './auth'
import type { ClientFrames } from './client-frames'
import type { GatewayConfig } from './config'
import { Connection, type ConnectionInfo, type ConnectionLimits, type SlowReason } from './connection'
import { isCursor, welcomeFrame } from './frames'
import type { GatewayMetrics } from './metrics'
import type { Registry } from './registry'
import { replay } from './replay'
import type { Sink } from './sink'

/** What the upgrade (or event-stream) request carried. */
export interface UpgradeRequest {
  ticket?: string
  authorization?: string
  since?: string
}

export interface AdmissionLog {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface AdmissionDeps {
  config: GatewayConfig
  replica: string
  registry: Registry
  presence: PresenceWriter
  inbox: Inbox
  authenticator: Authenticator
  frames: ClientFrames
  metrics: GatewayMetrics
  log: AdmissionLog
  /** false once the replica drains */
  accepting(): boolean
}

const errMsg = (err: unknown) => ({ err: { message: (err as Error)?.message, type: (err as Error)?.name } })

/**
 * A client — WebSocket or event stream, through its sink — from its request to live: admitted (capacity, drain) or closed at once,
 * authenticated, held locally, registered in presence — which returns the cursor it starts
 * from — then replayed from the inbox up to that cursor when the client resumes, and live.
 * A socket is never registered before it is authenticated.
 */
export class Admission {
  /** every client past the upgrade, authenticated or not, on either transport (capacity and drain count them) */
  readonly sinks = new Set<Sink>()
  /** what every connection of this replica shares: its limits and its slowness handler (one each, not one per socket) */
  private readonly limits: ConnectionLimits
  private readonly onSlow = (conn: Connection, reason: SlowReason): void => {
    this.deps.metrics.slowCloses.inc({ reason })
    this.deps.log.info({ connId: conn.connId, reason }, 'closing a socket that does not keep up')
    conn.close(CloseCode.TRY_AGAIN_LATER, reason === 'slow_consumer' ? 'slow consumer' : 'too far behind')
  }

  constructor(private readonly deps: AdmissionDeps) {
    this.limits = {
      slowConsumerBytes: deps.config.SLOW_CONSUMER_BYTES,
      replayBufferMax: deps.config.REPLAY_BUFFER_MAX,
    }
  }

  accept(sink: Sink, req: UpgradeRequest): void {
    const { config } = this.deps
    if (!this.deps.accepting()) {
      this.refuse(sink, CloseCode.SERVICE_RESTART, 'restarting')
      return
    }
    if (this.sinks.size >= config.MAX_SOCKETS) {
      this.refuse(sink, CloseCode.TRY_AGAIN_LATER, `retry-after=${config.ADMISSION_RETRY_AFTER_SECONDS}`)
      return
    }
    this.sinks.add(sink)
    sink.onClose(() => this.sinks.delete(sink))
    // frames wait in the kernel until the client is authenticated and registered
    sink.pause()
    this.open(sink, req).catch((err) => {
      // Redis unreachable, most likely: the client should come back a little later
      this.deps.log.error(errMsg(err), 'socket set-up failed')
      if (!sink.open) return
      this.refuse(sink, CloseCode.TRY_AGAIN_LATER, `retry-after=${config.ADMISSION_RETRY_AFTER_SECONDS}`)
    })
  }

  private refuse(sink: Sink, code: number, reason: string): void {
    this.deps.metrics.refused.inc({ code: String(code) })
    sink.close(code, reason)
  }

  private authenticate(req: UpgradeRequest): Promise<AuthResult> {
    const { authenticator } = this.deps
    if (req.ticket) return authenticator.fromTicket(req.ticket)
    if (req.authorization) return authenticator.fromAuthorization(req.authorization)
    return Promise.resolve({ ok: false, reason: 'missing ticket' })
  }

  private async open(sink: Sink, req: UpgradeRequest): Promise<void> {
    const { config, presence, registry, metrics, replica } = this.deps
    const auth = await this.authenticate(req)
    if (!sink.open) return
    if (!auth.ok) return this.refuse(sink, CloseCode.UNAUTHORIZED, auth.reason)
    if (!this.deps.accepting()) return this.refuse(sink, CloseCode.SERVICE_RESTART, 'restarting')

    const { identity } = auth
    // every field named, in one order: a literal's objects share one hidden class, where a spread
    // of the identity gave each socket's info two of its own (245 B per socket in heap snapshots)
    const info: ConnectionInfo = {
      connId: randomUUID(),
      userId: identity.userId,
      sessionId: identity.sessionId,
      device: identity.device,
      tokenHash: identity.tokenHash,
      connectedAt: Date.now(),
    }
    const conn = new Connection(sink, info, this.limits, this.onSlow)
    this.deps.frames.attach(conn)
    sink.onPong(() => {
      conn.missedPongs = 0
    })
    sink.onClose((code) => conn.markClosed(code))

    // held locally BEFORE presence routes the user's entries here: an entry read from the
    // stream after registration always finds the connection (holding it until live)
    registry.add(conn)
    metrics.openSockets.set(registry.size)
    const registered = presence.connect(
      conn.connId,
      conn.userId,
      {
        device: identity.device,
        sessionId: identity.sessionId,
        connectedAt: new Date(conn.info.connectedAt).toISOString(),
      },
      { maxPerUser: config.MAX_CONNECTIONS_PER_USER },
    )
    conn.onClosed(() => this.release(conn, registered))
    const reg = await registered
    if (!reg.ok) return conn.close(CloseCode.POLICY_VIOLATION, 'too many connections')
    if (conn.state === 'closed') return
    conn.startsAt(reg.cursor)

    const since = req.since
    sink.resume()
    if (since !== undefined && isCursor(since)) {
      await replay(this.deps.inbox, { conn, replica, since, upTo: reg.cursor, pageSize: config.REPLAY_PAGE_SIZE })
    } else {
      // an unreadable cursor cannot be resumed from: the client is told to reload its inbox
      const welcome = {
        connId: conn.connId,
        userId: conn.userId,
        sessionId: conn.info.sessionId,
        replica,
        resumed: false,
        gap: since !== undefined,
      }
      conn.write(welcomeFrame({ ...welcome, cursor: reg.cursor }), reg.cursor)
    }
    conn.goLive()
  }

  private release(conn: Connection, registered: ReturnType<PresenceWriter['connect']>): void {
    const { registry, metrics, presence, log } = this.deps
    if (registry.remove(conn)) metrics.openSockets.set(registry.size)
    registered
      .then((r) => (r.ok ? presence.disconnect(conn.connId, conn.userId) : undefined))
      .catch((err) => log.warn(errMsg(err), 'presence disconnect failed'))
  }
}
