import { CloseCode } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import type { Keys } from '@herald/keys'
import type { PresenceWriter } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import type { SessionStore } from '@herald/sessions'
import type { AckBatcher } from './ack-batcher'
import { Admission, type UpgradeRequest } from './admission'
import type { Authenticator } from './auth'
import { ClientFrames } from './client-frames'
import type { GatewayConfig } from './config'
import { Delivery } from './delivery'
import { KeepAlive, PING_SLICES } from './keep-alive'
import type { GatewayMetrics } from './metrics'
import { Registry } from './registry'
import type { Sink } from './sink'
import { StreamConsumer } from './stream-consumer'

export type { UpgradeRequest } from './admission'

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
  redis: RedisClient
  /** a new dedicated client for one blocking stream reader (the gateway owns and closes it) */
  readerClient: () => RedisClient
  inbox: Inbox
  /** the replica's ack batcher, shared with `POST /sse/frames`; flushed when the gateway stops */
  acks: AckBatcher
  sessions: SessionStore
  presence: PresenceWriter
  authenticator: Authenticator
  metrics: GatewayMetrics
  log: Log
}

const errMsg = (err: unknown) => ({ err: { message: (err as Error)?.message, type: (err as Error)?.name } })

/**
 * One gateway replica: its sockets (admission), its streams (one reader per partition,
 * each reading only the entries for the users this replica holds), keep-alive, and drain.
 */
export class Gateway {
  readonly registry: Registry
  private readonly admission: Admission
  private readonly consumers: StreamConsumer[]
  private readonly keepAlive: KeepAlive
  private readonly timers: NodeJS.Timeout[] = []
  private draining: Promise<void> | null = null
  private stopped = false

  constructor(private readonly deps: GatewayDeps) {
    const { config, metrics, log } = deps
    this.registry = new Registry(deps.keys.partitionOf)
    const delivery = new Delivery(this.registry, {
      onDelivered(kind, written, id) {
        metrics.delivered.inc({ kind }, written)
        const ms = Number(id.slice(0, id.indexOf('-')))
        if (ms > 0) metrics.streamLag.observe(Math.max(0, Date.now() - ms))
      },
    })
    this.consumers = deps.keys.allPartitions().map(
      (p) =>
        new StreamConsumer({
          client: deps.readerClient(),
          key: deps.keys.gatewayStream(p, deps.replica),
          blockMs: config.STREAM_BLOCK_MS,
          count: config.STREAM_BATCH,
          onEntries: (entries) => {
            metrics.streamEntries.inc(entries.length)
            delivery.dispatch(entries, p)
          },
          onError: (err, attempt) => {
            metrics.streamErrors.inc()
            log.warn({ ...errMsg(err), attempt, partition: p }, 'gateway stream read failed; retrying')
          },
        }),
    )
    const frames = new ClientFrames(
      { inbox: deps.inbox, acks: deps.acks },
      { ratePerSecond: config.FRAME_RATE_PER_SECOND, burst: config.FRAME_BURST, maxBadFrames: config.MAX_BAD_FRAMES },
      metrics,
      log,
    )
    this.admission = new Admission({
      config,
      replica: deps.replica,
      registry: this.registry,
      presence: deps.presence,
      inbox: deps.inbox,
      authenticator: deps.authenticator,
      frames,
      metrics,
      log,
      accepting: () => this.accepting,
    })
    this.keepAlive = new KeepAlive(
      this.registry,
      deps.presence,
      deps.sessions,
      deps.keys,
      log,
      deps.config.PINGS_PER_TURN,
    )
  }

  /** False once draining: `/readyz` answers 503 and new sockets are closed 1012. */
  get accepting(): boolean {
    return this.draining === null
  }

  async start(): Promise<void> {
    const { config, presence } = this.deps
    // a replica restarted under the same name leaves nothing behind from its last life
    await presence.leave()
    // readers positioned before the replica is known: nothing routed here can be missed
    await Promise.all(this.consumers.map((c) => c.start()))
    await presence.heartbeat()
    this.every(config.HEARTBEAT_INTERVAL_MS, () => this.keepAlive.heartbeat())
    this.every(Math.max(1, Math.floor(config.PING_INTERVAL_MS / PING_SLICES)), () => this.keepAlive.pingSlice())
    this.every(config.SESSION_TOUCH_INTERVAL_MS, () => this.keepAlive.touchSessions())
  }

  /** A client right after the upgrade (WebSocket) or the request (SSE). */
  accept(sink: Sink, req: UpgradeRequest): void {
    this.admission.accept(sink, req)
  }

  /** Closes every client 1012, waits a little for them to go, and leaves presence. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= this.doDrain()
    return this.draining
  }

  /** Stops the timers and the stream readers (after drain), and records the acks still waiting. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.drain()
    for (const t of this.timers.splice(0)) clearInterval(t)
    await this.deps.acks.flush()
    await Promise.all(this.consumers.map((c) => c.stop()))
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
    const sinks = [...this.admission.sinks]
    log.info({ sockets: sinks.length }, 'draining: closing every socket and stream 1012')
    const closed = sinks.map((s) => new Promise<void>((resolve) => s.onClose(() => resolve())))
    for (const c of [...this.registry.all()]) c.close(CloseCode.SERVICE_RESTART, 'restarting')
    for (const s of sinks) if (s.open) s.close(CloseCode.SERVICE_RESTART, 'restarting')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((r) => {
        timer = setTimeout(r, config.DRAIN_TIMEOUT_MS)
      }),
    ])
    clearTimeout(timer)
    for (const s of this.admission.sinks) s.terminate()
    try {
      await presence.leave()
    } catch (err) {
      log.warn(errMsg(err), 'could not leave presence; the other replicas will reap it')
    }
  }
}
