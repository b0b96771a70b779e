import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { WsSink } from '../sink'
import { originCheck } from './origin'

export interface WsRouteOptions {
  /** empty: any Origin */
  allowedOrigins: Set<string>
}

export const ConnectQuery = Type.Object({
  ticket: Type.Optional(Type.String({ maxLength: 4096 })),
  since: Type.Optional(Type.String({ maxLength: 64 })),
})

/**
 * `GET /ws?ticket=…[&since=…]` (or `Authorization: Bearer <session token>`).
 * A foreign Origin is refused with a plain 403 before any upgrade. Everything else — bad
 * ticket (4401), overload (1013), drain (1012) — is answered with a close code after the
 * upgrade, because that is all a browser's WebSocket can see.
 */
export async function wsRoutes(app: FastifyInstance, opts: WsRouteOptions): Promise<void> {
  app.get<{ Querystring: { ticket?: string; since?: string } }>(
    '/ws',
    { websocket: true, schema: { querystring: ConnectQuery }, onRequest: originCheck(opts.allowedOrigins) },
    (socket, request) => {
      const { ticket, since } = request.query
      app.gateway.accept(new WsSink(socket), {
        ...(ticket ? { ticket } : {}),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(since !== undefined ? { since } : {}),
      })
    },
  )
}
