import { TICKET_AUDIENCE, TICKET_TTL_SECONDS } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { hashToken, type SessionStore, tokenFromHeader } from '@herald/service-kit'

export interface Identity {
  userId: string
  sessionId: string
  device: string
  /** SHA-256 of the session token, for the periodic refresh */
  tokenHash: string
}

export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: string }

/** Verifies a ticket's signature, algorithm, audience and expiry; throws when any is wrong. */
export type TicketVerifier = (ticket: string) => unknown

export interface AuthenticatorDeps {
  redis: RedisClient
  keys: Keys
  sessions: SessionStore
  verifyTicket: TicketVerifier
}

const CLAIM_RE = /^[A-Za-z0-9_-]{1,64}$/
const JTI_RE = /^[A-Za-z0-9_.:-]{8,128}$/

function claim(v: unknown, re: RegExp): string | null {
  return typeof v === 'string' && re.test(v) ? v : null
}

/**
 * Who is opening a socket: a single-use ticket (browsers) or a session token (other
 * clients). Either way the session must still exist, and it is refreshed on the way.
 */
export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  async fromTicket(ticket: string, now = Date.now()): Promise<AuthResult> {
    let claims: Record<string, unknown>
    try {
      claims = this.deps.verifyTicket(ticket) as Record<string, unknown>
    } catch {
      return { ok: false, reason: 'invalid ticket' }
    }
    const sub = claim(claims.sub, CLAIM_RE)
    const sid = claim(claims.sid, CLAIM_RE)
    const jti = claim(claims.jti, JTI_RE)
    const exp = typeof claims.exp === 'number' ? claims.exp : 0
    if (!sub || !sid || !jti || claims.aud !== TICKET_AUDIENCE) return { ok: false, reason: 'invalid ticket' }
    // a ticket signed to live longer than a ticket may is not one auth issued
    if (exp * 1000 > now + (TICKET_TTL_SECONDS + 5) * 1000) return { ok: false, reason: 'invalid ticket' }

    // The burn decides: of two concurrent uses on any replicas, exactly one wins. The session is
    // checked (and its expiry slid) in the same round trip; a ticket refused as used may so
    // slide it too, as its holder could by using it within its minute of life.
    const ttl = Math.max(1, Math.ceil(exp - now / 1000) + 5)
    const [burned, session] = await Promise.all([
      this.deps.redis.set(this.deps.keys.ticketUsed(jti), '1', 'EX', ttl, 'NX'),
      this.deps.sessions.touchById(sub, sid, now),
    ])
    if (burned !== 'OK') return { ok: false, reason: 'ticket already used' }
    if (!session || session.record.userId !== sub || session.record.id !== sid)
      return { ok: false, reason: 'session ended' }
    const { record, tokenHash } = session
    return { ok: true, identity: { userId: sub, sessionId: sid, device: record.device ?? '', tokenHash } }
  }

  async fromAuthorization(header: string, now = Date.now()): Promise<AuthResult> {
    const token = tokenFromHeader(header)
    if (!token) return { ok: false, reason: 'invalid session token' }
    const record = await this.deps.sessions.touch(token, now)
    if (!record) return { ok: false, reason: 'invalid session token' }
    return {
      ok: true,
      identity: {
        userId: record.userId,
        sessionId: record.id,
        device: record.device ?? '',
        tokenHash: hashToken(token),
      },
    }
  }
}
