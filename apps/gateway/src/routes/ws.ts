import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { WebSocket } from 'ws'
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
/** An established socket's error (a client gone without a close, a protocol error): it is cut, and its close handler cleans up. */
function onSocketError(this: WebSocket): void {
  this.terminate()
}

/**
 * Lets go of what the upgrade's HTTP exchange left tied to the socket for its whole life: the
 * response object Node assigned to it (and through it the request, Fastify's request and reply,
 * their logger, headers and query), and @fastify/websocket's error listener, which closes over
 * the request and the reply.
 */
function releaseUpgrade(socket: WebSocket, raw: Socket): void {
  const res = (raw as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  res?.detachSocket(raw)
  socket.removeAllListeners('error')
  socket.on('error', onSocketError)
}

export async function wsRoutes(app: FastifyInstance, opts: WsRouteOptions): Promise<void> {
  app.get<{ Querystring: { ticket?: string; since?: string } }>(
    '/ws',
    { websocket: true, schema: { querystring: ConnectQuery }, onRequest: originCheck(opts.allowedOrigins) },
    (socket, request) => {
      releaseUpgrade(socket, request.raw.socket)
      const { ticket, since } = request.query
      app.gateway.accept(new WsSink(socket), {
        ...(ticket ? { ticket } : {}),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(since !== undefined ? { since } : {}),
      })
    },
  )
}
