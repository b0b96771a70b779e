import jwt, { type TokenOrHeader } from '@fastify/jwt'
import type { Scope, ServiceClaims } from '@herald/contracts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { RevocationList } from '../domain/revocations'
import { VerifiedTokens } from '../domain/verified-tokens'
import { NotifierErrors } from '../errors'
import { kidOf } from '../service-token'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: ServiceClaims
    user: ServiceClaims
  }
}

export interface ServiceAuthOptions {
  /** SERVICE_JWT_SECRET: signs nothing here, verifies tokens whose `kid` names it (or that have none) */
  secret: string
  /** SERVICE_JWT_PREVIOUS_SECRET during a rotation: verifies tokens whose `kid` names it */
  previousSecret?: string
  audience: string
  /** longest accepted `exp` − `iat` */
  maxTtlSeconds: number
  revocations: RevocationList
}

declare module 'fastify' {
  interface FastifyInstance {
    serviceTokens: { maxTtlSeconds: number; revocations: RevocationList; verified: VerifiedTokens }
  }
}

/**
 * Service tokens: HS256 JWTs with `sub`, `aud`, `iat`, `exp`, `jti` and `scope`. Algorithm and
 * audience are pinned on verification, so `alg: none`, other algorithms and tokens minted for
 * another audience are refused. Two secrets may be active during a rotation; the token's
 * `kid` picks one (a token without `kid` is checked with the current secret).
 */
export const serviceAuthPlugin = fp<ServiceAuthOptions>(
  async (app: FastifyInstance, opts) => {
    const byKid = new Map([[kidOf(opts.secret), opts.secret]])
    if (opts.previousSecret) byKid.set(kidOf(opts.previousSecret), opts.previousSecret)
    await app.register(jwt, {
      secret: async (_request: FastifyRequest, token: TokenOrHeader) => {
        const kid: unknown = 'header' in token ? token.header.kid : token.kid
        if (kid === undefined) return opts.secret
        const key = typeof kid === 'string' ? byKid.get(kid) : undefined
        if (!key) throw new Error('unknown kid')
        return key
      },
      decode: { complete: true },
      sign: { algorithm: 'HS256', aud: opts.audience },
      verify: {
        algorithms: ['HS256'],
        allowedAud: opts.audience,
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti'],
      },
    })
    app.decorate('serviceTokens', {
      maxTtlSeconds: opts.maxTtlSeconds,
      revocations: opts.revocations,
      verified: new VerifiedTokens(),
    })
  },
  { fastify: '5.x', name: 'herald-service-auth' },
)

function scopesOf(claims: ServiceClaims): Set<string> {
  return new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [])
}

/** onRequest hook of a `/v1` route: 401 without a valid service token, 403 without `scope`. */
export function requireScope(scope: Scope) {
  return async function checkScope(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const { maxTtlSeconds, revocations, verified } = request.server.serviceTokens
    const authorization = request.headers.authorization
    let claims = authorization ? verified.get(authorization) : undefined
    if (claims) request.user = claims
    else {
      try {
        claims = await request.jwtVerify<ServiceClaims>()
      } catch (err) {
        request.log.debug({ reason: (err as Error).message }, 'service token refused')
        throw new NotifierErrors.Unauthorized()
      }
      if (typeof claims.sub !== 'string' || claims.sub === '' || claims.sub.length > 128)
        throw new NotifierErrors.Unauthorized()
      // a token minted to live longer than allowed is refused whatever its exp says
      if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > maxTtlSeconds)
        throw new NotifierErrors.Unauthorized()
      if (authorization) verified.set(authorization, claims)
    }
    if (typeof claims.jti !== 'string' || (await revocations.isRevoked(claims.jti)))
      throw new NotifierErrors.Unauthorized()
    if (!scopesOf(claims).has(scope)) throw new NotifierErrors.InsufficientScope(scope)
  }
}

export function callerOf(request: FastifyRequest): string {
  return request.user.sub
}
