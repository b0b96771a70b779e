import { ClientFrame, ErrorResponse } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import { requireSession, type SessionStore, sessionAuthPlugin } from '@herald/service-kit'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { applyClientFrame } from '../frames'

export interface FramesRouteOptions {
  inbox: Inbox
  sessions: SessionStore
}

/**
 * `POST /sse/frames` with `Authorization: Bearer <session token>` and one client frame as
 * the body — `{"type":"ack","ids":[…]}`, `{"type":"read","ids":[…]}` or `{"type":"state",…}` — the frames a
 * WebSocket client sends on its socket, for a client on the event stream (which only reads).
 * Any replica answers (nothing here is about one stream): an ack records the receipt for
 * the session's device, a read or state change reaches the user's other tabs and devices.
 */
export async function framesRoutes(app: FastifyInstance, opts: FramesRouteOptions): Promise<void> {
  await app.register(sessionAuthPlugin, { sessions: opts.sessions })
  app.post<{ Body: ClientFrame }>(
    '/sse/frames',
    {
      preHandler: requireSession,
      schema: {
        body: ClientFrame,
        response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const session = request.session!
      await applyClientFrame(opts.inbox, request.body, { userId: session.userId, sessionId: session.id })
      return reply.status(204).send(null)
    },
  )
}
