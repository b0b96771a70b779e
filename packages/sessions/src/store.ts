import { createHash, randomUUID } from 'node:crypto'
import type { SessionRecord } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import { defineScripts, fromFlat, type RedisClient } from '@herald/redis'
import { sessionRename } from './commands/session-rename-1'
import { sessionRevoke } from './commands/session-revoke-n'
import { sessionTouch, sessionTouchById } from './commands/session-touch-1'

const SCRIPTS = [sessionTouch, sessionTouchById, sessionRevoke, sessionRename] as const
const withScripts = (redis: RedisClient) => defineScripts(redis, SCRIPTS)

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

function toRecord(flat: string[] | null): SessionRecord | null {
  if (!flat || flat.length === 0) return null
  return fromFlat(flat) as unknown as SessionRecord
}

/**
 * Sessions in Redis: a hash per session under SHA-256(token) and a per-user index
 * (session id → token hash), so listing and revoking never scan keys. Both live in the
 * user's partition: a new token is drawn until its hash falls in that partition (a
 * random UUID still; about `partitions` draws), so creating, listing and revoking are
 * single-slot steps on Redis Cluster too.
 */
export class SessionStore {
  private readonly redis: ReturnType<typeof withScripts>
  private readonly idleMs: number
  private readonly maxAgeMs: number

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    opts: SessionStoreOptions,
  ) {
    this.redis = withScripts(redis)
    this.idleMs = opts.idleTtlSeconds * 1000
    this.maxAgeMs = opts.maxAgeSeconds * 1000
  }

  get idleTtlSeconds(): number {
    return this.idleMs / 1000
  }

  /** A random token whose hash lives in the user's partition. */
  private drawToken(userId: string): { token: string; tokenHash: string } {
    const want = this.keys.partitionOf(userId)
    // bounded: each draw lands in the partition with probability 1/partitions (≤ 1/256)
    for (let i = 0; i < 100_000; i++) {
      const token = randomUUID()
      const tokenHash = hashToken(token)
      if (this.keys.partitionOf(tokenHash) === want) return { token, tokenHash }
    }
    throw new Error('could not draw a session token for the partition')
  }

  /** Creates a session and returns its token: the only time the token exists outside the client. */
  async create(s: NewSession, now = Date.now()): Promise<{ token: string; record: SessionRecord }> {
    const { token, tokenHash } = this.drawToken(s.userId)
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
    const flat = (await this.redis.heraldSessionTouch(this.keys.session(tokenHash), now, this.idleMs)) as
      | string[]
      | null
    return toRecord(flat)
  }

  /**
   * Slides many sessions at once (gateways: once per interval for all open sockets): sent
   * together, one round trip per node. Null for a session that is gone; throws when Redis
   * could not answer, so a failure is never taken for a session that ended.
   */
  async touchManyHashes(tokenHashes: string[], now = Date.now()): Promise<(SessionRecord | null)[]> {
    return Promise.all(tokenHashes.map((h) => this.touchHash(h, now)))
  }

  /**
   * Validates one of the user's sessions, named by its id, and slides its expiry: the index
   * lookup and the touch in one step (the gateway's check of a ticket's session). Null when the
   * user has no such session, or it expired.
   */
  async touchById(
    userId: string,
    sessionId: string,
    now = Date.now(),
  ): Promise<{ tokenHash: string; record: SessionRecord } | null> {
    const [before, after] = this.keys.aroundUser(this.keys.partitionOf(userId), this.keys.session)
    const out = (await this.redis.heraldSessionTouchById(
      this.keys.userSessions(userId),
      sessionId,
      now,
      this.idleMs,
      before,
      after,
    )) as string[] | null
    if (!out || out.length < 2) return null
    const [tokenHash, ...flat] = out
    const record = toRecord(flat)
    return record ? { tokenHash: tokenHash as string, record } : null
  }

  /** The token hash of one of the user's sessions, or null. */
  async tokenHashOf(userId: string, sessionId: string): Promise<string | null> {
    return this.redis.hget(this.keys.userSessions(userId), sessionId)
  }

  /** The user's live sessions; index entries whose session expired are dropped on the way. */
  async list(userId: string): Promise<SessionRecord[]> {
    const index = this.keys.userSessions(userId)
    const entries = await this.redis.hgetall(index)
    const ids = Object.keys(entries)
    if (ids.length === 0) return []
    const records = await Promise.all(ids.map((id) => this.redis.hgetall(this.keys.session(entries[id] as string))))
    const live: SessionRecord[] = []
    const dead: string[] = []
    records.forEach((r, i) => {
      if (r.id) live.push(r as unknown as SessionRecord)
      else dead.push(ids[i] as string)
    })
    if (dead.length) await this.redis.hdel(index, ...dead)
    return live.sort((a, b) => Number(b.lastSeenAt) - Number(a.lastSeenAt))
  }

  /** Ends one of the user's sessions. False when the user has no session with that id. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const hash = await this.tokenHashOf(userId, sessionId)
    if (!hash) return false
    return (await this.revokeEntries(userId, [[sessionId, hash]])).length === 1
  }

  /** Ends every session of the user; returns their ids. */
  async revokeAll(userId: string): Promise<string[]> {
    const out: string[] = []
    // bounded: a login racing the revocation adds at most a few entries per pass
    for (let pass = 0; pass < 10; pass++) {
      const entries = Object.entries(await this.redis.hgetall(this.keys.userSessions(userId)))
      if (entries.length === 0) break
      out.push(...(await this.revokeEntries(userId, entries)))
    }
    return out
  }

  private async revokeEntries(userId: string, entries: [string, string][]): Promise<string[]> {
    const keys = [this.keys.userSessions(userId), ...entries.map(([, h]) => this.keys.session(h))]
    return (await this.redis.heraldSessionRevoke(
      keys.length,
      ...keys,
      ...entries.map(([id]) => id),
      ...entries.map(([, h]) => h),
    )) as string[]
  }

  /** Copies a new nickname into every live session of the user (pages read it from the session). */
  async setNickname(userId: string, nickname: string): Promise<void> {
    const entries = await this.redis.hgetall(this.keys.userSessions(userId))
    await Promise.all(Object.values(entries).map((h) => this.redis.heraldSessionRename(this.keys.session(h), nickname)))
  }
}
