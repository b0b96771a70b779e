import { createHmac, randomUUID } from 'node:crypto'
import { TICKET_AUDIENCE } from '@herald/contracts'
import { Inbox, type NewMessage } from '@herald/inbox'
import { createKeys, type Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { configWithDefaults, createRedis, type ServiceApp, SessionStore, waitReady } from '@herald/service-kit'
import { captureLogs, type RedisTestMode, redisUrlFor, sleep, uniquePrefix, waitFor } from '@herald/test-utils'
import { UserStore } from '@herald/users'
import WebSocket from 'ws'
import { buildApp } from '../src/app'
import { GatewayConfig } from '../src/config'

export const SECRET = 'test-ticket-secret-0123456789-abcdefghijklmnop'
export const PARTITIONS = 4

/** A herald deployment in one test: a key prefix, clients, and the replicas started in it, on one Redis topology. */
export class Cluster {
  readonly prefix = uniquePrefix('gw')
  readonly url: string
  /** several partitions even on one Redis: every path crosses partitions as on a Cluster */
  readonly keys: Keys = createKeys(this.prefix, PARTITIONS)
  readonly redis: RedisClient
  readonly sessions: SessionStore
  readonly inbox: Inbox
  readonly replicas: Replica[] = []
  private readonly clients: WebSocket[] = []
  private n = 0

  constructor(readonly mode: RedisTestMode = 'single') {
    this.url = redisUrlFor(mode)
    this.redis = createRedis(this.url, 'command', 'test')
    this.sessions = new SessionStore(this.redis, this.keys, { idleTtlSeconds: 1800, maxAgeSeconds: 86400 })
    this.inbox = new Inbox(this.redis, this.keys, {})
  }

  async start(overrides: Partial<GatewayConfig> = {}): Promise<Replica> {
    await waitReady(this.redis, 10_000)
    const logs = captureLogs()
    const config = configWithDefaults(GatewayConfig, {
      LOG_LEVEL: 'info',
      REDIS_URL: this.url,
      KEY_PREFIX: this.prefix,
      REDIS_PARTITIONS: PARTITIONS,
      TICKET_SECRET: SECRET,
      REPLICA_ID: `r${++this.n}`,
      STREAM_BLOCK_MS: 1000,
      ...overrides,
    })
    const name = `test-${this.prefix.split(':')[2]}-r${this.n}`
    const readerClient = () => createRedis(this.url, 'blocking', name)
    const app = await buildApp(config, { redis: this.redis, readerClient, logStream: logs.stream })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const addr = app.server.address()
    const port = typeof addr === 'object' && addr ? addr.port : 0
    const replica: Replica = {
      app,
      id: config.REPLICA_ID,
      url: `ws://127.0.0.1:${port}/ws`,
      http: `http://127.0.0.1:${port}`,
      logs,
      readerName: `herald:${name}:blocking`,
      close: async () => {
        await app.close()
      },
    }
    this.replicas.push(replica)
    return replica
  }

  /** A signed-in user: a user record and a session in Redis, as auth creates them. */
  async user(device = 'laptop', userId = `u${randomUUID().slice(0, 8)}`) {
    await new UserStore(this.redis, this.keys).ensure(userId, '+15550000000', 'n', Date.now() - 1)
    const { token, record } = await this.sessions.create({ userId, nickname: 'n', phone: '+86***', device })
    return { userId, token, sessionId: record.id, device }
  }

  ticket(claims: { sub: string; sid: string }, extra: Record<string, unknown> = {}, secret = SECRET): string {
    const now = Math.floor(Date.now() / 1000)
    return signJwt({ aud: TICKET_AUDIENCE, jti: randomUUID(), iat: now, exp: now + 60, ...claims, ...extra }, secret)
  }

  /** Opens a client socket that records every frame and its close. */
  connect(url: string, opts: { headers?: Record<string, string> } = {}): Client {
    const ws = new WebSocket(url, { headers: opts.headers ?? {}, perMessageDeflate: false })
    this.clients.push(ws)
    return new Client(ws)
  }

  /** Connects with a fresh ticket and waits for `welcome`. */
  async online(r: { url: string }, u: { userId: string; sessionId: string }, since?: string): Promise<Client> {
    const t = this.ticket({ sub: u.userId, sid: u.sessionId })
    const c = this.connect(`${r.url}?ticket=${t}${since === undefined ? '' : `&since=${since}`}`)
    await c.next('welcome')
    return c
  }

  async deliver(userId: string, n: number, tag = 'm'): Promise<string[]> {
    const items = Array.from({ length: n }, (_, i) => ({
      userId,
      message: message(this.inbox.messageIdFor(`${tag}-${i}-${randomUUID()}`, userId)),
    }))
    const res = await this.inbox.deliver(items)
    return res.map((r) => r.messageId)
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.terminate()
    await Promise.all(this.replicas.map((r) => r.close().catch(() => {})))
    await this.redis.quit()
  }
}

export interface Replica {
  app: ServiceApp
  id: string
  url: string
  http: string
  logs: ReturnType<typeof captureLogs>
  /** the connection name of the replica's stream readers (one per partition) */
  readerName: string
  close(): Promise<void>
}

/**
 * Floods a client that stopped reading (16 KiB messages, 40 a batch) with one small message
 * a batch for a reading one, until the replica closes the first as a slow consumer or 80
 * batches went. Returns the reader's message ids and the batch the close came at (-1: none).
 */
export async function floodSlowConsumer(
  c: Cluster,
  r: Replica,
  slowUserId: string,
  fastUserId: string,
): Promise<{ fastIds: string[]; closedAt: number }> {
  const big = 'x'.repeat(16 * 1024)
  const fastIds: string[] = []
  for (let batch = 0; batch < 80; batch++) {
    const items = Array.from({ length: 40 }, (_, i) => ({
      userId: slowUserId,
      message: message(`big-${batch}-${i}`, { body: big }),
    }))
    items.push({ userId: fastUserId, message: message(`fast-${batch}`) })
    fastIds.push(`fast-${batch}`)
    await c.inbox.deliver(items)
    await sleep(10)
    const m = (await r.app.inject('/metrics')).body
    if (/gateway_slow_consumer_closes_total\{reason="slow_consumer"\} 1/.test(m)) return { fastIds, closedAt: batch }
  }
  return { fastIds, closedAt: -1 }
}

export function message(id: string, extra: Partial<NewMessage> = {}): NewMessage {
  return { id, kind: 'test', title: 't', body: 'b', data: {}, createdAt: new Date().toISOString(), ...extra }
}

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever the server sent
export type Frame = { type: string; [k: string]: any }

export class Client {
  readonly frames: Frame[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly opened: Promise<boolean>
  private cursor = 0

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.frames.push(JSON.parse(d.toString()) as Frame))
    ws.on('error', () => {})
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    this.opened = new Promise((resolve) => {
      ws.once('open', () => resolve(true))
      ws.once('unexpected-response', () => resolve(false))
      ws.once('close', () => resolve(false))
    })
  }

  /** Frames of a type, in order. */
  of(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type)
  }

  /** The next unseen frame of a type. */
  async next(type: string, timeoutMs = 5000): Promise<Frame> {
    return waitFor(
      () => {
        for (let i = this.cursor; i < this.frames.length; i++) {
          if (this.frames[i]?.type === type) {
            this.cursor = i + 1
            return this.frames[i]
          }
        }
        return undefined
      },
      timeoutMs,
      5,
    ) as Promise<Frame>
  }

  messages(): string[] {
    return this.of('message').map((f) => f.id as string)
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close()
    return this.closed
  }
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url')

/** A JWT signed by hand, so tests can forge one (wrong secret, wrong algorithm…). */
export function signJwt(claims: Record<string, unknown>, secret: string, alg = 'HS256'): string {
  const head = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`
  if (alg === 'none') return `${head}.`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}
