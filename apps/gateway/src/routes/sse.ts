import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { SseSink } from '../sse'
import { originCheck } from './origin'
import { ConnectQuery } from './ws'

export interface SseRouteOptions {
  /** empty: any Origin */
  allowedOrigins: Set<string>
  /** the `retry:` hint: how long an EventSource waits before it reconnects on its own */
  retryMs: number
  /** streams open on this replica */
  streams: { inc(): void; dec(): void }
}

const Headers = Type.Object({
  /** what an EventSource sends when it reconnects: the `id:` of the last event, i.e. a cursor */
  'last-event-id': Type.Optional(Type.String({ maxLength: 64 })),
})

/**
 * `GET /sse?ticket=…[&since=…]` (or `Authorization: Bearer <session token>`): the same
 * connection as `/ws` over Server-Sent Events, for networks that block WebSockets. A bad
 * query or a foreign Origin is an HTTP error; once the stream is open everything else —
 * bad ticket, overload, drain, logout — is an `event: close` with the WebSocket close code,
 * then the end of the stream, exactly as a socket would be closed. `Last-Event-ID` (sent by
 * an EventSource that reconnects) wins over `since`: it is the newer of the two.
 */
export async function sseRoutes(app: FastifyInstance, opts: SseRouteOptions): Promise<void> {
  app.get<{ Querystring: { ticket?: string; since?: string }; Headers: { 'last-event-id'?: string } }>(
    '/sse',
    {
      // a HEAD would burn the ticket for nothing
      exposeHeadRoute: false,
      schema: { querystring: ConnectQuery, headers: Headers },
      onRequest: originCheck(opts.allowedOrigins),
    },
    (request, reply) => {
      const { ticket } = request.query
      const since = request.headers['last-event-id'] ?? request.query.since
      // the headers set so far (CORS, security headers) would be lost with the reply's own send
      const headers = reply.getHeaders()
      reply.hijack()
      const sink = new SseSink(reply.raw, opts.retryMs, headers)
      opts.streams.inc()
      sink.onClose(() => opts.streams.dec())
      app.gateway.accept(sink, {
        ...(ticket ? { ticket } : {}),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(since !== undefined ? { since } : {}),
      })
    },
  )
}
