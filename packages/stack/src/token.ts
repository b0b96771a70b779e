import { randomBytes } from 'node:crypto'
import { createSigner } from 'fast-jwt'

/**
 * A service token for the notifier's /v1 API (HS256, `sub`, `aud`, space-separated `scope`,
 * `iat`, `exp` and the `jti` a revocation names). No `kid`: the notifier checks a token
 * without one with its current secret.
 */
export function signServiceToken(opts: {
  secret: string
  audience: string
  sub: string
  scope: string
  ttlSeconds?: number
}): string {
  const sign = createSigner({
    key: opts.secret,
    algorithm: 'HS256',
    aud: opts.audience,
    sub: opts.sub,
    expiresIn: (opts.ttlSeconds ?? 30 * 24 * 3600) * 1000,
    jti: randomBytes(16).toString('base64url'),
  })
  return sign({ scope: opts.scope })
}

export const ALL_SCOPES = 'events:write messages:write presence:read users:disconnect stats:read webhooks:write'
