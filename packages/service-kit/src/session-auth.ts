import type { SessionRecord } from '@herald/contracts'
import { hashToken, type SessionStore, tokenFromHeader } from '@herald/sessions'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { HttpErrors } from './errors'

declare module 'fastify' {
  interface FastifyRequest {
    /** the caller's session when the request carried a valid token (already refreshed) */
    session: SessionRecord | null
    /** SHA-256 of the caller's token (never the token itself) */
    sessionTokenHash: string | null
  }
}

export interface SessionAuthOptions {
  sessions: SessionStore
}

/**
 * Every request that carries a valid session token refreshes it — public routes too —
 * through this one hook. Routes that need a session add `requireSession`.
 */
export const sessionAuthPlugin = fp<SessionAuthOptions>(
  async (app: FastifyInstance, opts) => {
    app.decorateRequest('session', null)
    app.decorateRequest('sessionTokenHash', null)
    app.addHook('onRequest', async (request) => {
      const token = tokenFromHeader(request.headers.authorization)
      if (!token) return
      const record = await opts.sessions.touch(token)
      if (record) {
        request.session = record
        request.sessionTokenHash = hashToken(token)
      }
    })
  },
  { fastify: '5.x', name: 'herald-session-auth' },
)

/** preHandler for routes that need a signed-in user: 401 UNAUTHORIZED otherwise. */
export async function requireSession(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  if (!request.session) throw new HttpErrors.Unauthorized()
}
