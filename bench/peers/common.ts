import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { sessionTouchScript } from '@herald/sessions'
import type { Redis } from 'ioredis'

/**
 * What every peer shares with herald so that none wins by doing less: the same session
 * check (SHA-256 of the bearer token → hash in Redis, validated and slid in one Lua step,
 * the same script as herald's session store), the same HS256 service token on the send
 * route, and the same message envelope.
 */
export const env = {
  port: Number(process.env.PORT ?? 0),
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  replica: process.env.REPLICA_ID ?? 'peer-1',
  pingMs: Number(process.env.PING_INTERVAL_MS ?? 25_000),
  touchMs: Number(process.env.SESSION_TOUCH_INTERVAL_MS ?? 60_000),
  slowBytes: Number(process.env.SLOW_CONSUMER_BYTES ?? 1024 * 1024),
  idleMs: Number(process.env.SESSION_IDLE_MS ?? 30 * 60_000),
  serviceSecret: process.env.SERVICE_JWT_SECRET ?? 'bench-service-secret',
}

export const SESSION_PREFIX = 'sess:'

/** herald's own validate-and-slide script, so the peers pay exactly what herald pays per session check. */
const TOUCH_LUA = sessionTouchScript.lua

export interface Session {
  userId: string
  id: string
  device: string
  hash: string
}

type TouchRedis = Redis & { benchTouch(key: string, now: string, idle: string): Promise<string[] | null> }

export function sessionChecker(redis: Redis) {
  redis.defineCommand('benchTouch', { numberOfKeys: 1, lua: TOUCH_LUA })
  const r = redis as TouchRedis
  return {
    async check(authorization: string | undefined): Promise<Session | null> {
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : authorization?.trim()
      if (!token || token.length > 64) return null
      const hash = createHash('sha256').update(token).digest('hex')
      const flat = await r.benchTouch(SESSION_PREFIX + hash, String(Date.now()), String(env.idleMs))
      if (!flat) return null
      const f: Record<string, string> = {}
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string
      if (!f.userId || !f.id) return null
      return { userId: f.userId, id: f.id, device: f.device ?? '', hash }
    },
    /** Slides every open socket's session in one pipelined round trip, as herald's gateways do. */
    async touchAll(hashes: Iterable<string>): Promise<void> {
      const pipe = r.pipeline() as unknown as { benchTouch(...a: string[]): void; exec(): Promise<unknown> }
      let n = 0
      const now = String(Date.now())
      for (const h of hashes) {
        pipe.benchTouch(SESSION_PREFIX + h, now, String(env.idleMs))
        n++
      }
      if (n > 0) await pipe.exec()
    },
  }
}

/** Verifies an HS256 JWT (signature and expiry), as herald's notifier does for service tokens. */
export function verifyServiceToken(authorization: string | undefined, secret = env.serviceSecret): boolean {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : ''
  const parts = token.split('.')
  if (parts.length !== 3) return false
  const sig = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest()
  const given = Buffer.from(parts[2] as string, 'base64url')
  if (given.length !== sig.length || !timingSafeEqual(given, sig)) return false
  try {
    const claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString()) as { exp?: number }
    return typeof claims.exp !== 'number' || claims.exp * 1000 > Date.now()
  } catch {
    return false
  }
}

export function signServiceToken(secret = env.serviceSecret): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub: 'bench', exp: Math.floor(Date.now() / 1000) + 86_400 })}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

export interface SendBody {
  to: { userIds: string[] } | { all: true }
  title: string
  body: string
  data?: unknown
  kind?: string
}

const MAX_BODY = 64 * 1024

export function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new Error('too large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()))
      } catch (err) {
        reject(err)
      }
    })
    req.on('error', reject)
  })
}

export function isSendBody(b: unknown): b is SendBody {
  if (typeof b !== 'object' || b === null) return false
  const o = b as Record<string, unknown>
  const to = o.to as Record<string, unknown> | undefined
  if (typeof o.title !== 'string' || typeof o.body !== 'string' || !to) return false
  return to.all === true || (Array.isArray(to.userIds) && to.userIds.every((u) => typeof u === 'string'))
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** What /stats answers: the harness reads heap per socket from it (RSS comes from /proc). */
export function stats(sockets: number) {
  const m = process.memoryUsage()
  return { replica: env.replica, sockets, heapUsed: m.heapUsed, rss: m.rss }
}
