import jwt from '@fastify/jwt'
import { TICKET_AUDIENCE } from '@herald/contracts'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface TicketPluginOptions {
  secret: string
}

/**
 * Verifies WebSocket tickets: HS256 only, audience pinned, `exp`, `sub`, `sid` and `jti`
 * required. (`app.jwt.sign` exists too; auth is the one that issues tickets.)
 */
export const ticketPlugin = fp<TicketPluginOptions>(
  async (app: FastifyInstance, opts) => {
    await app.register(jwt, {
      secret: opts.secret,
      sign: { algorithm: 'HS256', aud: TICKET_AUDIENCE },
      verify: {
        algorithms: ['HS256'],
        allowedAud: TICKET_AUDIENCE,
        requiredClaims: ['exp', 'sub', 'sid', 'jti', 'aud'],
      },
    })
  },
  { fastify: '5.x', name: 'herald-ticket' },
)
