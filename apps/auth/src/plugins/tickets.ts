import { randomUUID } from 'node:crypto'
import jwt from '@fastify/jwt'
import { TICKET_AUDIENCE, TICKET_TTL_SECONDS, type TicketClaims } from '@herald/contracts'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** signs a single-use WebSocket ticket (the gateway burns its jti) */
    issueTicket(userId: string, sessionId: string): string
  }
}

export interface TicketsPluginOptions {
  secret: string
  clock: () => number
}

/** WebSocket tickets: HS256 JWTs for TICKET_AUDIENCE that live TICKET_TTL_SECONDS. */
export const ticketsPlugin = fp<TicketsPluginOptions>(
  async (app: FastifyInstance, opts) => {
    await app.register(jwt, {
      secret: opts.secret,
      sign: { algorithm: 'HS256', aud: TICKET_AUDIENCE, expiresIn: TICKET_TTL_SECONDS },
      verify: { algorithms: ['HS256'], allowedAud: TICKET_AUDIENCE },
    })
    app.decorate('issueTicket', (userId: string, sessionId: string) => {
      const claims: Omit<TicketClaims, 'aud'> = { sub: userId, sid: sessionId, jti: randomUUID() }
      return app.jwt.sign(claims, { clockTimestamp: opts.clock() })
    })
  },
  { fastify: '5.x', name: 'auth-tickets' },
)
