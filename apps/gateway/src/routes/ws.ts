import { ErrorCode } from '@herald/contracts'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

export interface WsRouteOptions {
  /** empty: any Origin */
  allowedOrigins: Set<string>
}

const Query = Type.Object({
  ticket: Type.Optional(Type.String({ maxLength: 4096 })),
  since: Type.Optional(Type.String({ maxLength: 64 })),
})

/**
 * `GET /ws?ticket=…[&since=…]` (or `Authorization: Bearer <session token>`).
 * A foreign Origin is refused with a plain 403 before any upgrade (a browser page on
 * another site must not even get a socket). Everything else — bad ticket (4401),
 * overload (1013), drain (1012) — is answered with a close code after the upgrade,
 * because that is all a browser's WebSocket can see.
 */
export async function wsRoutes(app: FastifyInstance, opts: WsRouteOptions): Promise<void> {
  app.get<{ Querystring: { ticket?: string; since?: string } }>(
    '/ws',
    {
      websocket: true,
      schema: { querystring: Query },
      onRequest: async (request, reply) => {
        if (opts.allowedOrigins.size === 0) return
        const origin = request.headers.origin
        // non-browser clients send no Origin; browsers always do
        if (origin === undefined || opts.allowedOrigins.has(origin)) return
        return reply.status(403).send({
          statusCode: 403,
          code: ErrorCode.FORBIDDEN,
          error: 'Forbidden',
          message: 'Origin not allowed',
        })
      },
    },
    (socket, request) => {
      const { ticket, since } = request.query
      app.gateway.accept(socket, {
        ...(ticket ? { ticket } : {}),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(since !== undefined ? { since } : {}),
      })
    },
  )
}
