import { createHash, createHmac, randomBytes } from 'node:crypto'

export interface TokenKey {
  secret: string
  audience: string
}

/**
 * The `kid` of a secret: a short fingerprint that tells the notifier which of its two
 * active secrets (SERVICE_JWT_SECRET, SERVICE_JWT_PREVIOUS_SECRET) signed a token, so a
 * secret can be rotated without a moment where the tokens of either are refused.
 */
export function kidOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 12)
}

export interface TokenRequest {
  sub: string
  /** space-separated */
  scope: string
  ttlSeconds: number
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** The longest life a service token may have; the notifier refuses longer ones. */
export const MAX_TOKEN_TTL_SECONDS = 365 * 86_400

/** `90`, `90s`, `15m`, `12h`, `30d` → seconds, at most MAX_TOKEN_TTL_SECONDS. */
export function parseTtl(ttl: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(ttl.trim())
  if (!m) throw new Error(`invalid --ttl "${ttl}": use e.g. 3600, 15m, 12h or 30d`)
  const n = Number(m[1]) * (UNITS[m[2] || 's'] as number)
  if (n <= 0) throw new Error('--ttl must be positive')
  if (n > MAX_TOKEN_TTL_SECONDS) throw new Error(`--ttl ${ttl} is longer than the maximum, 365d`)
  return n
}

/**
 * An HS256 service token, exactly what the notifier verifies: `kid` in the header; `sub`,
 * `aud`, `scope`, `iat`, `exp` and a random `jti` (what a revocation names) in the payload.
 */
export function signServiceToken(key: TokenKey, req: TokenRequest, now = Date.now()): string {
  const iat = Math.floor(now / 1000)
  const header = { alg: 'HS256', typ: 'JWT', kid: kidOf(key.secret) }
  const payload = {
    sub: req.sub,
    aud: key.audience,
    scope: req.scope.trim(),
    iat,
    exp: iat + req.ttlSeconds,
    jti: randomBytes(16).toString('base64url'),
  }
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const body = `${enc(header)}.${enc(payload)}`
  const sig = createHmac('sha256', key.secret).update(body).digest('base64url')
  return `${body}.${sig}`
}
