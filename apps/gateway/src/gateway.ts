import { randomUUID } from 'node:crypto'
import { CloseCode } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import type { Keys } from '@herald/keys'
import type { PresenceWriter } from '@herald/presence'
import type { SessionStore } from '@herald/service-kit'
import type { Redis } from 'ioredis'
import type { RawData, WebSocket } from 'ws'
import type { Authenticator, AuthResult } from './auth'
import type { GatewayConfig } from './config'
import { Connection, type SlowReason } from './connection'
import { Delivery } from './delivery'
import { clientFrame, errorFrame, FrameError, isCursor, welcomeFrame } from './frames'
import type { GatewayMetrics, RejectReason } from './metrics'
import { TokenBucket } from './rate-limit'
import { Registry } from './registry'
import { StreamConsumer } from './stream-consumer'

export interface Log {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

export interface GatewayDeps {
  config: GatewayConfig
  keys: Keys
  replica: string
  redis: Redis
  blocking: Redis
  inbox: Inbox
  sessions: SessionStore
  presence: PresenceWriter
  authenticator: Authenticator
  metrics: GatewayMetrics
  log: Log
}

/** What the upgrade request carried. */
export interface UpgradeRequest {
  ticket?: string
  authorization?: string
  since?: string
}

const errMsg = (err: unknown) => ({ err: { message: (err as Error)?.message, type: (err as Error)?.name } })

/**
 * One gateway replica: admits and authenticates sockets, keeps them in the local
 * registry and in cluster presence, feeds them from the delivery stream (with replay
 * on reconnect), handles their frames, and keeps them and their sessions alive.
 */
export class Gateway {
  readonly registry = new Registry()
  private readonly sockets = new Set<WebSocket>()
  private readonly consumer: StreamConsumer
  private readonly delivery: Delivery
  private readonly timers: NodeJS.Timeout[] = []
  private draining: Promise<void> | null = null
  private stopped = false

  constructor(private readonly deps: GatewayDeps) {
    const { metrics } = deps
    this.delivery = new Delivery(this.registry, {
      onDelivered(kind, written, id) {
        metrics.delivered.inc({ kind }, written)
        const ms = Number(id.slice(0, id.indexOf('-')))
        if (ms > 0) metrics.streamLag.observe(Math.max(0, Date.now() - ms))
      },
    })
    this.consumer = new StreamConsumer({
      blocking: deps.blocking,
      control: deps.redis,
      key: deps.keys.stream(),
      blockMs: deps.config.STREAM_BLOCK_MS,
      count: deps.config.STREAM_BATCH,
      onEntries: (entries) => {
        metrics.streamEntries.inc(entries.length)
        this.delivery.dispatch(entries)
      },
      onError: (err, attempt) => {
        metrics.streamErrors.inc()
        deps.log.warn({ ...errMsg(err), attempt }, 'delivery stream read failed; retrying')
      },
    })
  }

  /** False once draining: `/readyz` answers 503 and new sockets are closed 1012. */
  get accepting(): boolean {
    return this.draining === null
  }

  async start(): Promise<void> {
    const { config, presence } = this.deps
    // a replica restarted under the same name leaves nothing behind from its last life
    await presence.leave()
    await presence.heartbeat()
    await this.consumer.start()
    this.every(config.HEARTBEAT_INTERVAL_MS, () => this.heartbeat())
    this.every(config.PING_INTERVAL_MS, () => this.ping())
    this.every(config.SESSION_TOUCH_INTERVAL_MS, () => this.touchSessions())
  }

  /** Closes every socket 1012, waits a little for them to go, and leaves presence. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= this.doDrain()
    return this.draining
  }

  /** Stops the timers and the stream loop (after drain). */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.drain()
    for (const t of this.timers.splice(0)) clearInterval(t)
    await this.consumer.stop()
  }

  /** A socket right after the upgrade: admitted or closed at once, never registered before it is authenticated. */
  accept(socket: WebSocket, req: UpgradeRequest): void {
    const { config } = this.deps
    if (!this.accepting) {
      this.refuse(socket, CloseCode.SERVICE_RESTART, 'restarting')
      return
    }
    if (this.sockets.size >= config.MAX_SOCKETS) {
      this.refuse(socket, CloseCode.TRY_AGAIN_LATER, `retry-after=${config.ADMISSION_RETRY_AFTER_SECONDS}`)
      return
    }
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    // frames wait in the kernel until the socket is authenticated and registered
    socket.pause()
    this.open(socket, req).catch((err) => {
      // Redis unreachable, most likely: the client should come back a little later
      this.deps.log.error(errMsg(err), 'socket set-up failed')
      if (socket.readyState !== socket.OPEN) return
      this.refuse(socket, CloseCode.TRY_AGAIN_LATER, `retry-after=${config.ADMISSION_RETRY_AFTER_SECONDS}`)
    })
  }

  private refuse(socket: WebSocket, code: number, reason: string): void {
    this.deps.metrics.refused.inc({ code: String(code) })
    // a paused socket would never read the client's answer to our close frame
    socket.resume()
    socket.close(code, reason)
  }

  private async authenticate(req: UpgradeRequest): Promise<AuthResult> {
    const { authenticator } = this.deps
    if (req.ticket) return authenticator.fromTicket(req.ticket)
    if (req.authorization) return authenticator.fromAuthorization(req.authorization)
    return { ok: false, reason: 'missing ticket' }
  }

  private async open(socket: WebSocket, req: UpgradeRequest): Promise<void> {
    const { config, presence, replica } = this.deps
    const auth = await this.authenticate(req)
    if (socket.readyState !== socket.OPEN) return
    if (!auth.ok) return this.refuse(socket, CloseCode.UNAUTHORIZED, auth.reason)
    if (!this.accepting) return this.refuse(socket, CloseCode.SERVICE_RESTART, 'restarting')

    const { identity } = auth
    const conn = new Connection(
      socket,
      { ...identity, connId: randomUUID(), connectedAt: Date.now() },
      { slowConsumerBytes: config.SLOW_CONSUMER_BYTES, replayBufferMax: config.REPLAY_BUFFER_MAX },
      (c, reason) => this.onSlow(c, reason),
    )
    const bucket = new TokenBucket(config.FRAME_RATE_PER_SECOND, config.FRAME_BURST)
    socket.on('message', (data, isBinary) => this.onFrame(conn, bucket, data, isBinary))
    socket.on('pong', () => {
      conn.missedPongs = 0
    })
    socket.once('close', (code) => conn.markClosed(code))

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
    // read BEFORE the connection takes live frames: every message with a later cursor is
    // either delivered live or replayed when the client resumes from this one
    const latest = this.deps.redis.get(this.deps.keys.cursor()).catch(() => undefined)
    if (!(await registered)) return conn.close(CloseCode.POLICY_VIOLATION, 'too many connections')
    const cursor = await latest
    if (conn.state === 'closed') return

    this.registry.add(conn)
    this.deps.metrics.openSockets.set(this.registry.size)
    const since = req.since
    if (since === undefined || !isCursor(since)) {
      // an unreadable cursor cannot be resumed from: the client is told to reload its inbox
      const gap = since !== undefined
      const welcome = { connId: conn.connId, userId: conn.userId, replica, resumed: false, gap }
      // undefined: the read failed, and a client had better reload its inbox than resume from a guess
      conn.write(welcomeFrame(cursor === undefined ? welcome : { ...welcome, cursor: cursor ?? '0' }))
      socket.resume()
      return
    }
    conn.startReplay()
    socket.resume()
    await this.replay(conn, since)
  }

  /**
   * Sends what the client missed since `since`, then the live frames held meanwhile
   * that the replay did not cover. The connection was registered (holding live frames)
   * before the first inbox read, so every message is either in the replay or held.
   */
  private async replay(conn: Connection, since: string): Promise<void> {
    const { inbox, config, replica } = this.deps
    let cursor = since
    let first = true
    let page: Awaited<ReturnType<Inbox['since']>>
    do {
      page = await inbox.since(conn.userId, cursor, config.REPLAY_PAGE_SIZE)
      if (conn.state === 'closed') return
      if (first) {
        conn.write(welcomeFrame({ connId: conn.connId, userId: conn.userId, replica, resumed: true, gap: page.gap }))
        first = false
      }
      for (const frame of page.frames) conn.write(frame)
      if (page.lastCursor !== null) cursor = page.lastCursor
    } while (page.more && page.lastCursor !== null)
    conn.finishReplay(cursor)
  }

  private release(conn: Connection, registered: Promise<boolean>): void {
    if (this.registry.remove(conn)) this.deps.metrics.openSockets.set(this.registry.size)
    registered
      .then((ok) => (ok ? this.deps.presence.disconnect(conn.connId, conn.userId) : undefined))
      .catch((err) => this.deps.log.warn(errMsg(err), 'presence disconnect failed'))
  }

  private onSlow(conn: Connection, reason: SlowReason): void {
    this.deps.metrics.slowCloses.inc({ reason })
    this.deps.log.info({ connId: conn.connId, reason }, 'closing a socket that does not keep up')
    conn.close(CloseCode.TRY_AGAIN_LATER, reason === 'slow_consumer' ? 'slow consumer' : 'too far behind')
  }

  private onFrame(conn: Connection, bucket: TokenBucket, data: RawData, isBinary: boolean): void {
    if (conn.state === 'closed') return
    const { metrics } = this.deps
    if (!bucket.take()) {
      metrics.framesRejected.inc({ reason: 'rate_limited' })
      conn.write(errorFrame(FrameError.RATE_LIMITED, 'Too many frames; this one was dropped'))
      return
    }
    if (isBinary) {
      this.badFrame(conn, 'binary', 'Frames must be JSON text')
      return
    }
    let value: unknown
    try {
      value = JSON.parse(data.toString())
    } catch {
      this.badFrame(conn, 'invalid', 'Frames must be JSON')
      return
    }
    if (!clientFrame.Check(value)) {
      this.badFrame(conn, 'invalid', 'Expected {"type":"ack"|"read","ids":[…]}')
      return
    }
    const { inbox } = this.deps
    const done =
      value.type === 'ack'
        ? // the session is the device: tabs of one browser count once
          inbox.recordAcks(conn.userId, conn.info.sessionId, value.ids)
        : inbox.markRead(conn.userId, value.ids, { origin: conn.connId })
    done.catch((err) => {
      this.deps.log.warn(errMsg(err), `${value.type} frame failed`)
      conn.write(errorFrame(FrameError.INTERNAL_ERROR, `Could not record ${value.type}; retry later`))
    })
  }

  private badFrame(conn: Connection, reason: RejectReason, message: string): void {
    this.deps.metrics.framesRejected.inc({ reason })
    conn.badFrames++
    if (conn.badFrames >= this.deps.config.MAX_BAD_FRAMES) {
      conn.close(CloseCode.POLICY_VIOLATION, 'too many invalid frames')
      return
    }
    conn.write(errorFrame(FrameError.INVALID_FRAME, message))
  }

  private async heartbeat(): Promise<void> {
    const { presence, log } = this.deps
    const { rejoined, reaped } = await presence.heartbeat()
    if (reaped.length) log.info({ reaped }, 'reaped dead replicas from presence')
    if (!rejoined) return
    // this replica stalled past its deadline and was reaped: put its sockets back
    log.warn({}, 'replica was reaped while alive; registering its sockets again')
    await Promise.all(
      [...this.registry.all()].map((c) =>
        presence.connect(c.connId, c.userId, {
          device: c.info.device,
          sessionId: c.info.sessionId,
          connectedAt: new Date(c.info.connectedAt).toISOString(),
        }),
      ),
    )
  }

  private ping(): void {
    for (const conn of this.registry.all()) {
      if (conn.missedPongs >= 2) {
        conn.markClosed(1006)
        conn.socket.terminate()
        continue
      }
      conn.missedPongs++
      conn.socket.ping()
    }
  }

  /** Keeps the sessions of open sockets alive: one pipelined round trip for all of them. */
  private async touchSessions(): Promise<void> {
    const byHash = new Map<string, Connection[]>()
    for (const c of this.registry.all()) {
      const list = byHash.get(c.info.tokenHash)
      if (list) list.push(c)
      else byHash.set(c.info.tokenHash, [c])
    }
    if (byHash.size === 0) return
    const hashes = [...byHash.keys()]
    const records = await this.deps.sessions.touchManyHashes(hashes)
    records.forEach((rec, i) => {
      if (rec) return
      for (const c of byHash.get(hashes[i] as string) ?? []) c.close(CloseCode.SESSION_ENDED, 'session ended')
    })
  }

  private every(ms: number, fn: () => void | Promise<void>): void {
    let busy = false
    const t = setInterval(async () => {
      if (busy) return
      busy = true
      try {
        await fn()
      } catch (err) {
        this.deps.log.warn(errMsg(err), 'periodic task failed')
      } finally {
        busy = false
      }
    }, ms)
    t.unref()
    this.timers.push(t)
  }

  private async doDrain(): Promise<void> {
    const { config, presence, log } = this.deps
    const sockets = [...this.sockets]
    log.info({ sockets: sockets.length }, 'draining: closing every socket 1012')
    const closed = sockets.map(
      (s) => new Promise<void>((resolve) => (s.readyState === s.CLOSED ? resolve() : s.once('close', () => resolve()))),
    )
    for (const c of [...this.registry.all()]) c.close(CloseCode.SERVICE_RESTART, 'restarting')
    for (const s of sockets) if (s.readyState === s.OPEN) s.close(CloseCode.SERVICE_RESTART, 'restarting')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((r) => {
        timer = setTimeout(r, config.DRAIN_TIMEOUT_MS)
      }),
    ])
    clearTimeout(timer)
    for (const s of this.sockets) s.terminate()
    try {
      await presence.leave()
    } catch (err) {
      log.warn(errMsg(err), 'could not leave presence; the other replicas will reap it')
    }
  }
}
