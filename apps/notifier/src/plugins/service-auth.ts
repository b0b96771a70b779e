import jwt from '@fastify/jwt'
import type { Scope, ServiceClaims } from '@herald/contracts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { NotifierErrors } from '../errors'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: ServiceClaims
    user: ServiceClaims
  }
}

export interface ServiceAuthOptions {
  secret: string
  audience: string
}

/**
 * Service tokens: HS256 JWTs with `sub`, `aud`, `exp` and `scope`. Algorithm and audience
 * are pinned on verification, so `alg: none`, other algorithms and tokens minted for
 * another audience are refused.
 */
export const serviceAuthPlugin = fp<ServiceAuthOptions>(
  async (app: FastifyInstance, opts) => {
    await app.register(jwt, {
      secret: opts.secret,
      sign: { algorithm: 'HS256', aud: opts.audience },
      verify: {
        algorithms: ['HS256'],
        allowedAud: opts.audience,
        requiredClaims: ['sub', 'aud', 'exp'],
      },
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
    let claims: ServiceClaims
    try {
      claims = await request.jwtVerify<ServiceClaims>()
    } catch (err) {
      request.log.debug({ reason: (err as Error).message }, 'service token refused')
      throw new NotifierErrors.Unauthorized()
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new NotifierErrors.Unauthorized()
    if (!scopesOf(claims).has(scope)) throw new NotifierErrors.InsufficientScope(scope)
  }
}

export function callerOf(request: FastifyRequest): string {
  return request.user.sub
}
