import { createHash, randomUUID } from 'node:crypto'
import type { SessionRecord } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { Redis } from 'ioredis'

export interface SessionStoreOptions {
  /** sliding life after the last use */
  idleTtlSeconds: number
  /** absolute cap from creation */
  maxAgeSeconds: number
}

export interface NewSession {
  userId: string
  nickname: string
  /** masked phone */
  phone: string
  device: string
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

/** SHA-256 of a session token: the only form of it Redis ever sees. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Reads `Authorization: Bearer <token>` (or a bare token); null unless it looks like a session token. */
export function tokenFromHeader(header: string | undefined): string | null {
  if (!header) return null
  const raw = header.startsWith('Bearer ') ? header.slice(7).trim() : header.trim()
  return UUID_RE.test(raw) ? raw.toLowerCase() : null
}

/*
 * Input:  KEYS[1] session hash
 *         ARGV[1] now (ms), ARGV[2] idle TTL (ms)
 * Output: the session's fields as a flat array, or nil when missing or past its absolute cap.
 * Validates and slides the expiry in one step, so a session can never outlive its cap.
 */
export const SESSION_TOUCH_LUA = `
local exp = redis.call('HGET', KEYS[1], 'expiresAt')
if not exp then return nil end
local now = tonumber(ARGV[1])
local remaining = tonumber(exp) - now
if remaining <= 0 then
  redis.call('DEL', KEYS[1])
  return nil
end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), remaining))
return redis.call('HGETALL', KEYS[1])
`

/*
 * Input:  KEYS[1] user's session index, ARGV[1] session id
 * Output: the token hash of the removed session, or nil when the user has no such session.
 * The session hash key is derived from the index entry, so index and hash go together.
 */
const REVOKE_LUA = `
local h = redis.call('HGET', KEYS[1], ARGV[1])
if not h then return nil end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[2] .. h)
return h
`

/*
 * Input:  KEYS[1] user's session index, ARGV[1] session key prefix
 * Output: the ids of every removed session.
 */
const REVOKE_ALL_LUA = `
local all = redis.call('HGETALL', KEYS[1])
local ids = {}
for i = 1, #all, 2 do
  redis.call('DEL', ARGV[1] .. all[i + 1])
  ids[#ids + 1] = all[i]
end
redis.call('DEL', KEYS[1])
return ids
`

type SessionRedis = Redis & {
  heraldSessionTouch(key: string, now: string, idleMs: string): Promise<string[] | null>
  heraldSessionRevoke(index: string, sid: string, prefix: string): Promise<string | null>
  heraldSessionRevokeAll(index: string, prefix: string): Promise<string[]>
}

function defineCommands(redis: Redis): SessionRedis {
  const r = redis as SessionRedis
  if (typeof r.heraldSessionTouch !== 'function') {
    redis.defineCommand('heraldSessionTouch', { numberOfKeys: 1, lua: SESSION_TOUCH_LUA })
    redis.defineCommand('heraldSessionRevoke', { numberOfKeys: 1, lua: REVOKE_LUA })
    redis.defineCommand('heraldSessionRevokeAll', { numberOfKeys: 1, lua: REVOKE_ALL_LUA })
  }
  return r
}

function toRecord(flat: string[] | null): SessionRecord | null {
  if (!flat || flat.length === 0) return null
  const o: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) o[flat[i] as string] = flat[i + 1] as string
  return o as unknown as SessionRecord
}

/**
 * Sessions in Redis: a hash per session under SHA-256(token), a per-user index
 * (session id → token hash) so listing and revoking never scan keys.
 */
export class SessionStore {
  private readonly redis: SessionRedis
  private readonly idleMs: number
  private readonly maxAgeMs: number

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    opts: SessionStoreOptions,
  ) {
    this.redis = defineCommands(redis)
    this.idleMs = opts.idleTtlSeconds * 1000
    this.maxAgeMs = opts.maxAgeSeconds * 1000
  }

  get idleTtlSeconds(): number {
    return this.idleMs / 1000
  }

  /** Creates a session and returns its token: the only time the token exists outside the client. */
  async create(s: NewSession, now = Date.now()): Promise<{ token: string; record: SessionRecord }> {
    const token = randomUUID()
    const tokenHash = hashToken(token)
    const record: SessionRecord = {
      id: randomUUID().replaceAll('-', '').slice(0, 20),
      userId: s.userId,
      nickname: s.nickname,
      phone: s.phone,
      device: s.device,
      createdAt: String(now),
      lastSeenAt: String(now),
      expiresAt: String(now + this.maxAgeMs),
    }
    const key = this.keys.session(tokenHash)
    const index = this.keys.userSessions(s.userId)
    await this.redis
      .multi()
      .hset(key, record as unknown as Record<string, string>)
      .pexpire(key, Math.min(this.idleMs, this.maxAgeMs))
      .hset(index, record.id, tokenHash)
      .pexpire(index, this.maxAgeMs)
      .exec()
    return { token, record }
  }

  /** Validates a token and slides its expiry (atomic). Null when unknown, expired or past its cap. */
  async touch(token: string, now = Date.now()): Promise<SessionRecord | null> {
    return this.touchHash(hashToken(token), now)
  }

  async touchHash(tokenHash: string, now = Date.now()): Promise<SessionRecord | null> {
    const flat = await this.redis.heraldSessionTouch(this.keys.session(tokenHash), String(now), String(this.idleMs))
    return toRecord(flat)
  }

  /**
   * Slides many sessions in one pipelined round trip (gateways: once per interval for all open
   * sockets). Null for a session that is gone; throws when Redis could not answer.
   */
  async touchManyHashes(tokenHashes: string[], now = Date.now()): Promise<(SessionRecord | null)[]> {
    if (tokenHashes.length === 0) return []
    const pipe = this.redis.pipeline()
    for (const h of tokenHashes) {
      ;(pipe as unknown as { heraldSessionTouch: (...a: string[]) => void }).heraldSessionTouch(
        this.keys.session(h),
        String(now),
        String(this.idleMs),
      )
    }
    const res = (await pipe.exec()) ?? []
    // A failed command says nothing about its session: fail the batch rather than report it gone.
    const failed = res.find(([err]) => err)
    if (failed) throw failed[0]
    return res.map(([, flat]) => toRecord(flat as string[] | null))
  }

  /** The user's live sessions; index entries whose session expired are dropped on the way. */
  async list(userId: string): Promise<SessionRecord[]> {
    const index = this.keys.userSessions(userId)
    const entries = await this.redis.hgetall(index)
    const ids = Object.keys(entries)
    if (ids.length === 0) return []
    const pipe = this.redis.pipeline()
    for (const id of ids) pipe.hgetall(this.keys.session(entries[id] as string))
    const res = (await pipe.exec()) ?? []
    const live: SessionRecord[] = []
    const dead: string[] = []
    res.forEach(([err, rec], i) => {
      const r = rec as Record<string, string> | null
      if (!err && r && r.id) live.push(r as unknown as SessionRecord)
      else dead.push(ids[i] as string)
    })
    if (dead.length) await this.redis.hdel(index, ...dead)
    return live.sort((a, b) => Number(b.lastSeenAt) - Number(a.lastSeenAt))
  }

  /** Ends one of the user's sessions. False when the user has no session with that id. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const h = await this.redis.heraldSessionRevoke(this.keys.userSessions(userId), sessionId, this.keys.session(''))
    return h !== null
  }

  /** Ends every session of the user; returns their ids. */
  async revokeAll(userId: string): Promise<string[]> {
    return this.redis.heraldSessionRevokeAll(this.keys.userSessions(userId), this.keys.session(''))
  }

  /** Copies a new nickname into every live session of the user (pages read it from the session). */
  async setNickname(userId: string, nickname: string): Promise<void> {
    const entries = await this.redis.hgetall(this.keys.userSessions(userId))
    const pipe = this.redis.pipeline()
    for (const h of Object.values(entries)) {
      // HSETX-like: only touch sessions that still exist, never resurrect one without a TTL
      pipe.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'nickname', ARGV[1]) end return 1",
        1,
        this.keys.session(h),
        nickname,
      )
    }
    await pipe.exec()
  }
}
